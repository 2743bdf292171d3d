"""Issue 19's reproductions: hostile items as they were sent (JSON text), each with what Vigie must
make of it, written by hand. Shared by the mapping, import and webhook tests.

A stored case names the values the stored mention must have; a rejected case names a part of the
reason kept in `rejected_items`. Valid posts (``v-…``) are mixed in between.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from collectors.sources.webhook import sign
from config.settings import Secret, Settings, SourceConfig
from dashboard.context import AppContext
from models.db import Database
from tests.conftest import web_settings

HOOK_SECRET = "hostile-secret-0123456789abcdef"
DEEP = "[" * 985 + "]" * 985
HUGE = "5" * 5000


@dataclass(frozen=True)
class Case:
    name: str
    line: str  # the item as JSON text, exactly as sent
    stored: dict[str, Any] | None = None  # mention columns expected when stored
    reason: str | None = None  # a part of the rejection reason when rejected
    id: str | None = None  # the external id it is stored or kept under
    extra: dict[str, Any] = field(default_factory=dict)


def _valid(n: int) -> Case:
    text = f"Aurelia Bank card blocked again, case {n}"
    return Case(f"valid-{n}", json.dumps({"id": f"v-{n}", "text": text, "created_at": "2026-12-01T09:00:00Z"}),
                stored={"text": text}, id=f"v-{n}")


HOSTILE: list[Case] = [
    Case("surrogate-in-text", r'{"id": "h-1", "text": "lone \ud800 Aurelia"}',
         stored={"text": "lone \ufffd Aurelia"}, id="h-1"),
    Case("surrogate-in-author", r'{"id": "h-2", "text": "Aurelia card", "author": {"handle": "bad\udfff", '
                                r'"name": "N\ud800"}}',
         stored={"author_handle": "bad\ufffd", "author_name": "N\ufffd"}, id="h-2"),
    Case("surrogate-in-id", r'{"id": "h-3-\ud800", "text": "Aurelia fees"}', stored={"text": "Aurelia fees"},
         id="h-3-\\ud800"),
    Case("surrogate-in-url", r'{"id": "h-4", "text": "Aurelia link", "url": "https://x.example/\ud800"}',
         stored={"url": "https://x.example/\ufffd"}, id="h-4"),
    Case("time-past-9999-in-utc",
         '{"id": "h-5", "text": "Aurelia future", "created_at": "9999-12-31T23:00:00-05:00"}',
         reason="out of range in UTC", id="h-5"),
    Case("time-before-year-1-in-utc",
         '{"id": "h-6", "text": "Aurelia past", "created_at": "0001-01-01T00:30:00+01:00"}',
         reason="out of range in UTC", id="h-6"),
    Case("followers-5000-digits", '{"id": "h-7", "text": "Aurelia fans", "author": {"followers": ' + HUGE + "}}",
         stored={"author_followers": None}, id="h-7"),
    Case("followers-5000-digit-text",
         '{"id": "h-8", "text": "Aurelia fans too", "author": {"followers": "' + HUGE + '"}}',
         stored={"author_followers": None}, id="h-8"),
    Case("list-985-deep-beside", '{"id": "h-9", "text": "Aurelia app", "extra": ' + DEEP + "}",
         stored={"text": "Aurelia app"}, id="h-9"),
    Case("list-985-deep-as-text", '{"id": "h-10", "text": ' + DEEP + "}", reason="no text: text not a string",
         id="h-10"),
    Case("nul-in-author", r'{"id": "h-11", "text": "Aurelia\u0000 app", "author": {"handle": "a\u0000b", '
                          r'"name": "Na\u0000me"}}',
         stored={"text": "Aurelia app", "author_handle": "ab", "author_name": "Name"}, id="h-11"),
    Case("invisible-only-text", r'{"id": "h-12", "text": "\u200b\u200e\u202e"}', reason="no visible text",
         id="h-12"),
    Case("invisible-only-text-2", r'{"id": "h-13", "text": "\u2060\ufeff"}', reason="no visible text", id="h-13"),
    Case("controls-in-id", r'{"id": "h-14\u0000\u0001", "text": "Aurelia ids"}', stored={"text": "Aurelia ids"},
         id="h-14\\u0000\\u0001"),
    Case("bad-id-first-time", '{"id": "h-15", "lang": "first"}', reason="no text", id="h-15"),
    Case("bad-id-second-time", '{"id": "h-15", "lang": "second"}', reason="no text", id="h-15"),
    Case("stored-id-sent-again-broken", '{"id": "v-1"}', reason="no text", id="v-1"),
]


def mix() -> list[Case]:
    """Valid posts and hostile items in turn: every hostile item has valid neighbours."""
    cases: list[Case] = []
    for n, case in enumerate(HOSTILE, start=1):
        cases.extend([_valid(n), case])
    cases.append(_valid(len(HOSTILE) + 1))
    return cases


def jsonl(cases: list[Case]) -> bytes:
    return "".join(c.line + "\n" for c in cases).encode("utf-8", "surrogatepass")


@pytest.fixture
def hook(web: Any, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A test client of the real app, with one webhook source ``relay`` on this test's database."""
    from dashboard.hooks import EXTENSION, _Hooks

    sources = (SourceConfig("relay", "webhook", 60, True, {"network": "listening"}, {"secret": Secret(HOOK_SECRET)}),)
    monkeypatch.setitem(web.server.extensions, "vigie",
                        AppContext(settings=web_settings(replace(settings, sources=sources)), db=db))
    monkeypatch.setitem(web.server.extensions, EXTENSION, _Hooks())
    return web.server.test_client()


def post(client: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    """``body`` signed and delivered to ``relay``: (status, JSON answer)."""
    stamp = str(int(time.time()))
    response = client.post("/hooks/relay", data=body, headers={
        "Content-Type": "application/json", "X-Vigie-Timestamp": stamp,
        "X-Vigie-Signature": sign(HOOK_SECRET, "relay", stamp, body)})
    assert response.headers["Content-Type"] == "application/json"
    return response.status_code, response.get_json()
