"""The SLA watch and the notification outbox, against a real local SMTP server and a real
local HTTP webhook receiver (nothing leaves the loopback interface)."""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from collectors.jobs.notify import MAX_ATTEMPTS, deliver_pending
from collectors.jobs.sla_watch import run_sla_watch
from collectors.scheduler import create_scheduler
from config.notifications import parse_notifications
from config.settings import Settings
from i18n import Reader, formats, use_reader
from models import actions
from models.db import Database, open_database
from models.notifications import failed_notifications, pending_count
from models.tables import AuditEvent, Mention, Notification, QueueItem, utcnow
from tests.kit import seed_items
from tests.replay import ReplayServer, Reply
from tests.support import free_port

ALL_EVENTS = ["sla_breach", "critical", "escalation"]


class Inbox:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _items(db: Database, settings: Settings, *texts: str) -> list[int]:
    return seed_items(db, settings, texts, author="@client", author_name="A Client")


def _with_channels(settings: Settings, *channels: dict[str, Any]) -> Settings:
    """Channels parsed as notifications.yaml would be (so Apprise checks each URL form at start)."""
    return replace(settings, notifications=parse_notifications({"channels": list(channels)}, set(settings.team_keys)))


def _rows(db: Database, channel: str) -> list[Notification]:
    with db.read() as s:
        return list(s.scalars(select(Notification).where(Notification.channel == channel).order_by(Notification.id)))


def _retry_until_done(db: Database, settings: Settings, channel: str) -> list[timedelta]:
    """Run the sender at each of the channel's retry times until none is pending; the waits seen."""
    waits: list[timedelta] = []
    for _ in range(MAX_ATTEMPTS + 2):
        pending = [r for r in _rows(db, channel) if r.status == "pending"]
        if not pending:
            return waits
        before = deliver_pending(db, settings, now=pending[0].next_attempt_at)
        assert before.retrying + before.failed >= 1
        after = _rows(db, channel)[0]
        if after.next_attempt_at is not None:
            assert pending[0].next_attempt_at is not None
            waits.append(after.next_attempt_at - pending[0].next_attempt_at)
    raise AssertionError("still pending after every attempt")


def test_sla_watch_escalates_and_every_channel_delivers_once(
    db: Database, settings: Settings, smtp: tuple[Inbox, int], replay: ReplayServer
) -> None:
    inbox, smtp_port = smtp
    replay.route("/hooks/vigie", Reply.json({"ok": True}))
    port = replay.url.rsplit(":", 1)[1]
    s = _with_channels(
        settings,
        {"name": "duty-mail", "url": f"mailto://127.0.0.1:{smtp_port}?from=vigie@example.com&to=duty@example.com",
         "events": ALL_EVENTS},
        {"name": "ops-hook", "url": f"json://127.0.0.1:{port}/hooks/vigie", "events": ["sla_breach", "critical"]},
        {"name": "broken-hook", "url": f"json://127.0.0.1:{port}/status/500", "events": ALL_EVENTS},
    )
    late, critical, calm = _items(
        db, s,
        "@AureliaBank my card got declined again",
        "@AureliaBank someone took my money <b>fraud</b> on my account",
        "@AureliaBank nice new app, thanks",
    )
    with db.write.begin() as session:
        session.execute(update(QueueItem).where(QueueItem.id == late).values(due_at=utcnow() - timedelta(hours=1)))
        ranks = {i: rank for i, rank in session.execute(select(QueueItem.id, QueueItem.priority_rank))}
    assert ranks[critical] == 0 and ranks[late] > 0 and ranks[calm] > 0

    report = run_sla_watch(db, s)
    assert (report.breached, report.critical, report.notifications, report.errors) == (1, 1, 6, [])

    with db.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        items = {i.id: i for i in session.scalars(select(QueueItem))}
        mentions = {m.id: m for m in session.scalars(select(Mention))}
    assert [(e.actor, e.action, e.queue_item_id) for e in events] == [
        ("sla-watch", "escalate", late), ("sla-watch", "escalate", critical)]
    assert events[0].reason is not None and events[0].reason.startswith("SLA breached (due ")
    assert events[1].reason == "critical item" and events[1].after["escalated_at"] is not None
    assert items[calm].escalated_at is None

    delivery = deliver_pending(db, s)
    assert (delivery.sent, delivery.retrying, delivery.failed) == (4, 2, 0)

    # The e-mails: one per event, subject = title, plain text body with the link.
    labels = {t.key: t.label for t in s.teams}

    def title(event: str, item_id: int) -> str:
        mention = mentions[items[item_id].mention_id]
        return f"Vigie: {event} - {labels[items[item_id].team]}, {mention.priority} priority"

    assert [m["subject"] for m in inbox.messages] == [title("SLA breached", late), title("Critical item", critical)]
    assert inbox.messages[0]["to"] == "duty@example.com" and "vigie@example.com" in inbox.messages[0]["from"]
    assert [m.get_content_type() for m in inbox.messages] == ["text/plain"] * 2  # no HTML part at all
    text = inbox.messages[1].get_content()
    assert f"Open in Vigie: {s.auth.public_url}/mention/{items[critical].mention_id}" in text
    assert "Author: @client on x" in text and "<b>fraud</b>" in text  # the post's markup stays literal text

    # The JSON webhook: Apprise's payload, plain text.
    hits = replay.hits("/hooks/vigie")
    payloads = [json.loads(h.body) for h in hits]
    assert [p["title"] for p in payloads] == [title("SLA breached", late), title("Critical item", critical)]
    assert payloads[1]["message"].startswith("A new critical item\nTeam: ")
    assert "Post: @AureliaBank someone took my money <b>fraud</b> on my account" in payloads[1]["message"]
    assert all(h.headers["content-type"].startswith("application/json") for h in hits)

    # The failing channel: retried with a doubling wait, then given up with the reason kept.
    broken = _rows(db, "broken-hook")
    assert [(r.status, r.attempts) for r in broken] == [("pending", 1), ("pending", 1)]
    assert broken[0].last_error is not None and "500" in broken[0].last_error
    waits = _retry_until_done(db, s, "broken-hook")
    assert waits[:4] == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8), timedelta(minutes=16)]
    broken = _rows(db, "broken-hook")
    assert [(r.status, r.attempts, r.sent_at) for r in broken] == [("failed", MAX_ATTEMPTS, None)] * 2
    assert all(r.last_error and "500" in r.last_error for r in broken)
    assert len(replay.hits("/status/500")) == 2 * MAX_ATTEMPTS
    with db.read() as session:
        assert [n.id for n in failed_notifications(session)] == [broken[1].id, broken[0].id]
        assert pending_count(session) == 0

    # A re-run, even much later, escalates and sends nothing twice.
    with db.write.begin() as session:
        actions.resolve(session, calm, "alice")  # else it would breach by then, rightly
    again = run_sla_watch(db, s, now=utcnow() + timedelta(days=30))
    assert (again.breached, again.critical, again.notifications) == (0, 0, 0)
    assert deliver_pending(db, s, now=utcnow() + timedelta(days=30)).sent == 0
    assert len(inbox.messages) == 2 and len(replay.hits("/hooks/vigie")) == 2
    with db.read() as session:
        assert len(session.scalars(select(AuditEvent)).all()) == 3


def test_a_french_channel_reads_french_with_local_times(db: Database, settings: Settings,
                                                        smtp: tuple[Inbox, int]) -> None:
    """Each channel's message is written in its language, its times local (the firm's zone) with
    their offset: the English and the French mailbox get the same alert, each in its words."""
    inbox, port = smtp
    paris = ZoneInfo("Europe/Paris")
    s = _with_channels(
        replace(settings, reporting=replace(settings.reporting, timezone="Europe/Paris")),
        {"name": "astreinte", "url": f"mailto://127.0.0.1:{port}?from=vigie@example.com&to=astreinte@example.com",
         "events": ["sla_breach"], "language": "fr"},
        {"name": "duty", "url": f"mailto://127.0.0.1:{port}?from=vigie@example.com&to=duty@example.com",
         "events": ["sla_breach"]},
    )
    late, = _items(db, s, "@AureliaBank my card got declined again, legal action if not fixed")
    due = datetime(2026, 12, 4, 8, 30)  # 09:30 in Paris (UTC+01:00 in winter)
    with db.write.begin() as session:
        session.execute(update(QueueItem).where(QueueItem.id == late).values(due_at=due))
        item = session.get(QueueItem, late)
        assert item is not None
        team, mention = s.team(item.team), session.get(Mention, item.mention_id)
        assert mention is not None
        posted, priority = mention.created_at, mention.priority
    assert run_sla_watch(db, s, now=datetime(2026, 12, 4, 9, 0)).notifications == 2
    assert deliver_pending(db, s).sent == 2
    mails = {m["to"]: m for m in inbox.messages}
    french, english = mails["astreinte@example.com"], mails["duty@example.com"]

    with use_reader(Reader("fr", paris)):
        label = team.label
    phrases = {"critical": "critique", "high": "haute", "medium": "moyenne", "low": "basse"}
    assert french["subject"] == f"Vigie : SLA dépassé – {label}, priorité {phrases[priority]}"
    text = french.get_content().replace("\r\n", "\n")
    fr = Reader("fr", paris)
    assert text.startswith("SLA dépassé : l’échéance était le 4 déc. 2026, 09:30 UTC+01:00\n")
    assert f"Équipe : {label}, priorité {phrases[priority]}" in text
    assert "Auteur : @client sur x" in text and f"Publié le {formats.local(posted, fr)}" in text
    assert re.search(r"Publié le \d{1,2} [a-zéû]+\.? 20\d\d, \d\d:\d\d UTC[+-]\d\d:\d\d\n", text)
    assert f"Ouvrir dans Vigie : {s.auth.public_url}/mention/" in text
    assert "2026-12-04T" not in text and "Team:" not in text

    assert english["subject"] == f"Vigie: SLA breached - {team.english}, {priority} priority"
    body = english.get_content().replace("\r\n", "\n")
    assert body.startswith("SLA breached: it was due Dec 4, 2026, 09:30 UTC+01:00\n")
    assert f"Posted: {formats.local(posted, Reader('en', paris))}" in body and "Équipe" not in body


def test_unreachable_channel_and_team_filter(db: Database, settings: Settings, replay: ReplayServer) -> None:
    replay.route("/hooks/legal", Reply.json({"ok": True}))
    replay.route("/hooks/all", Reply(204, b"", content_type=None))
    port = replay.url.rsplit(":", 1)[1]
    dead = free_port()  # nothing listens there
    s = _with_channels(
        settings,
        {"name": "nobody-home", "url": f"json://127.0.0.1:{dead}/hook", "events": ["critical"]},
        {"name": "legal-only", "url": f"json://127.0.0.1:{port}/hooks/legal", "events": ["critical"],
         "teams": ["legal"]},
        {"name": "everyone", "url": f"json://127.0.0.1:{port}/hooks/all", "events": ["critical"]},
    )
    (item,) = _items(db, s, "@AureliaBank there are unauthorized transactions on my account, fraud!")
    with db.write.begin() as session:
        session.execute(update(QueueItem).where(QueueItem.id == item).values(team="customer_service"))
    assert run_sla_watch(db, s).critical == 1
    assert [r.channel for r in _rows(db, "legal-only")] == []  # not the item's team

    first = deliver_pending(db, s)
    assert (first.sent, first.retrying) == (1, 1)
    assert len(replay.hits("/hooks/all")) == 1
    waits = _retry_until_done(db, s, "nobody-home")
    assert waits == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8), timedelta(minutes=16)]
    (row,) = _rows(db, "nobody-home")
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_error and "connection error" in row.last_error.lower()
    assert len(replay.hits("/hooks/all")) == 1  # the working channel was not sent to again


def test_row_for_a_removed_channel_is_given_up_at_once(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    replay.route("/hooks/all", Reply.json({"ok": True}))
    port = replay.url.rsplit(":", 1)[1]
    channel = {"name": "old-hook", "url": f"json://127.0.0.1:{port}/hooks/all", "events": ["critical"]}
    (item,) = _items(db, settings, "@AureliaBank my account was hacked, fraud")
    assert run_sla_watch(db, _with_channels(settings, channel)).notifications == 1
    report = deliver_pending(db, settings)  # notifications.yaml no longer lists it
    assert (report.sent, report.failed) == (0, 1)
    (row,) = _rows(db, "old-hook")
    assert row.status == "failed" and row.last_error == "channel 'old-hook' is not configured (any more)"
    assert row.queue_item_id == item and replay.hits("/hooks/all") == []


def test_given_up_notification_shows_on_the_sources_page(
    web: Any, db: Database, settings: Settings, replay: ReplayServer
) -> None:
    from tests.web import make_accounts, sign_in

    channel = {"name": "old-hook", "url": f"json://127.0.0.1:{free_port()}/x", "events": ["critical"]}
    (item,) = _items(db, settings, "@AureliaBank my account was hacked, fraud")
    run_sla_watch(db, _with_channels(settings, channel))
    deliver_pending(db, settings)  # not configured any more: given up at once
    make_accounts(db, settings)
    client = web.server.test_client()
    sign_in(client, "operator")
    page = client.post("/_dash-update-component", json={
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/sources"},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"], "state": []}).get_data(as_text=True)
    assert "sources-notifications" in page and "is not configured (any more)" in page and f"item {item}" in page


def test_scheduler_runs_the_watch_and_the_sender(db: Database, settings: Settings, tmp_path: Path) -> None:
    stop = threading.Event()
    scheduler = create_scheduler(replace(settings, sources=()), db, stop, blocking=False)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["sla:watch"].trigger.interval == timedelta(seconds=30)
    assert jobs["notify:send"].trigger.interval == timedelta(seconds=10)
    # A failing run is logged, never raised into the scheduler: here the database has no tables.
    empty = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        jobs["sla:watch"].func(empty, settings)
        jobs["notify:send"].func(empty, settings)
    finally:
        empty.engine.dispose()
