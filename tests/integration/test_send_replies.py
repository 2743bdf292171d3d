"""The sender job (`replies:send`, collectors/jobs/send_replies.py) end to end on a real database
(SQLite, and PostgreSQL when configured) against fakes of each platform's write API.

A mention stored through the real pipeline, a reply composed by the rules, then the job run
until the reply settles, the job's clock (``now``) moved to each due time. For every network and
every fault the fake ends with exactly ONE post, the reply is ``sent`` with the platform's id,
its URL and the hash of the text sent, and each change has its audit event. Nothing goes before
its due time (a run one second early sends nothing); an unclear answer on a network without
idempotency is looked for before anything is sent again, and when nothing can tell the reply
waits for a person, never sent twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from collectors.jobs.send_replies import FIND_DELAY, run_send_replies
from collectors.replies.bluesky import forget_sessions
from collectors.types import RawPost
from config.notifications import NotificationChannel
from config.settings import Settings, SourceConfig
from config.sources import Secret
from models import replies
from models.compose import text_sha256
from models.db import Database
from models.replies import Target
from models.reply_tables import Reply
from models.tables import AuditEvent, Mention, Notification, QueueItem, utcnow
from tests.kit import store_posts
from tests.platform_writes import NETWORKS, FakeBluesky, FakePlatform, FakeReddit, FakeX, source, x
from tests.replay import Reply as Answer

FAULTS = ("none", "429", "500", "late", "drop")
IDEMPOTENT = ("mastodon", "bluesky")  # a repeat is harmless there (Idempotency-Key, record key)
TEXT = "Hello, we are sorry about your card & we are on it: https://aurelia.example/help"
OPS = NotificationChannel("ops", Secret("json://127.0.0.1:9/hook"), frozenset({"send_failed"}))
TOKENS = ("masto-write-token", "x-user-token", "reddit-user-token", "app-pass-1234", "bsky-access-1")


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    forget_sessions()  # Bluesky sessions are cached per process: each test logs in to its own fake
    yield
    forget_sessions()


@pytest.fixture(params=sorted(NETWORKS))
def network(request: pytest.FixtureRequest) -> Iterator[tuple[str, FakePlatform, SourceConfig, str]]:
    make_fake, config, target = NETWORKS[request.param]
    fake = make_fake()
    yield request.param, fake, config(fake), target
    fake.close()


def sending(settings: Settings, *sources: SourceConfig, policy: str = "none") -> Settings:
    """Settings answering through ``sources``, with the approval policy ``policy`` everywhere and a
    channel subscribed to ``send_failed``."""
    return replace(settings, sources=sources, notifications=(OPS,),
                   outbound=replace(settings.outbound, default_policy=policy, rules=()))


def mention(db: Database, settings: Settings, cfg: SourceConfig, network: str, external_id: str,
            text: str = "@aurelia Aurelia Bank blocked my card again, I cannot pay anywhere") -> Target:
    """A mention stored by source ``cfg`` through the real pipeline; where a reply to it goes."""
    store_posts(db, settings, [RawPost(external_id, network, text, datetime.now(UTC), None, "@kim", "Kim", 10)],
                source=cfg.name)
    with db.read() as s:
        m = s.scalars(select(Mention).where(Mention.external_id == external_id)).one()
        item = s.scalars(select(QueueItem).where(QueueItem.mention_id == m.id)).one()
        return Target("reply", m.network, cfg.name, item.team, m.brand, m.language, item.id, m.id)


def compose(db: Database, settings: Settings, target: Target, text: str = TEXT) -> int:
    with db.write.begin() as s:
        reply = replies.compose(s, replies.compile_rules(settings), "agent.cs", target, text)
        return reply.id


def load(db: Database, reply_id: int) -> Reply:
    with db.read() as s:
        reply = s.get(Reply, reply_id)
        assert reply is not None
        s.expunge(reply)
        return reply


def actions(db: Database, reply_id: int) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"reply:{reply_id}")
                              .order_by(AuditEvent.id)))


def send_failed(db: Database) -> list[Notification]:
    with db.read() as s:
        rows = list(s.scalars(select(Notification).where(Notification.event == "send_failed")))
        s.expunge_all()
        return rows


def settle(db: Database, settings: Settings, reply_id: int, fakes: tuple[FakePlatform, ...],
           now: datetime | None = None, runs: int = 8) -> Reply:
    """Run the job until the reply leaves the queue; between runs the clock moves to the reply's
    due time, after checking that a run one second before it sends nothing."""
    now = now or utcnow()
    for _ in range(runs):
        run_send_replies(db, settings, now=now)
        reply = load(db, reply_id)
        if reply.status not in ("queued", "sending"):
            return reply
        assert reply.status == "queued" and reply.next_attempt_at is not None, reply.status
        written = [len(f.writes()) for f in fakes]
        run_send_replies(db, settings, now=reply.next_attempt_at - timedelta(seconds=1))
        assert [len(f.writes()) for f in fakes] == written, "a request went out before the reply was due"
        assert load(db, reply_id).status == "queued"
        now = reply.next_attempt_at
    raise AssertionError(f"reply {reply_id} still {load(db, reply_id).status} after {runs} runs")


def published_id(name: str, fake: FakePlatform) -> str:
    """The platform's id of the one post on ``fake``, as its writer reports it."""
    post = fake.posts[0]
    if name == "bluesky":
        return f"at://{FakeBluesky.DID}/app.bsky.feed.post/{post['rkey']}"
    return str(post["name"] if name == "reddit" else post["id"])


# -- every network, every fault: one post, the reply sent, its trail complete ----------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_ends_with_one_post_and_a_sent_reply(db: Database, settings: Settings, fault: str,
                                                         network: tuple[str, FakePlatform, SourceConfig, str]) -> None:
    name, fake, cfg, target = network
    settings = sending(settings, cfg)
    reply_id = compose(db, settings, mention(db, settings, cfg, name, target))
    assert load(db, reply_id).status == "queued"
    if fault != "none":
        fake.inject(fault)

    reply = settle(db, settings, reply_id, (fake,))

    assert reply.status == "sent", (reply.status, reply.last_error)
    assert len(fake.posts) == 1
    assert reply.platform_id == published_id(name, fake)
    assert reply.platform_url and reply.platform_url.startswith("https://")
    assert reply.sent_sha256 == reply.text_sha256 == text_sha256(reply.text)
    assert reply.approved_sha256 is None and not reply.needs_approval  # policy none: nothing to approve
    assert reply.last_error is None and not reply.check_first
    if fault == "none":
        middle: list[str] = []
    elif fault == "429":
        middle = ["reply.retry", "reply.sending"]  # rate limited: certainly not posted
    else:
        # an unclear answer: the next attempt looks first, unless the platform's idempotency
        # (Mastodon's key within its hour, Bluesky's record key) makes a repeat harmless then
        middle = ["reply.check_later", "reply.sending"]
    assert actions(db, reply_id) == ["reply.compose", "reply.sending", *middle, "reply.sent"]
    writes = fake.writes()
    if fault in ("late", "drop") and name not in IDEMPOTENT:
        assert len(writes) == 1, "sent again on a network without idempotency"
    else:
        assert len(writes) == (1 if fault == "none" else 2)
    assert send_failed(db) == []


@pytest.mark.parametrize("fault", ["500", "late", "drop"])
def test_without_idempotency_the_post_is_looked_for_a_minute_later_before_any_second_request(
        db: Database, settings: Settings, fault: str) -> None:
    for name in ("x", "reddit"):
        make_fake, config, target = NETWORKS[name]
        fake = make_fake()
        try:
            cfg = config(fake)
            here = sending(settings, cfg)
            reply_id = compose(db, here, mention(db, here, cfg, name, target, f"@aurelia Aurelia Bank help {name}"))
            fake.inject(fault)
            start = utcnow()
            run_send_replies(db, here, now=start)
            first = load(db, reply_id)
            assert first.status == "queued" and first.check_first and first.last_error
            assert first.next_attempt_at is not None and first.next_attempt_at >= start + FIND_DELAY
            assert fake.token not in first.last_error
            reply = settle(db, here, reply_id, (fake,), now=first.next_attempt_at)
            assert reply.status == "sent" and len(fake.posts) == 1
            requests = [(r.method, r.path) for r in fake.server.requests]
            looked = requests.index(("GET", fake.TIMELINE))
            assert ("POST", fake.WRITE_PATH) not in requests[1:looked], requests  # nothing sent before looking
            assert len(fake.writes()) == (2 if fault == "500" else 1)  # a 500 published nothing: sent again
        finally:
            fake.close()


def test_429_waits_for_retry_after_on_the_real_clock(db: Database, settings: Settings,
                                                     network: tuple[str, FakePlatform, SourceConfig, str]) -> None:
    """The fake's own request times: the second write comes after Retry-After, never before."""
    name, fake, cfg, target = network
    settings = sending(settings, cfg)
    reply_id = compose(db, settings, mention(db, settings, cfg, name, target))
    fake.retry_after = "1"
    fake.inject("429")
    run_send_replies(db, settings)
    limited = load(db, reply_id)
    (first,) = fake.writes()
    assert limited.status == "queued" and limited.next_attempt_at is not None and not limited.check_first
    not_before = limited.next_attempt_at.replace(tzinfo=UTC).timestamp()
    assert not_before >= first.at + 1.0 - 0.01  # Retry-After: 1, from when the answer came
    deadline = time.monotonic() + 10
    while load(db, reply_id).status == "queued" and time.monotonic() < deadline:
        run_send_replies(db, settings)  # the sender's real clock, as every 5 s in production
        time.sleep(0.05)
    assert load(db, reply_id).status == "sent"
    first_again, second = fake.writes()
    assert second.at >= not_before
    assert len(fake.posts) == 1


def test_a_5xx_is_repeated_after_a_backoff(db: Database, settings: Settings) -> None:
    make_fake, config, target = NETWORKS["mastodon"]
    fake = make_fake()
    try:
        cfg = config(fake)
        here = sending(settings, cfg)
        reply_id = compose(db, here, mention(db, here, cfg, "mastodon", target))
        fake.inject("500")
        start = utcnow()
        run_send_replies(db, here, now=start)
        reply = load(db, reply_id)
        # marked unclear, but the Idempotency-Key makes the next attempt a harmless repeat (no look-up)
        assert reply.status == "queued" and reply.check_first
        assert reply.next_attempt_at is not None and reply.next_attempt_at >= start + timedelta(seconds=14)
        assert "HTTP 500" in (reply.last_error or "")
        assert settle(db, here, reply_id, (fake,), now=reply.next_attempt_at).status == "sent"
        assert len(fake.posts) == 1
    finally:
        fake.close()


# -- nothing can tell: a person checks, nothing is sent again --------------------------------------

@pytest.mark.parametrize("kind", [FakeX, FakeReddit], ids=["x", "reddit"])
@pytest.mark.parametrize("fault", ["late", "drop"])
def test_when_the_look_up_cannot_tell_the_reply_is_unknown_and_not_sent_again(
        db: Database, settings: Settings, kind: type[FakePlatform], fault: str) -> None:
    name = "x" if kind is FakeX else "reddit"
    make_fake, config, target = NETWORKS[name]
    fake = make_fake()
    try:
        cfg = config(fake)
        here = sending(settings, cfg)
        reply_id = compose(db, here, mention(db, here, cfg, name, target))
        fake.inject(fault)
        fake.server.route(fake.TIMELINE, Answer.json({"error": "Internal server error"}, status=500))
        reply = settle(db, here, reply_id, (fake,))
        assert reply.status == "unknown"
        assert reply.last_error and reply.last_error.startswith("outcome unknown — check")
        assert "check the account" in reply.last_error and fake.token not in reply.last_error
        assert actions(db, reply_id) == ["reply.compose", "reply.sending", "reply.check_later", "reply.sending",
                                         "reply.unknown"]
        assert fake.server.hits(fake.TIMELINE)  # it did look
        later = utcnow()
        for hours in (1, 5, 48):  # later runs leave it to a person
            run_send_replies(db, here, now=later + timedelta(hours=hours))
        assert load(db, reply_id).status == "unknown"
        assert len(fake.writes()) == 1 and len(fake.posts) == 1
        (note,) = send_failed(db)
        assert note.channel == "ops" and "outcome unknown" in note.title and reply.text[:20] in note.body
        assert not any(token in note.body + note.title for token in TOKENS)
    finally:
        fake.close()


# -- a source that cannot send, a text changed after approval --------------------------------------

def test_a_source_without_write_credentials_fails_its_reply_and_the_others_go(db: Database,
                                                                               settings: Settings) -> None:
    fake = FakeX()
    try:
        read_only = source("mastodon", {"instance": "http://127.0.0.1:9", "hashtags": ["aurelia"]},
                           access_token="masto-read-token")
        read_only = replace(read_only, name="mastodon-read-only")
        here = sending(settings, read_only, x(fake))
        cannot = compose(db, here, mention(db, here, read_only, "mastodon", "111"))
        can = compose(db, here, mention(db, here, x(fake), "x", "1850000000000000001",
                                        "@AureliaBank Aurelia Bank app down since this morning"))
        report = run_send_replies(db, here, now=utcnow())
        assert (report.sent, report.failed) == (1, 1)
        failed = load(db, cannot)
        assert failed.status == "failed" and failed.platform_id is None
        assert failed.last_error and "mastodon-read-only cannot send" in failed.last_error
        assert "write credentials" in failed.last_error and "masto-read-token" not in failed.last_error
        assert actions(db, cannot) == ["reply.compose", "reply.sending", "reply.fail"]
        assert load(db, can).status == "sent" and len(fake.posts) == 1
        (note,) = send_failed(db)
        assert "failed" in note.title and "masto-read-token" not in note.body
    finally:
        fake.close()


@pytest.mark.parametrize("changed", ["text", "text and its hash"])
def test_a_text_changed_after_approval_is_refused_never_sent(db: Database, settings: Settings, changed: str) -> None:
    fake = FakeX()
    try:
        cfg = x(fake)
        here = sending(settings, cfg, policy="all")
        reply_id = compose(db, here, mention(db, here, cfg, "x", "1850000000000000001"))
        with db.write.begin() as s:
            assert replies.approve(s, reply_id, "compliance").status == "queued"
            other = "Guaranteed returns, risk-free: switch to our savings plan today."
            values: dict[str, str] = {"text": other}
            if changed != "text":
                values["text_sha256"] = text_sha256(other)
            s.execute(update(Reply).where(Reply.id == reply_id).values(**values))
        for hours in (0, 1, 24):
            run_send_replies(db, here, now=utcnow() + timedelta(hours=hours))
        reply = load(db, reply_id)
        assert reply.status == "failed" and "not the text approved" in (reply.last_error or "")
        assert fake.server.requests == [] and fake.posts == []
        assert actions(db, reply_id) == ["reply.compose", "reply.approve", "reply.refuse"]
        (note,) = send_failed(db)
        assert "failed" in note.title
    finally:
        fake.close()


def test_an_approved_reply_goes_with_the_approved_hash(db: Database, settings: Settings,
                                                       network: tuple[str, FakePlatform, SourceConfig, str]) -> None:
    name, fake, cfg, target = network
    here = sending(settings, cfg, policy="all")
    reply_id = compose(db, here, mention(db, here, cfg, name, target))
    assert load(db, reply_id).status == "pending"
    run_send_replies(db, here, now=utcnow())
    assert fake.server.requests == []  # waiting for approval: nothing goes
    with db.write.begin() as s:
        replies.approve(s, reply_id, "compliance")
    fake.inject("late")
    reply = settle(db, here, reply_id, (fake,))
    assert reply.status == "sent" and len(fake.posts) == 1
    assert reply.sent_sha256 == reply.text_sha256 == reply.approved_sha256 == text_sha256(reply.text)
    assert actions(db, reply_id)[:3] == ["reply.compose", "reply.approve", "reply.sending"]
