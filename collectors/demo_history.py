"""The demo's history: the backfilled hours arrive as the past of a command center at work.

`vigie demo` starts its demo source ``backfill_hours`` back (6 h by default). Polled live, those
hours would land in the first minute as ~20,000 untouched items, all queued "now". Instead, once
at the start of `vigie demo` (before the scheduler starts, only while the source has no cursor:
a restart keeps its database as it is), `replay_history` replays those hours on a simulated
clock, minute by minute, through the same code paths as live:

* the source is fetched at each simulated minute and the page ingested through the one ingest
  entry point, stamped with that minute (queue ``created_at``, due and at-risk times from then);
* the desk agents (`collectors.jobs.demo_desk`) claim each item a few minutes after it arrived
  (`plan`: sooner for urgent items, about one in 25 late enough to breach), answer it from the
  library (or now and then in free text) through `models.replies.compose`, and resolve or
  dismiss it, each through `models.actions` with the planned past time;
* a reply that waits for compliance is approved by ``demo.compliance`` (the demo library's
  approver, never its author) some minutes later; replies are recorded as sent through
  `models.outbox.claim` / `record_sent`, platform id ``demo-history-<reply id>``: no writer is
  called for the past.

What is planned after the real now stays undone, so the queues start with a realistic open
backlog (the last minutes' arrivals, items being handled, replies waiting for approval), and the
live stream and desk carry on from there. Every row and audit event is written by the models
functions with their optional ``at``/``now``: nothing is written around them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.ingest import RunReport, ingest, same_item_by_reason
from collectors.jobs.demo_desk import Answering, _draw, _rules, answer, closes_as, desk_agent, hold_for
from collectors.pipeline import Enricher
from collectors.runner import sync_sources
from collectors.sources import build_polled_source
from config.settings import Settings
from models import actions, outbox, replies
from models.db import Database
from models.library import usable
from models.library_file import DEMO_APPROVER
from models.reply_tables import Reply
from models.tables import QueueItem, SourceRow, to_naive_utc

log = logging.getLogger("vigie.collect")

STEP = timedelta(minutes=1)  # the simulated clock's tick: the source is polled, the desk acts
# minutes from arrival to claim, per priority (spread by the item's id)
CLAIM_MINUTES = {"critical": (0.5, 3.0), "high": (1.0, 5.0), "medium": (1.5, 8.0), "low": (2.0, 12.0)}
LATE_ONE_IN = 25  # items claimed late (x 8): the few breaches a real desk has
APPROVAL_MINUTES = (3.0, 25.0)  # compliance deciding a waiting reply
SEND_SECONDS = 5  # the sender's next run after a reply is queued
# One item in two was answered by private message back then (a bank moves most cases out of public
# view): closed without a public reply, which also halves the replay's work at start.
PRIVATE_ONE_IN = 2


@dataclass
class HistoryReport:
    stored: int = 0
    claimed: int = 0
    answered: int = 0
    approved: int = 0
    sent: int = 0
    resolved: int = 0
    dismissed: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (f"demo history: {self.stored} posts of the backfill, {self.claimed} claimed, {self.answered} "
                f"answered ({self.sent} sent, {self.approved} approved by {DEMO_APPROVER}), {self.resolved} "
                f"resolved, {self.dismissed} dismissed, in {self.seconds:.0f} s")


def _spread(item_id: int, what: str, low: float, high: float) -> float:
    return low + (high - low) * _draw(item_id, what) / 0xFFFFFFFF


def claim_delay(item_id: int, priority: str) -> timedelta:
    """How long after its arrival the desk claimed the item, back then (pure)."""
    low, high = CLAIM_MINUTES.get(priority, CLAIM_MINUTES["low"])
    minutes = _spread(item_id, "history-claim", low, high)
    if _draw(item_id, "history-late") % LATE_ONE_IN == 0:
        minutes *= 8
    return timedelta(minutes=minutes)


def approval_delay(item_id: int) -> timedelta:
    return timedelta(minutes=_spread(item_id, "history-approve", *APPROVAL_MINUTES))


@dataclass
class _Open:
    """An item of the history the desk has not finished with: its planned times."""

    item_id: int
    team: str
    claim_at: datetime
    close_at: datetime
    claimed: bool = False
    reply_id: int | None = None
    send_at: datetime | None = None  # the reply goes out (queued) at this time

    def next_at(self) -> datetime:
        """When this item next needs the desk: its claim, its closing, or its reply's decision."""
        if not self.claimed:
            return self.claim_at
        return self.send_at if self.send_at is not None else self.close_at


def _settle_reply(session: Session, report: HistoryReport, reply: Reply, at: datetime, now: datetime) -> None:
    """The sender's part, back then: claimed at ``at``, published a second later (not after ``now``)."""
    claimed = outbox.claim(session, reply.id, "demo-history:send", at)
    if claimed is not None and outbox.record_sent(session, reply.id, f"demo-history-{reply.id}", None,
                                                  min(at + timedelta(seconds=1), now)) is not None:
        report.sent += 1


def replay_history(db: Database, settings: Settings, now: datetime | None = None, desk: bool = True,
                   stop: threading.Event | None = None) -> HistoryReport | None:
    """Store the demo source's backfill as history (see the module docstring); None when there is
    no demo source, or it already has a cursor (its history was made at an earlier start).

    Without ``now`` the replay runs until its clock has caught up with the real one (replaying
    takes minutes, and the posts of those minutes are history too); ``stop`` ends it between two
    simulated minutes (the demo shutting down: the live poll later carries on from the cursor)."""
    started = time.monotonic()
    config = next((s for s in settings.sources if s.kind == "demo" and s.enabled), None)
    if config is None:
        return None
    sync_sources(db, settings)
    with db.read() as s:
        row = s.scalars(select(SourceRow).where(SourceRow.name == config.name)).one()
        if row.cursor is not None:
            return None
        source_id = row.id
    source = build_polled_source(config)
    real_now = (now or datetime.now(UTC)).astimezone(UTC)
    catching_up = now is None
    hours = float(getattr(source, "backfill_hours", 0.0))
    anchor = round(real_now.timestamp() - hours * 3600, 3)
    cursor = f"{anchor!r}:0"  # the cursor the source's first live fetch would have made
    enricher, report = Enricher(settings), HistoryReport()
    rules = _rules(settings)
    agents = {t: desk_agent(t) for t in settings.team_keys} if desk else {}
    pending: dict[int, _Open] = {}
    seen = [0]  # the newest item id planned
    clock = datetime.fromtimestamp(anchor, UTC)
    while stop is None or not stop.is_set():
        if catching_up:
            real_now = datetime.now(UTC)
        clock = min(clock + STEP, real_now)
        while True:  # the pages due at this simulated minute
            page = source.fetch(cursor, clock)
            run = RunReport(config.name)
            ingest(db, source_id, enricher, same_item_by_reason(source.parse(page.payload)), clock, run,
                   chunk_size=settings.batch_size, cursor=cursor, next_cursor=page.next_cursor, stamped_at=clock)
            cursor = page.next_cursor or cursor
            report.stored += run.stored
            if not page.has_more:
                break
        if agents:
            _desk_minute(db, settings, rules, agents, pending, seen, to_naive_utc(clock), report)
        if clock >= real_now:
            break
    report.seconds = time.monotonic() - started
    return report


def _desk_minute(db: Database, settings: Settings, rules: replies.Rules, agents: dict[str, str],
                 pending: dict[int, _Open], seen: list[int], now: datetime, report: HistoryReport) -> None:
    """One simulated minute of the desk: plan the new arrivals, then do what is due by ``now``."""
    with db.write.begin() as s:
        for item_id, team, created, priority_rank in s.execute(
                select(QueueItem.id, QueueItem.team, QueueItem.created_at, QueueItem.priority_rank)
                .where(QueueItem.id > seen[0], QueueItem.status == "new").order_by(QueueItem.id).limit(5000)).all():
            seen[0] = max(seen[0], int(item_id))
            if team not in agents:
                continue
            priority = ("critical", "high", "medium", "low")[min(int(priority_rank), 3)]
            claim_at = created + claim_delay(item_id, priority)
            pending[item_id] = _Open(item_id, team, claim_at, claim_at + hold_for(item_id))
        answering = Answering(settings, rules, usable(s, now))
        due = [e for e in pending.values() if e.next_at() <= now]
        for entry in sorted(due, key=lambda e: (e.next_at(), e.item_id)):
            _step(s, answering, agents[entry.team], entry, pending, now, report)


def _step(s: Session, answering: Answering, agent: str, entry: _Open, pending: dict[int, _Open], now: datetime,
          report: HistoryReport) -> None:
    item = s.get(QueueItem, entry.item_id)
    if item is None or item.status not in ("new", "claimed") or (item.assignee not in (None, agent)):
        pending.pop(entry.item_id, None)  # closed or taken otherwise: not the desk's any more
        return
    if not entry.claimed:
        actions.claim(s, entry.item_id, agent, at=entry.claim_at)
        entry.claimed = True
        report.claimed += 1
    if entry.close_at > now:
        return
    if entry.reply_id is None and closes_as(entry.item_id) == "dismiss":
        actions.dismiss(s, entry.item_id, agent, "demo desk: no action needed", at=entry.close_at)
        report.dismissed += 1
        pending.pop(entry.item_id)
        return
    if entry.reply_id is None and _draw(entry.item_id, "history-private") % PRIVATE_ONE_IN == 0:
        actions.resolve(s, entry.item_id, agent, "demo desk: answered by private message", at=entry.close_at)
        report.resolved += 1
        pending.pop(entry.item_id)
        return
    if entry.reply_id is None:
        reply = answer(s, answering.rules, answering.settings, answering.options, entry.item_id, agent,
                       now=entry.close_at)
        if reply is None:
            entry.send_at = entry.close_at
        else:
            report.answered += 1
            entry.reply_id = reply.id
            entry.send_at = entry.close_at + (approval_delay(entry.item_id) if reply.status == "pending"
                                              else timedelta(seconds=SEND_SECONDS))
    assert entry.send_at is not None
    if entry.send_at > now:
        return  # compliance has not decided yet, or the sender has not run: back at a later minute
    if entry.reply_id is not None:
        reply = s.get(Reply, entry.reply_id, populate_existing=True)
        assert reply is not None
        if reply.status == "pending":
            replies.approve(s, reply.id, DEMO_APPROVER, "demo history", now=entry.send_at)
            report.approved += 1
        _settle_reply(s, report, reply, entry.send_at, now)
    actions.resolve(s, entry.item_id, agent, "demo desk: answered the customer",
                    at=min(entry.send_at + timedelta(seconds=30), now))
    report.resolved += 1
    pending.pop(entry.item_id)
