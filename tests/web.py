"""Helpers for tests of the web app: accounts per role, signing in, crafted Dash requests."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from config.settings import Settings
from models.db import Database
from models.users import add_user

PASSWORD = "correct horse battery"
# One account per role (agents and leads work for customer_service unless named otherwise).
ACCOUNTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ()),
    "lead": ("lead", ("customer_service",)),
    "agent": ("agent", ("customer_service",)),
    "agent2": ("agent", ("customer_service",)),
    "legal-agent": ("agent", ("legal",)),
    "legal-lead": ("lead", ("legal",)),
    "operator": ("operator", ()),
    "compliance": ("compliance", ()),
    "manager": ("manager", ()),
}


def app_server(db: Database, settings: Settings, **env: str) -> Any:
    """A Flask server of its own on ``db`` (as each gunicorn worker is), with these VIGIE_* variables.
    Dash gives the page callbacks to the process's first app only: use it for routes, sign-in and
    headers, not for callbacks."""
    from dataclasses import replace

    from config.auth import parse_auth
    from dashboard.app import create_app
    from tests.conftest import TEST_SECRET

    auth = parse_auth({"VIGIE_SECRET_KEY": TEST_SECRET, **env}, "127.0.0.1", 8050)
    return create_app(replace(settings, auth=auth), db).server


def make_accounts(db: Database, settings: Settings) -> None:
    with db.write.begin() as session:
        for name, (role, teams) in ACCOUNTS.items():
            add_user(session, name, role, teams, PASSWORD, settings.team_keys, actor="test")


def csrf_of(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, next_path: str = "/") -> Any:
    return client.post("/login", data={"csrf": csrf_of(client), "name": name, "password": password,
                                       "next": next_path})


def outputs_of(key: str) -> Any:
    """The ``outputs`` of a Dash request from a callback_map key ("a.b" or "..a.b...c.d..")."""
    def one(part: str) -> dict[str, str]:
        ident, _, prop = part.rpartition(".")
        return {"id": ident, "property": prop.split("@")[0]}

    if key.startswith(".."):
        return [one(p) for p in key.strip(".").split("...")]
    return one(key)


def dash_post(client: FlaskClient, key: str, inputs: list[Any], state: list[dict[str, Any]] | None = None,
              changed: str | None = None) -> Any:
    """POST /_dash-update-component as the browser would, for the callback answering ``key``."""
    body = {"output": key, "outputs": outputs_of(key), "inputs": inputs, "state": state or [],
            "changedPropIds": [changed or f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else []}
    return client.post("/_dash-update-component", json=body)


def spec_inputs(spec: list[dict[str, Any]], values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Inputs or state of a callback_map entry with values (1 where none is given: a click or a tick)."""
    values = values or {}
    out = []
    for item in spec:
        ident = item["id"]
        key = f"{ident}.{item['property']}" if isinstance(ident, str) else item["property"]
        out.append({"id": ident, "property": item["property"], "value": values.get(key, 1)})
    return out


def plain_strings(node: Any) -> list[str]:
    """Every string of a Dash component tree (its JSON), refusing any component that could render
    HTML (Markdown, Iframe, ``dangerously_allow_html``): untrusted text must reach the page as text."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        if node.get("type") in ("Markdown", "Iframe") or "dangerously_allow_html" in (node.get("props") or {}):
            raise AssertionError(f"a component that could render HTML: {node.get('type')}")
        return [s for value in node.values() for s in plain_strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in plain_strings(value)]
    return []


def find_id(node: Any, ident: str) -> Any:
    """The component whose id is ``ident`` in a Dash layout's JSON (None when absent)."""
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict) and node["props"].get("id") == ident:
            return node
        values: list[Any] = list(node.values())
    elif isinstance(node, list):
        values = node
    else:
        return None
    for value in values:
        found = find_id(value, ident)
        if found is not None:
            return found
    return None


def children_text(node: Any) -> list[str]:
    """The text a person reads in a component tree: its children's strings (not ids, links or a
    ``<time>``'s machine value)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for child in node for t in children_text(child)]
    if isinstance(node, dict):
        props = node.get("props")
        return children_text(props.get("children") if isinstance(props, dict) else node.get("children"))
    return []
