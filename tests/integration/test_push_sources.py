"""``POST /hooks/<name>`` serves any push kind of the source registry, not just the webhook: a
second push source, with its own verification, registered for the test, through the real app."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from collectors.options import Credential, SourceOptions
from collectors.sources import REGISTRY
from collectors.types import Headers, Parsed, RawPost, Rejected, Unauthorized
from config.settings import Secret, Settings, SourceConfig
from dashboard.context import AppContext
from models.db import Database
from models.tables import Mention, QueueItem, RejectedItem, SourceRow
from tests.conftest import web_settings

TOKEN = "tok-push-test-only-0123456789"


class TokenOptions(SourceOptions):
    """No options; one required credential."""

    credentials: ClassVar[tuple[Credential, ...]] = (Credential("token", "the bearer token", required=True),)


class TokenPush:
    """A push source checked by a bearer token (not the webhook's HMAC): posts under ``posts``."""

    kind: ClassVar[str] = "token-push"
    push: ClassVar[bool] = True
    Options: ClassVar[type[SourceOptions]] = TokenOptions

    def __init__(self, config: SourceConfig, options: SourceOptions | None = None) -> None:
        self._token = config.secrets["token"].reveal()
        self.max_body_bytes = 2000

    def verify(self, headers: Headers, body: bytes, now: datetime) -> None:
        if headers.get("authorization") != f"Bearer {self._token}":  # the route's headers ignore case
            raise Unauthorized("authorization: expected the source's bearer token")

    def items(self, decoded: Any) -> list[Any]:
        if not isinstance(decoded, dict) or not isinstance(decoded.get("posts"), list):
            raise ValueError("expected an object with a list under 'posts'")
        return list(decoded["posts"])

    def parse(self, payload: Any) -> Parsed:
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        for item in payload["items"]:
            if not item.get("text"):
                rejected.append(Rejected(item.get("id"), f"item {item.get('id')!r}: no text", item))
            else:
                posts.append(RawPost(item["id"], "tokenpush", item["text"], payload["received_at"]))
        return Parsed(posts, rejected)


@pytest.fixture
def client(web: Any, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    from dashboard.hooks import EXTENSION, _Hooks

    monkeypatch.setitem(REGISTRY, TokenPush.kind, TokenPush)  # type: ignore[arg-type]
    sources = (
        SourceConfig("pushed", "token-push", 60, True, {}, {"token": Secret(TOKEN)}),
        SourceConfig("pushed-off", "token-push", 60, False, {}, {"token": Secret(TOKEN)}),
        SourceConfig("feed", "rss", 60, True, {"url": "http://127.0.0.1:9/feed.xml"}),
    )
    monkeypatch.setitem(web.server.extensions, "vigie",
                        AppContext(settings=web_settings(replace(settings, sources=sources)), db=db))
    monkeypatch.setitem(web.server.extensions, EXTENSION, _Hooks())  # sources and row ids of this database
    return web.server.test_client()


def _post(client: Any, name: str, body: bytes, token: str | None = TOKEN) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["AUTHORIZATION"] = f"Bearer {token}"
    response = client.post(f"/hooks/{name}", data=body, headers=headers)
    assert response.headers["Content-Type"] == "application/json" and TOKEN not in response.get_data(as_text=True)
    return response.status_code, response.get_json()


BODY = json.dumps({"posts": [
    {"id": "t-1", "text": "I'm going to sue Aurelia Bank, three weeks without my money"},
    {"id": "t-2", "text": "Aurelia app is down again, cannot log in"},
    {"id": "t-3"},
]}).encode()


def test_a_second_push_kind_is_served_through_the_registry(client: Any, db: Database) -> None:
    assert _post(client, "pushed", BODY, token="wrong")[0] == 401
    assert _post(client, "pushed", BODY, token=None)[0] == 401
    with db.read() as s:
        row = s.scalars(select(SourceRow).where(SourceRow.name == "pushed")).one()
        assert s.scalars(select(Mention)).all() == []
    assert (row.kind, row.consecutive_failures, row.last_run_at) == ("token-push", 0, None)
    assert (row.last_error or "").startswith("delivery refused (401): authorization: expected")

    status, answer = _post(client, "pushed", BODY)
    assert (status, answer) == (200, {"stored": 2, "duplicates": 0, "rejected": 1, "queued": 2, "copies": 0})
    # a replay stores nothing twice, and keeps nothing twice: its bad item is a duplicate too (it said
    # "rejected": 1 while keeping no row)
    assert _post(client, "pushed", BODY)[1] == {"stored": 0, "duplicates": 3, "rejected": 0, "queued": 0,
                                                 "copies": 0}
    with db.read() as s:
        stored = {m.external_id: m for m in s.scalars(select(Mention))}
        team = s.scalar(select(QueueItem.team).where(QueueItem.mention_id == stored["t-1"].id))
        kept = s.scalars(select(RejectedItem.external_id)).all()
        row = s.scalars(select(SourceRow).where(SourceRow.name == "pushed")).one()
    assert set(stored) == {"t-1", "t-2"} and stored["t-1"].network == "tokenpush" and team == "legal"
    assert kept == ["t-3"]  # kept once, though delivered twice
    assert (row.items_last_run, row.consecutive_failures, row.cursor) == (0, 0, None)
    assert (row.last_error or "").startswith("1 item(s) rejected (kept in rejected_items): item 't-3': no text")

    assert _post(client, "pushed", b'{"items": []}') == (400, {"error": "no list of items: expected an object "
                                                                        "with a list under 'posts'"})
    assert _post(client, "pushed", b"[" * 2001)[0] == 413
    for name in ("pushed-off", "feed", "nowhere"):  # disabled, polled, unknown
        assert _post(client, name, BODY) == (404, {"error": "no enabled webhook source of that name"})
