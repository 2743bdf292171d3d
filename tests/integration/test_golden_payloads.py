"""Golden files: real platform payloads (or ones in the same documented shape) and what Vigie
must make of them, written by hand.

Each case is a pair under ``tests/fixtures/golden/<kind>/``: ``NAME.<ext>`` is the body exactly
as the platform sends it (``.json``, ``.xml``…), and ``NAME.expected.json`` says, by hand:

    {"about": "what the payload shows and where it comes from",
     "options": {...},            # merged over the connector's test options (optional)
     "posts": [{every RawPost field: external_id, network, text, created_at (ISO, UTC),
                url, author_handle, author_name, author_followers, language_hint, links}],
     "rejected": [{"external_id": ..., "reason": "a part of the reason"}]}

A polled connector fetches the body from a local server at the path its `ConnectorCase`
polls (tests/connector_cases/), through its real `fetch`, then `parse`s the page; a webhook
case is a delivery's body, read through the source's `items` and `parse`. Every field of every
post is compared, in order, so a connector change that alters any stored value shows here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.sources import build_polled_source, build_source
from collectors.types import Parsed
from config.settings import Secret, SourceConfig
from tests.connector_cases import all_cases
from tests.replay import FIXTURES, ReplayServer, Reply

GOLDEN = FIXTURES / "golden"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CASES = {case.kind: case for case in all_cases()}
FIELDS = ("external_id", "network", "text", "created_at", "url", "author_handle", "author_name",
          "author_followers", "language_hint", "links")


def _golden_cases() -> list[Path]:
    return sorted(p for p in GOLDEN.glob("*/*") if p.is_file() and not p.name.endswith(".expected.json")
                  and p.name != "README.md")


def _expected(payload: Path) -> dict[str, Any]:
    path = payload.with_name(payload.name.rsplit(".", 1)[0] + ".expected.json")
    assert path.exists(), f"{payload.relative_to(GOLDEN)} has no {path.name} beside it"
    expected: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for post in expected["posts"]:
        assert set(post) == set(FIELDS), f"{path.name}: a post must give every field: {sorted(set(FIELDS) ^ set(post))}"
    return expected


def _webhook(body: bytes, options: dict[str, Any]) -> Parsed:
    cfg = SourceConfig("golden", "webhook", 60, True, options, {"secret": Secret("s" * 32)})
    source: Any = build_source(cfg)
    return source.parse({"items": source.items(json.loads(body)), "received_at": NOW})


def _polled(kind: str, body: bytes, options: dict[str, Any], replay: ReplayServer) -> Parsed:
    case = CASES[kind]
    case.setup(replay)
    replay.route(case.path, Reply(body=body, content_type=case.content_type))
    cfg = SourceConfig("golden", kind, 60, True, {**case.options(replay.url), "retries": 0, **options},
                       {k: Secret(v) for k, v in case.secrets.items()})
    source = build_polled_source(cfg)
    page = source.fetch(None, NOW)
    return source.parse(page.payload)


def _as_expected(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple):
        return list(value)
    return value


@pytest.mark.parametrize("payload", _golden_cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_payload_is_read_as_written_by_hand(payload: Path, replay: ReplayServer) -> None:
    expected = _expected(payload)
    kind, body, options = payload.parent.name, payload.read_bytes(), expected.get("options", {})
    parsed = _webhook(body, options) if kind == "webhook" else _polled(kind, body, options, replay)
    got = [{k: _as_expected(v) for k, v in asdict(post).items() if k != "raw"} for post in parsed.posts]
    assert got == expected["posts"]
    # each post keeps the platform's item it was read from, for the archive ("as received")
    assert all(isinstance(post.raw, dict) and post.raw for post in parsed.posts)
    rejected = [(r.external_id, r.reason) for r in parsed.rejected]
    assert len(rejected) == len(expected["rejected"]), rejected
    for (external_id, reason), want in zip(rejected, expected["rejected"], strict=True):
        assert external_id == want["external_id"] and want["reason"] in reason, (external_id, reason)



def test_every_connector_kind_has_golden_files() -> None:
    kinds = {p.parent.name for p in _golden_cases()}
    assert kinds >= {"rss", "mastodon", "bluesky", "reddit", "x", "webhook"}, sorted(kinds)
