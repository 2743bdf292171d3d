"""The webhook source through `vigie serve`: a real server on a local port, signed (and forged)
deliveries over a real socket, into a real SQLite file. The signature check, the settings and the
scheduler without a server: test_webhook_verify.py."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from collectors.sources.webhook import sign, sign_v1
from models.archive_tables import SourcePoll
from models.db import Database, open_database
from models.reconcile import reconcile
from models.tables import Mention, QueueItem, RejectedItem, SourceRow
from tests.kit import config_dir, db_upgrade, vigie_env
from tests.replay import FIXTURES
from tests.support import VIGIE, free_port, wait_for_http

SECRET = "whsec-7Qm2-test-only-s3cr3t-value"
FB_SECRET = "fb-relay-secret-abcdefghijklmnop"
FB_FIELDS = {"external_id": ["comment_id", "post_id"], "text": ["message", "story"], "created_at": "created_time",
             "author_handle": "from.id", "author_name": "from.name", "url": ["permalink_url", "link"]}


@dataclass
class Server:
    port: int
    db: Database
    log: Path

    def post(self, name: str, body: bytes, secret: str = SECRET, ts: int | None = None,
             signature: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        stamp = str(int(time.time()) if ts is None else ts)
        sent = {"Content-Type": "application/json", "X-Vigie-Timestamp": stamp,
                "X-Vigie-Signature": signature if signature is not None else sign(secret, name, stamp, body),
                **(headers or {})}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", f"/hooks/{name}", body=body, headers={k: v for k, v in sent.items() if v})
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        assert SECRET not in raw.decode("utf-8", "replace") and FB_SECRET not in raw.decode("utf-8", "replace")
        assert response.getheader("Content-Type") == "application/json"
        return response.status, json.loads(raw)

    def mentions(self, source: str) -> dict[str, Mention]:
        with self.db.read() as s:
            rows = s.scalars(select(Mention).join(SourceRow).where(SourceRow.name == source)).all()
            return {m.external_id: m for m in rows}

    def row(self, source: str) -> SourceRow:
        with self.db.read() as s:
            return s.scalars(select(SourceRow).where(SourceRow.name == source)).one()


def _hook(name: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "kind": "webhook", "interval_seconds": 60, "secret_env": "VIGIE_TEST_HOOK_SECRET", **options}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `vigie serve` for the module (Dash registers page callbacks globally: one app per process)."""
    tmp = tmp_path_factory.mktemp("webhook")
    (tmp / "fb_secret").write_text(FB_SECRET + "\n")
    fb = {**_hook("fb", network="facebook", items_path="entry.*.changes.*.value", fields=FB_FIELDS),
          "secret_file": str(tmp / "fb_secret")}
    del fb["secret_env"]
    sources = [_hook("relay", network="listening"), _hook("guarded"), _hook("stale"), fb,
               _hook("legacy", accept_v1_until="2099-12-31"), _hook("expired", accept_v1_until=date(2020, 1, 1)),
               _hook("tiny", max_body_mb=0.001), _hook("off", enabled=False),
               {"name": "feed", "kind": "rss", "interval_seconds": 60, "url": "http://127.0.0.1:9/feed.xml"}]
    env = vigie_env(tmp / "vigie.db", config=config_dir(tmp, sources={"sources": sources}), log_level="DEBUG",
                    test_hook_secret=SECRET)
    url = env["DATABASE_URL"]
    db_upgrade(env)
    port = free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=60)
        db = open_database(url)
        yield Server(port, db, log)
        db.engine.dispose()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _items(*items: dict[str, Any]) -> bytes:
    return json.dumps({"items": list(items)}, ensure_ascii=False).encode()


BATCH = _items(
    {"id": "r-1", "text": "I'm going to sue Aurelia Bank, three weeks without my money",
     "created_at": "2026-11-25T08:15:00Z", "author": {"handle": "@jroe", "name": "John Roe", "followers": 120},
     "url": "https://listening.example/p/r-1"},
    {"id": "r-2", "text": "Aurelia app is down again, cannot log in", "created_at": 1795594600,
     "author": {"handle": "@ana"}},
    {"id": "r-3", "text": "Merci Banque Aurelia pour la rapidité du conseiller", "language": "fr",
     "network": "instagram"},
)


def test_signed_batch_is_stored_scored_and_routed(server: Server) -> None:
    status, answer = server.post("relay", BATCH)
    assert status == 200
    assert answer == {"stored": 3, "duplicates": 0, "rejected": 0, "queued": 3, "copies": 0}
    stored = server.mentions("relay")
    assert set(stored) == {"r-1", "r-2", "r-3"}
    sue = stored["r-1"]
    assert (sue.network, sue.author_handle, sue.author_name, sue.author_followers, sue.url) == (
        "listening", "@jroe", "John Roe", 120, "https://listening.example/p/r-1")
    assert sue.created_at == datetime(2026, 11, 25, 8, 15)
    assert stored["r-2"].created_at == datetime(2026, 11, 25, 8, 16, 40)
    assert (stored["r-3"].network, stored["r-3"].language) == ("instagram", "fr")
    with server.db.read() as s:
        team = s.scalar(select(QueueItem.team).where(QueueItem.mention_id == sue.id))
        rule = s.scalar(select(QueueItem.rule_id).where(QueueItem.mention_id == sue.id))
    assert (team, rule) == ("legal", "regulator-or-legal")
    row = server.row("relay")
    assert (row.kind, row.items_last_run, row.consecutive_failures, row.last_error) == ("webhook", 3, 0, None)
    assert row.last_ok_at is not None and row.cursor is None


def test_redelivery_stores_nothing_twice(server: Server) -> None:
    server.post("relay", BATCH)  # whether or not the test above ran
    before = len(server.mentions("relay"))
    status, answer = server.post("relay", BATCH, ts=int(time.time()) - 5)  # re-signed by a retrying sender
    assert status == 200
    assert answer == {"stored": 0, "duplicates": 3, "rejected": 0, "queued": 0, "copies": 0}
    assert len(server.mentions("relay")) == before
    with server.db.read() as s:  # each delivery's counts are kept, and the archive reconciles with them
        relay = server.row("relay").id
        polls = s.execute(select(SourcePoll.returned, SourcePoll.stored, SourcePoll.rejected, SourcePoll.known)
                          .where(SourcePoll.source_id == relay).order_by(SourcePoll.id)).all()
        assert [tuple(p) for p in polls[-1:]] == [(3, 0, 0, 3)] and sum(p[1] for p in polls) == before
        result = reconcile(s)
    assert result.ok, result.summary()


@pytest.mark.parametrize(("forgery", "error"), [
    ("wrong key", "X-Vigie-Signature: signature does not match"),
    ("zeros", "X-Vigie-Signature: signature does not match"),
    ("sha1", "X-Vigie-Signature: expected v2=<64 hex digits>"),
    ("the secret itself", "X-Vigie-Signature: expected v2=<64 hex digits>"),  # not echoed back
    ("none", "missing X-Vigie-Timestamp or X-Vigie-Signature header"),
])
def test_bad_signature_is_refused_and_stores_nothing(server: Server, forgery: str, error: str) -> None:
    body = _items({"id": "forged-1", "text": "Aurelia Bank is insolvent, withdraw everything now"})
    ts = int(time.time())
    signature = {"wrong key": sign("not-the-secret-at-all-0000", "guarded", str(ts), body), "zeros": "v2=" + "0" * 64,
                 "sha1": "sha1=abc", "the secret itself": SECRET, "none": ""}[forgery]
    status, answer = server.post("guarded", body, ts=ts, signature=signature)
    assert (status, answer) == (401, {"error": error})
    assert server.mentions("guarded") == {}
    row = server.row("guarded")  # the first refusal of the minute is shown on the source's health
    assert row.last_error is not None and row.last_error.startswith("delivery refused (401): ")
    assert SECRET not in row.last_error


def test_body_altered_after_signing_is_refused(server: Server) -> None:
    ts = str(int(time.time()))
    good = _items({"id": "alt-1", "text": "Aurelia Bank fees again"})
    tampered = good.replace(b"fees again", b"is a scam!")
    status, _ = server.post("guarded", tampered, ts=int(ts), signature=sign(SECRET, "guarded", ts, good))
    assert status == 401 and "alt-1" not in server.mentions("guarded")


@pytest.mark.parametrize("offset", [-310, 310, -100_000])  # 10 s past the edge: a loaded machine is slow
def test_timestamp_outside_the_tolerance_is_refused(server: Server, offset: int) -> None:
    body = _items({"id": f"late{offset}", "text": "Aurelia Bank card blocked"})
    status, answer = server.post("stale", body, ts=int(time.time()) + offset)  # correctly signed, but old or early
    assert (status, answer) == (401, {"error": "X-Vigie-Timestamp: outside the 300 s tolerance (replay?)"})
    assert f"late{offset}" not in server.mentions("stale")


def test_delivery_signed_for_its_source_is_stored_and_refused_elsewhere(server: Server) -> None:
    body = _items({"id": "v2-1", "text": "Aurelia Bank answered in five minutes"})
    ts = str(int(time.time()))
    for_relay = sign(SECRET, "relay", ts, body)
    assert server.post("relay", body, ts=int(ts), signature=for_relay)[1]["stored"] == 1
    for other in ("guarded", "stale", "legacy"):  # same secret, another source: the signature does not match
        status, answer = server.post(other, body, ts=int(ts), signature=for_relay)
        assert (status, answer) == (401, {"error": "X-Vigie-Signature: signature does not match"})
        assert "v2-1" not in server.mentions(other)


def test_v1_signature_is_accepted_only_where_the_transition_is_open(server: Server) -> None:
    body = _items({"id": "v1-1", "text": "Aurelia Bank branch closed today"})
    ts = str(int(time.time()))
    v1 = sign_v1(SECRET, ts, body)
    for name in ("guarded", "expired"):  # no accept_v1_until, or a day already past
        status, answer = server.post(name, body, ts=int(ts), signature=v1)
        assert status == 401 and answer["error"].startswith("X-Vigie-Signature: the v1 signature (sha256=)")
        assert "v1-1" not in server.mentions(name)
    status, answer = server.post("legacy", body, ts=int(ts), signature=v1)
    assert status == 200 and answer["stored"] == 1 and "v1-1" in server.mentions("legacy")
    server.post("legacy", body, ts=int(ts), signature=v1)  # counted again (a duplicate, stored once)
    row = server.row("legacy")
    assert row.last_error is not None and row.last_error.startswith("2 delivery(ies) since this server process")
    assert "signed v1" in row.last_error and "2099-12-31" in row.last_error and row.consecutive_failures == 0
    time.sleep(0.2)
    assert "hook legacy: a delivery signed v1" in server.log.read_text(encoding="utf-8", errors="replace")


def test_timestamp_inside_the_tolerance_is_accepted(server: Server) -> None:
    status, answer = server.post("stale", _items({"id": "inside", "text": "Aurelia Bank card blocked"}),
                                 ts=int(time.time()) - 250)
    assert status == 200 and answer["stored"] == 1
    assert "inside" in server.mentions("stale")


def test_malformed_items_are_kept_and_the_rest_stored(server: Server) -> None:
    body = _items({"id": "m-1", "text": "Aurelia Bank outage in Lyon"}, {"id": "m-2"}, "not an object",
                  {"id": "m-3", "text": "ok", "created_at": "yesterday-ish"}, {"id": "m-4", "text": "Aurelia ok now"})
    status, answer = server.post("relay", body)
    assert status == 200
    assert (answer["stored"], answer["rejected"]) == (2, 3)
    assert {"m-1", "m-4"} <= set(server.mentions("relay")) and "m-2" not in server.mentions("relay")
    relay_id = server.row("relay").id
    with server.db.read() as s:
        kept = {r.reason: json.loads(r.raw) for r in s.scalars(select(RejectedItem).where(
            RejectedItem.source_id == relay_id))}
    assert kept["item 'm-2': no text: text missing or empty"] == {"id": "m-2"}
    assert kept["item is a string, not an object"] == "not an object"
    assert kept["item 'm-3': created_at: Invalid isoformat string: 'yesterday-ish'"]["id"] == "m-3"
    assert "3 item(s) rejected (kept in rejected_items)" in (server.row("relay").last_error or "")
    status, answer = server.post("relay", body)  # redelivered: bad items are not kept twice
    assert answer["stored"] == 0
    with server.db.read() as s:
        assert len(s.scalars(select(RejectedItem).where(RejectedItem.source_id == relay_id)).all()) == len(kept)


def test_body_too_large_is_refused(server: Server) -> None:
    big = _items({"id": "big", "text": "x" * 2000})
    status, answer = server.post("tiny", big)
    assert (status, answer) == (413, {"error": "body larger than 1048 bytes"})
    status, _ = server.post("tiny", _items({"id": "small", "text": "Aurelia ok"}))
    assert status == 200
    assert set(server.mentions("tiny")) == {"small"}


def test_chunked_body_too_large_is_refused(server: Server) -> None:
    """No Content-Length: the server reads at most max_body_mb + 1 byte."""
    body = _items({"id": "chunked", "text": "y" * 5000})
    ts = str(int(time.time()))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", "/hooks/tiny", body=iter([body[:1000], body[1000:]]), encode_chunked=True,
                     headers={"X-Vigie-Timestamp": ts, "X-Vigie-Signature": sign(SECRET, "tiny", ts, body),
                              "Transfer-Encoding": "chunked"})
        response = conn.getresponse()
        assert response.status == 413 and json.loads(response.read())["error"].startswith("body larger than")
    finally:
        conn.close()
    assert "chunked" not in server.mentions("tiny")


@pytest.mark.parametrize(("body", "error"), [
    (b"items=1&text=hello", "body is not JSON: Expecting value: line 1 column 1 (char 0)"),
    (b'{"items": [', "body is not JSON: Expecting value: line 1 column 12 (char 11)"),
    (b"\xff\xfe\x00garbage", "body is not JSON: "),
    (b'{"posts": []}', "no list of items: items: not found in an object"),
    (b'{"items": {"id": 1}}', "no list of items: items: expected a list of items, got an object"),
])
def test_not_json_or_wrong_shape_is_a_bad_request(server: Server, body: bytes, error: str) -> None:
    status, answer = server.post("relay", body)
    assert status == 400 and answer["error"].startswith(error)
    assert server.row("relay").last_error == f"delivery refused (400): {answer['error']}"


@pytest.mark.parametrize("name", ["nope", "feed", "off"])
def test_unknown_disabled_or_not_webhook_sources_are_not_found(server: Server, name: str) -> None:
    status, answer = server.post(name, BATCH)
    assert (status, answer) == (404, {"error": "no enabled webhook source of that name"})


def test_facebook_page_payload_is_mapped(server: Server) -> None:
    body = (FIXTURES / "webhook/facebook_page.json").read_bytes()
    status, answer = server.post("fb", body, secret=FB_SECRET)
    assert status == 200
    assert (answer["stored"], answer["rejected"]) == (3, 1)  # the reaction has no text
    stored = server.mentions("fb")
    assert set(stored) == {"1029_5501", "5502_9001", "1029_5504"}
    post = stored["1029_5501"]
    assert (post.network, post.author_handle, post.author_name, post.url, post.language) == (
        "facebook", "4412", "Léa Martin", "https://www.facebook.com/1029/posts/5501", "fr")
    assert post.text == "Impossible de me connecter à l'appli Aurelia depuis ce matin 😡 #panne"
    assert post.created_at == datetime(2026, 11, 25, 8, 15)
    assert stored["5502_9001"].created_at == datetime(2026, 11, 25, 8, 16)
    assert stored["1029_5504"].text == "بنك أوريليا أفضل بنك في المدينة 🏦"
    assert stored["1029_5504"].created_at == datetime(2026, 11, 25, 8, 20)
    with server.db.read() as s:
        team = s.scalar(select(QueueItem.team).where(QueueItem.mention_id == stored["5502_9001"].id))
        kept = s.scalars(select(RejectedItem.reason).join(SourceRow).where(SourceRow.name == "fb")).all()
    assert team == "legal"
    assert kept == ["item '1029_5503': no text: message or story missing or empty"]
    status, _ = server.post("fb", body)  # the relay secret of another source does not open this one
    assert status == 401


def test_emoji_rtl_and_long_text_arrive_intact(server: Server) -> None:
    base = "Aurelia Bank 😡🏦👍🏽 خدمة سيئة جدا من بنك أوريليا שירות גרוע 🇫🇷 "
    text = (base * 200)[:9_999].rstrip() + "!"
    text = text + "x" * (10_000 - len(text))
    assert len(text) == 10_000
    status, answer = server.post("relay", _items({"id": "long-1", "text": text}, {"id": "rtl-1", "text": base.strip()}))
    assert status == 200 and answer["stored"] == 2
    stored = server.mentions("relay")
    assert stored["long-1"].text == text
    assert stored["rtl-1"].text == base.strip()


def test_secret_never_appears_in_responses_logs_or_database(server: Server) -> None:
    server.post("guarded", b"{}", signature=SECRET)  # a refusal, logged
    server.post("relay", b"not json")  # a bad request, logged
    server.post("relay", _items({"id": "s-1", "text": "Aurelia Bank ok"}))  # a delivery, logged
    time.sleep(0.2)
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "hook guarded: refused a delivery from 127.0.0.1" in log
    assert "hook relay: 1 item(s): " in log
    assert SECRET not in log and FB_SECRET not in log
    with server.db.read() as s:
        errors = " ".join(e or "" for e in s.scalars(select(SourceRow.last_error)))
    assert "delivery refused" in errors and SECRET not in errors
