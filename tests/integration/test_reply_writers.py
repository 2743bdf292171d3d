"""The reply writers (collectors/replies/) against fakes of each platform's write API.

For each network: the request as the platform documents it (headers, body), the Outcome of
every fault, and the property the outbox job relies on: driven the way the job drives a writer
(uncertain -> send again if idempotent, else find), every fault ends with exactly ONE post."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from collectors.options import check_options
from collectors.replies import WRITERS, Outcome, Outgoing, Writer, answerable, writer_for
from collectors.replies.bluesky import forget_sessions, record_key
from collectors.sources.bluesky import BlueskyOptions
from collectors.types import CollectorError
from config.sources import Secret, SourceConfig
from tests.platform_writes import (
    NETWORKS,
    PARENT,
    ROOT,
    FakeBluesky,
    FakeMastodon,
    FakePlatform,
    FakeReddit,
    FakeX,
    bluesky,
    make_bluesky,
    mastodon,
    reddit,
    source,
    x,
)

KEY = "0123456789abcdef0123456789abcdef"
def out(target: str | None, text: str = "Hello & welcome <3 — we are on it: https://aurelia.example/help",
        kind: str = "reply", **changes: Any) -> Outgoing:
    base = Outgoing(reply_id=7, kind=kind, text=text, idempotency_key=KEY, target_id=target,
                    target_url=None, attempt=1, first_attempt_at=None)
    return replace(base, **changes)


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    forget_sessions()
    yield
    forget_sessions()


@pytest.fixture(params=sorted(NETWORKS))
def network(request: pytest.FixtureRequest) -> Iterator[tuple[FakePlatform, Writer, str]]:
    make_fake, config, target = NETWORKS[request.param]
    fake = make_fake()
    writer = writer_for(config(fake))
    assert writer is not None
    yield fake, writer, target
    writer.close()
    fake.close()


def drive(writer: Writer, first: Outgoing, *, max_attempts: int = 5) -> tuple[Outcome | None, list[str]]:
    """What the outbox job does: send; after "uncertain" send again if idempotent, else find()
    (sent: done; retry: a new attempt; None: a person checks); after "retry" a new attempt."""
    steps: list[str] = []
    current = first
    started = datetime.now(UTC).replace(tzinfo=None)
    for number in range(1, max_attempts + 1):
        current = replace(current, attempt=number, first_attempt_at=None if number == 1 else started)
        outcome: Outcome | None = writer.send(current)
        steps.append(outcome.state)
        while outcome is not None and outcome.state == "uncertain":
            if writer.idempotent(current, datetime.now(UTC)):
                outcome = writer.send(current)
                steps.append("resend:" + outcome.state)
            else:
                outcome = writer.find(current)
                steps.append("find:" + (outcome.state if outcome else "unknown"))
        if outcome is None or outcome.state in ("sent", "failed"):
            return outcome, steps
    raise AssertionError(f"no end after {max_attempts} attempts: {steps}")


# -- the property: every fault ends with exactly one post -------------------------------------------

@pytest.mark.parametrize("fault", ["none", "429", "500", "late", "drop"])
def test_every_fault_ends_with_exactly_one_post(network: tuple[FakePlatform, Writer, str], fault: str) -> None:
    fake, writer, target = network
    if fault != "none":
        fake.inject(fault)
    outcome, steps = drive(writer, out(target))
    assert outcome is not None and outcome.state == "sent", steps
    assert len(fake.posts) == 1, steps
    assert outcome.url and outcome.url.startswith("https://")


def test_two_faults_in_a_row_still_one_post(network: tuple[FakePlatform, Writer, str]) -> None:
    fake, writer, target = network
    fake.inject("late", "500", "drop")
    outcome, steps = drive(writer, out(target))
    assert outcome is not None and outcome.state == "sent", steps
    assert len(fake.posts) == 1, steps


@pytest.mark.parametrize("fault, state", [("429", "retry"), ("500", "uncertain"), ("late", "uncertain"),
                                          ("drop", "uncertain")])
def test_each_fault_outcome(network: tuple[FakePlatform, Writer, str], fault: str, state: str) -> None:
    fake, writer, target = network
    fake.inject(fault)
    before = datetime.now(UTC)
    outcome = writer.send(out(target))
    assert outcome.state == state, outcome
    assert outcome.error and fake.token not in outcome.error
    if fault == "429":  # Retry-After honoured
        assert outcome.retry_at is not None and outcome.retry_at >= before + timedelta(seconds=4)


def test_a_refused_token_fails_without_showing_it(network: tuple[FakePlatform, Writer, str]) -> None:
    fake, writer, target = network
    if isinstance(fake, FakeBluesky):
        fake.password = "changed-app-password"  # the app password was revoked
    else:
        fake.token = "another-token"  # the platform no longer accepts ours
    outcome = writer.send(out(target))
    assert outcome.state == "failed", outcome
    assert outcome.error and "refused" in outcome.error
    for ours in ("masto-write-token", "x-user-token", "reddit-user-token", "app-pass-1234", "bsky-access-1"):
        assert ours not in outcome.error
    assert fake.posts == []


def test_a_closed_port_is_retry_not_uncertain() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    writer = writer_for(source("mastodon", {"instance": f"http://127.0.0.1:{port}", "hashtags": ["a"]},
                               write_token="t"))
    assert writer is not None
    assert writer.send(out("111")).state == "retry"


# -- the request as each platform documents it -----------------------------------------------------

def test_mastodon_request_and_idempotency_window() -> None:
    fake = FakeMastodon()
    writer = writer_for(mastodon(fake))
    assert writer is not None
    try:
        outcome = writer.send(out("111"))
        (req,) = fake.writes("/api/v1/statuses")
        assert req.headers["authorization"] == "Bearer masto-write-token"
        assert req.headers["idempotency-key"] == KEY
        assert json.loads(req.body) == {"status": out("111").text, "in_reply_to_id": "111"}
        assert outcome == Outcome("sent", fake.posts[0]["id"], fake.posts[0]["url"])
        post = writer.send(out(None, kind="post", idempotency_key="f" * 32))
        assert post.state == "sent" and json.loads(fake.writes("/api/v1/statuses")[1].body) == {
            "status": out("111").text}
        now = datetime.now(UTC)
        first = now.replace(tzinfo=None)
        assert writer.idempotent(out("111", attempt=2, first_attempt_at=first - timedelta(minutes=30)), now)
        assert not writer.idempotent(out("111", attempt=2, first_attempt_at=first - timedelta(minutes=55)), now)
        assert writer.send(out("999", idempotency_key="e" * 32)).state == "failed"  # 404: not on this instance
    finally:
        writer.close()
        fake.close()


def test_mastodon_find_past_the_key_window() -> None:
    """After an hour the key is forgotten: find() sees the status (HTML content compared as text)."""
    fake = FakeMastodon()
    writer = writer_for(mastodon(fake))
    assert writer is not None
    try:
        assert writer.find(out("111")) == Outcome("retry", error="mastodon: the status was not published")
        fake.inject("late")
        assert writer.send(out("111")).state == "uncertain"
        late = out("111", attempt=2, first_attempt_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2))
        assert not writer.idempotent(late, datetime.now(UTC))
        found = writer.find(late)
        assert found is not None and found.state == "sent" and found.platform_id == fake.posts[0]["id"]
    finally:
        writer.close()
        fake.close()


def test_bluesky_request_thread_root_and_fixed_record_key() -> None:
    fake = make_bluesky()
    writer = writer_for(bluesky(fake))
    assert writer is not None
    try:
        outcome = writer.send(out(PARENT))
        (req,) = fake.writes("/xrpc/com.atproto.repo.createRecord")
        body = json.loads(req.body)
        rkey = record_key(KEY)
        assert req.headers["authorization"] == "Bearer bsky-access-1"
        assert body["repo"] == FakeBluesky.DID and body["collection"] == "app.bsky.feed.post"
        assert body["rkey"] == rkey and len(rkey) == 13
        record = body["record"]
        assert record["$type"] == "app.bsky.feed.post" and record["text"] == out(PARENT).text
        assert record["createdAt"].endswith("Z")
        # The parent is itself a reply: the root is its thread's root, not the parent.
        assert record["reply"] == {"root": {"uri": ROOT, "cid": "bafyroot"},
                                   "parent": {"uri": PARENT, "cid": "bafyparent"}}
        assert outcome == Outcome("sent", f"at://{FakeBluesky.DID}/app.bsky.feed.post/{rkey}",
                                  f"https://bsky.app/profile/{FakeBluesky.HANDLE}/post/{rkey}")
        assert writer.send(out(PARENT)) == outcome and len(fake.posts) == 1  # the same key: no second post
        assert writer.find(out(PARENT)) == outcome
        assert writer.find(out(PARENT, idempotency_key="a" * 32)) is not None
        assert writer.find(out(PARENT, idempotency_key="a" * 32)).state == "retry"  # type: ignore[union-attr]
        assert writer.send(out(ROOT, idempotency_key="b" * 32)).state == "sent"  # a root: itself as root
        assert json.loads(fake.writes("/xrpc/com.atproto.repo.createRecord")[-1].body)["record"]["reply"] == {
            "root": {"uri": ROOT, "cid": "bafyroot"}, "parent": {"uri": ROOT, "cid": "bafyroot"}}
        gone = writer.send(out("at://did:plc:x/app.bsky.feed.post/3kgonegonego2", idempotency_key="c" * 32))
        assert gone.state == "failed" and "gone" in (gone.error or "")
        assert fake.logins == 1  # one session for every call
    finally:
        writer.close()
        fake.close()


def test_bluesky_record_keys_are_valid_tids_and_stable() -> None:
    keys = {record_key(f"{i:032x}") for i in range(500)}
    assert len(keys) == 500
    for key in keys:
        assert len(key) == 13 and key[0] in "234567abcdefghij"
        assert set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")
    assert record_key(KEY) == record_key(KEY)


def test_x_request_and_find_through_escapes_and_links() -> None:
    fake = FakeX()
    writer = writer_for(x(fake))
    assert writer is not None
    try:
        outcome = writer.send(out("1850000000000000001"))
        (req,) = fake.writes("/2/tweets")
        assert req.headers["authorization"] == "Bearer x-user-token"
        assert json.loads(req.body) == {"text": out("").text, "reply": {"in_reply_to_tweet_id": "1850000000000000001"}}
        tweet_id = fake.posts[0]["id"]
        assert outcome == Outcome("sent", tweet_id, f"https://x.com/i/web/status/{tweet_id}")
        assert not writer.idempotent(out("1850000000000000001"), datetime.now(UTC))
        # X gives the text back with &amp; and &lt;: still found.
        assert writer.find(out("1850000000000000001")) == outcome
        assert writer.find(out("1850000000000000001", text="another text")).state == "retry"  # type: ignore[union-attr]
        writer.send(out(None, kind="post", text="A new post"))
        assert json.loads(fake.writes("/2/tweets")[1].body) == {"text": "A new post"}
        assert writer.send(out("1")).state == "failed"  # 403: deleted or not visible
    finally:
        writer.close()
        fake.close()


def test_reddit_request_ratelimit_and_errors() -> None:
    fake = FakeReddit()
    writer = writer_for(reddit(fake))
    assert writer is not None
    try:
        fake.inject("ratelimit")
        before = datetime.now(UTC)
        limited = writer.send(out("t3_abc123"))
        assert limited.state == "retry" and limited.retry_at is not None
        assert before + timedelta(minutes=3) <= limited.retry_at <= before + timedelta(minutes=3, seconds=5)
        assert fake.posts == []
        outcome = writer.send(out("t3_abc123"))
        req = fake.writes("/api/comment")[-1]
        assert req.headers["authorization"] == "Bearer reddit-user-token"
        assert req.headers["user-agent"] == "server:vigie-test:v1"
        assert {k: v[0] for k, v in parse_qs(req.body.decode()).items()} == {
            "api_type": "json", "thing_id": "t3_abc123", "text": out("").text}
        assert outcome == Outcome("sent", "t1_k00001", "https://www.reddit.com/r/banking/comments/abc123/_/k00001/")
        deleted = writer.send(out("t3_gone"))
        assert deleted.state == "failed" and "DELETED_LINK" in (deleted.error or "")
        assert not writer.supports_posts and writer.send(out(None, kind="post")).state == "failed"
        assert writer.find(out("t3_abc123")) == outcome
    finally:
        writer.close()
        fake.close()


# -- the registry ----------------------------------------------------------------------------------

def test_answerable_needs_a_writer_and_write_credentials(tmp_path: Path) -> None:
    assert set(WRITERS) == {"bluesky", "demo", "mastodon", "reddit", "x"}
    rss = SourceConfig("news", "rss", 60, True, {"url": "https://example.invalid/feed"})
    assert not answerable(rss) and writer_for(rss) is None
    read_only = source("mastodon", {"instance": "https://m.example", "hashtags": ["a"]}, access_token="r")
    assert not answerable(read_only) and writer_for(read_only) is None
    empty = source("x", {"query": "a"}, bearer_token="b", write_token="")
    assert not answerable(empty)
    no_identifier = SourceConfig("b", "bluesky", 60, False, {"query": "a"}, {"write_password": Secret("p")})
    assert not answerable(no_identifier)
    demo = SourceConfig("demo", "demo", 2, True, {"network_path": str(tmp_path / "n.jsonl")})
    assert answerable(demo)


def test_bluesky_write_identifier_and_password_go_together() -> None:
    with pytest.raises(CollectorError, match="write_identifier and write_password"):
        check_options(source("bluesky", {"query": "a", "write_identifier": "me.bsky.social"}), BlueskyOptions)
    with pytest.raises(CollectorError, match="write_identifier and write_password"):
        check_options(source("bluesky", {"query": "a"}, write_password="p"), BlueskyOptions)
