"""Access control: every route and every page against every role, and the roles each page and
callback names. The callbacks' matrix and crafted requests: test_access_callbacks.py.

The matrix walks what the app really registers (Flask's url_map, Dash's callback_map, the
page registry), so a new route, page or callback without a policy fails here by name.
"""

from __future__ import annotations

import re
from typing import Any

import dash
import pytest

from config.settings import Settings
from dashboard.auth.guard import CALLBACK, PAGE, PUBLIC, ROUTE_POLICY, callback_roles, page_roles
from dashboard.auth.policy import ALL_ROLES, KIOSK, SIGNED_IN, can_read_team
from dashboard.components.nav import nav_entry
from models import actions
from models.db import Database
from models.tables import QueueItem
from tests.access import (
    ANON,
    MISSING,
    PAGES_DIR,
    PRINCIPALS,
    ROUTER,
    client_for,
    items_by_team,
    principal_of,
    rendered,
    role_of,
)
from tests.web import ACCOUNTS, dash_post, make_accounts

# Every route open without sign-in, and why it may be (the guard's ROUTE_POLICY must list exactly these).
PUBLIC_ROUTES: dict[str, str] = {
    "_dash_assets.static": "CSS, fonts and scripts of the sign-in page",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "Dash's own scripts",
    "/_favicon.ico": "the icon",
    "vigie_hook": "webhook deliveries: their HMAC signature is their authentication",
    "vigie_login": "the sign-in page",
    "vigie_logout": "signing out (a POST with the CSRF token)",
    "vigie_oidc_start": "single sign-on: off to the provider",
    "vigie_oidc_callback": "single sign-on: back from the provider, its answer checked",
    "vigie_healthz": "load balancers and systemd: says ok, nothing else",
    "vigie_readyz": "load balancers: ready or not and which check failed, no data",
}


def test_the_public_routes_are_exactly_the_listed_ones() -> None:
    public = {endpoint for endpoint, policy in ROUTE_POLICY.items() if policy == PUBLIC}
    assert public == set(PUBLIC_ROUTES), f"public but not listed: {sorted(public - set(PUBLIC_ROUTES))}; " \
                                         f"listed but not public: {sorted(set(PUBLIC_ROUTES) - public)}"


def test_every_route_has_a_policy(web: Any) -> None:
    endpoints = {rule.endpoint for rule in web.server.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTE_POLICY))
    assert not missing, f"routes without an access policy in dashboard/auth/guard.py ROUTE_POLICY: {missing}"


def test_every_page_and_callback_names_its_roles(web: Any) -> None:
    pages_without = [p["module"] for p in dash.page_registry.values() if page_roles(p) is None]
    assert not pages_without, f"pages without roles= in register_page: {pages_without}"
    server_callbacks = [key for key, entry in web.callback_map.items() if "callback" in entry]
    assert len(server_callbacks) >= 10, server_callbacks  # the shared app got the page callbacks
    without = [key for key in server_callbacks if callback_roles(web, key) is None]
    assert not without, f"callbacks without @guarded(...): {without}"


def _sample_path(rule: str) -> str:
    return (rule.replace("<path:path>", "sources").replace("<name>", "nosuchhook")
            .replace("<path:filename>", "vigie.css").replace("<string:package_name>", "dash")
            .replace("<path:fingerprinted_path>", "dash-renderer/build/dash_renderer.min.js"))


@pytest.mark.parametrize("who", PRINCIPALS)
def test_route_matrix(web: Any, db: Database, settings: Settings, who: str) -> None:
    make_accounts(db, settings)
    client = client_for(web, db, who)
    role = role_of(who)
    # Signing out last: it ends the session the other requests use.
    for rule in sorted(web.server.url_map.iter_rules(), key=lambda r: r.endpoint == "vigie_logout"):
        policy = ROUTE_POLICY[rule.endpoint]
        if policy in (PAGE, CALLBACK):
            continue  # below, per page and per callback
        path = _sample_path(rule.rule)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        response = client.open(path, method=method)
        response.get_data()  # a streamed export is read to its end
        response.close()
        if policy == PUBLIC:
            assert response.status_code not in (401, 403), (who, path, response.status_code)
        elif role == ANON:
            assert response.status_code == 401, (who, path, response.status_code)
        elif role in policy:
            assert response.status_code not in (401, 403), (who, path, response.status_code)
        else:
            assert response.status_code == 403, (who, path, response.status_code)
            assert b"vigie" not in response.data.lower().replace(b"vigie_", b""), response.data[:200]


def _walked_paths(db: Database, settings: Settings) -> list[tuple[dict[str, Any], str, str | None]]:
    """Every registered page at a concrete path: (page, path, the team whose items it shows or None).
    A path template's variables get examples here: each team for <team>, each team's item for
    <mention_id> (and one that does not exist); a page with another variable fails by name (give it
    examples below)."""
    items = items_by_team(db, settings)
    with db.read() as s:
        mentions = {team: s.get(QueueItem, item_id).mention_id for team, item_id in items.items()}  # type: ignore[union-attr]
    examples: dict[str, dict[str, str | None]] = {  # {variable: {example value: its team}}
        "team": {team: team for team in settings.team_keys},
        "mention_id": {**{str(mention_id): team for team, mention_id in mentions.items()}, MISSING: None}}
    walked: list[tuple[dict[str, Any], str, str | None]] = []
    for page in dash.page_registry.values():
        template = page.get("path_template")
        variables = re.findall(r"<([^>]+)>", template or "")
        if not variables:
            walked.append((page, page["path"], None))
            continue
        assert len(variables) == 1 and variables[0] in examples, \
            f"page {page['module']}: no example values for {variables} in tests/integration/test_access.py"
        name = variables[0]
        walked += [(page, template.replace(f"<{name}>", value), team) for value, team in examples[name].items()]
    return walked


def _components(node: Any) -> list[tuple[str, dict[str, Any]]]:
    """(type, props) of every component of a Dash layout (its JSON), in document order."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict) and "type" in node:
            found.append((node["type"], node["props"]))
        for value in node.values():
            found += _components(value)
    elif isinstance(node, list):
        for value in node:
            found += _components(value)
    return found


@pytest.mark.parametrize("who", PRINCIPALS)
def test_page_matrix(web: Any, db: Database, settings: Settings, who: str) -> None:
    """Every page of the registry, at each example path, for every principal: what its declared
    roles and team rule say (a new page is walked here without naming it)."""
    make_accounts(db, settings)
    walked = _walked_paths(db, settings)
    client = client_for(web, db, who)
    role, principal = role_of(who), principal_of(who)
    assert {page["module"] for page, _p, _t in walked} == set(dash.page_registry)
    assert {"/", "/sources", "/wall", "/triage", "/audit", "/summary", "/mention/1", "/approvals", "/library",
            "/outbox", "/supervision", "/archive", "/preferences", *(f"/queue/{t}" for t in settings.team_keys)} <= {
        path for page, path, _t in walked}
    for page, path, team in walked:
        response = client.get(path)
        roles = page_roles(page) or ()
        # The guard checks a team named in the path; an item's team is checked by its page's layout.
        path_team = team if "<team>" in (page.get("path_template") or "") else None
        if role == ANON:
            assert response.status_code == 302 and "/login" in response.headers["Location"], (path, response.status)
        elif role in roles and (path_team is None or can_read_team(principal, path_team)):
            assert response.status_code == 200, (who, path, response.status_code)
        else:
            assert response.status_code == 403, (who, path, response.status_code)
            assert response.mimetype == "text/html" and b"access-denied" in response.data  # a page, for a person
        # The page's content comes through Dash's router callback, whose layout checks again.
        built = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                           {"id": "_pages_location", "property": "search", "value": ""}])
        if role == ANON:
            assert built.status_code == 401
        elif role in roles and (team is None or can_read_team(principal, team)):
            assert built.status_code == 200 and b"access-denied" not in built.data, (who, path)
            # ... and it is this page's layout: its title, and its own ids (prefixed by the page's name).
            answer = built.get_json()["response"]
            title = page["title"]() if callable(page["title"]) else page["title"]  # a title per reader: English here
            assert answer["_pages_store"]["data"]["title"] == title, (who, path)
            prefix = page["module"].rsplit(".", 1)[-1] + "-"
            if not path.endswith(f"/{MISSING}"):  # (a missing item: the page says so, with no ids of its own)
                ids = [str(props.get("id")) for _type, props in _components(answer["_pages_content"])]
                assert any(i.startswith(prefix) for i in ids), (who, path)
        else:
            assert b"access-denied" in built.data, (who, path, built.data[:300])


def test_navigation_bar_is_the_registry_pages_the_principal_may_open(web: Any, db: Database,
                                                                     settings: Settings) -> None:
    """The bar's links are the pages declaring a nav entry (one per readable team for a per-team
    page) that the principal may open, by declared order; each one opens for that principal."""
    make_accounts(db, settings)
    for who in PRINCIPALS:
        client = client_for(web, db, who)
        layout = client.get("/_dash-layout")
        if who == ANON:
            assert layout.status_code == 401
            continue
        hrefs = [(props["id"], props["href"]) for kind, props in _components(layout.get_json()) if kind == "NavLink"]
        idents = [ident for ident, _h in hrefs]
        assert len(set(idents)) == len(idents) and all(i.startswith("nav-") for i in idents), idents
        role, principal = role_of(who), principal_of(who)
        assert principal is not None
        expected: list[tuple[int, str]] = []  # (declared order, path); a wall screen has no bar
        for page in dash.page_registry.values():
            entry = nav_entry(page)
            if entry is None or role not in (page_roles(page) or ()) or principal.is_kiosk:
                continue
            if entry.per_team:
                expected += [(entry.order, page["path_template"].replace("<team>", t)) for t in settings.team_keys
                             if can_read_team(principal, t)]
            else:
                expected.append((entry.order, page["path"]))
        assert [h for _i, h in hrefs] == [path for _o, path in sorted(expected, key=lambda e: e[0])], (who, hrefs)
        assert hrefs or role == KIOSK, who  # every person has somewhere to go
        for _ident, href in hrefs:  # nothing in the bar that this principal may not open
            assert client.get(href).status_code == 200, (who, href)
            assert b"access-denied" not in rendered(client, href), (who, href)


def test_every_page_file_registers_a_page_with_roles(web: Any) -> None:
    """A file in dashboard/pages/ that registers no page (so declares no roles) would be walked by nothing."""
    files = {f.stem for f in PAGES_DIR.glob("*.py") if f.stem != "__init__"}
    modules = {module.rsplit(".", 1)[-1] for module in dash.page_registry}  # Dash names them by their folder
    assert files <= modules, f"page files without dash.register_page(..., roles=...): {sorted(files - modules)}"
    assert all(page_roles(p) for p in dash.page_registry.values())


# The outbound pages' callbacks: exactly these roles may run them (the callback matrix, in
# test_access_callbacks.py, checks that the others are refused and change nothing).
OUTBOUND_CALLBACKS = {
    "..approvals-marker.data": ("compliance", "admin"),
    "..library-decide-alert.children": ("compliance", "admin"),
    "..library-save-alert.children": ("lead", "compliance", "admin"),
    "..library-retire-alert.children": ("lead", "compliance", "admin"),
    "library-table.children": ("agent", "lead", "compliance", "admin"),
    "..outbox-marker.data": ("agent", "lead", "compliance", "admin"),
    "..outbox-send-alert.children": ("agent", "lead", "admin"),
    "outbox-preview.children": ("agent", "lead", "admin"),
    "outbox-fields.children": ("agent", "lead", "admin"),
}


# The archive's callbacks: compliance only (it alone may read restricted authors' records).
ARCHIVE_CALLBACKS = {
    "..archive-results.children": ("compliance",),
    "..archive-history.children": ("compliance",),
    "archive-status.children": ("compliance",),
    "..archive-hold-alert.children": ("compliance",),
    "archive-export-result.children": ("compliance",),
}
# Supervision's callbacks: compliance and admins only (whoever reads every team's reviews).
SUPERVISION_CALLBACKS = {
    "..supervision-marker.data": ("compliance", "admin"),
    "supervision-coverage.children": ("compliance", "admin"),
}
# Preferences: every person saves their own (a kiosk screen has none).
PREFERENCES_CALLBACKS = {"..preferences-alert.children": SIGNED_IN}


def test_outbound_callbacks_name_exactly_their_roles(web: Any) -> None:
    for prefix, roles in {**OUTBOUND_CALLBACKS, **ARCHIVE_CALLBACKS, **SUPERVISION_CALLBACKS,
                          **PREFERENCES_CALLBACKS}.items():
        keys = [k for k in web.callback_map if k == prefix or k.startswith(prefix + ".")]
        assert len(keys) == 1, (prefix, keys)
        assert set(callback_roles(web, keys[0]) or ()) == set(roles), prefix


def test_all_roles_are_known() -> None:
    assert set(ALL_ROLES) == {r for r, _t in ACCOUNTS.values()} | {KIOSK}
    assert actions.ActionError  # the lifecycle errors the pages show


# The homes (dashboard/pages/home_*.py): each page and its tick name exactly these roles; / (home.py)
# is every person's, and builds the home of their role (tests/integration/test_homes.py).
HOMES = {
    "/home/agent": ("agent", "admin"),
    "/home/lead": ("lead", "admin"),
    "/home/compliance": ("compliance", "admin"),
    "/home/manager": ("manager", "admin"),
    "/home/admin": ("admin", "operator"),
}


def test_the_homes_and_their_ticks_name_exactly_their_roles(web: Any) -> None:
    pages = {page["path"]: page for page in dash.page_registry.values()}
    for path, roles in HOMES.items():
        assert set(page_roles(pages[path]) or ()) == set(roles), path
        tick = f"..home_{path.rsplit('/', 1)[-1]}-seen.data"
        keys = [k for k in web.callback_map if k.startswith(tick + ".")]
        assert len(keys) == 1, (path, keys)
        assert set(callback_roles(web, keys[0]) or ()) == set(roles), path
    assert set(page_roles(pages["/"]) or ()) == {r for r, _t in ACCOUNTS.values()}
