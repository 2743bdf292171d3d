"""The demo's desk (the collector's ``demo:desk`` job): one simulated agent per team working the
queues, in `vigie demo` only (never in `vigie collect`; `vigie demo --no-desk` turns it off).

Without it nobody claims or resolves anything in a demo until someone signs in, so the wall's
first responses, the queues' claimed items and the daily summary's SLA figures stay empty.
Every 10 s (its line in `collectors.jobs.JOBS`) each team's desk agent (``desk.<team>``, an account without a password:
nobody can sign in as it) first closes the items it has held long enough, then claims the most
urgent new items of its team (critical first, then the earliest due) until it holds
``CAPACITY``. An item is held ``HOLD_MINUTES`` (1 to 6 minutes, chosen from its id); about one in
six is dismissed as needing no action, the others are resolved. Items someone else claimed are
never touched. Every step goes through ``models.actions`` in its own short transaction, so it is
audited under the desk agent's name like anyone's, and an item a person took meanwhile is
simply skipped.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from models import actions
from models.db import Database
from models.tables import QueueItem, User, utcnow
from models.users import add_user, get_user

log = logging.getLogger("vigie.collect")

CAPACITY = 4  # items one desk agent holds at once
HOLD_MINUTES = (1.0, 6.0)
DISMISS_ONE_IN = 6
RESOLVE_NOTE = "demo desk: answered the customer"
DISMISS_REASON = "demo desk: no action needed"


def desk_agent(team: str) -> str:
    return f"desk.{team.replace('_', '-')}"


def _draw(item_id: int, what: str) -> int:
    """A number from 0 to 2**32 - 1 fixed by the item and the question (the same on every run)."""
    return int.from_bytes(hashlib.blake2b(f"{what}:{item_id}".encode(), digest_size=4).digest(), "big")


def hold_for(item_id: int) -> timedelta:
    """How long the desk keeps ``item_id`` before closing it: spread over HOLD_MINUTES by the id (pure)."""
    low, high = HOLD_MINUTES
    return timedelta(minutes=low + (high - low) * _draw(item_id, "hold") / 0xFFFFFFFF)


def closes_as(item_id: int) -> str:
    """``dismiss`` for about one item in DISMISS_ONE_IN, ``resolve`` for the others (pure)."""
    return "dismiss" if _draw(item_id, "close") % DISMISS_ONE_IN == 0 else "resolve"


def due_to_close(held: list[tuple[int, datetime]], now: datetime) -> list[int]:
    """Of (item id, claimed at), the items held long enough, oldest claim first (pure)."""
    return [i for i, at in sorted(held, key=lambda h: (h[1], h[0])) if now - at >= hold_for(i)]


@dataclass
class DeskReport:
    claimed: int = 0
    resolved: int = 0
    dismissed: int = 0
    skipped: int = 0  # taken or closed by someone else between our read and our action
    errors: list[str] = field(default_factory=list)


def log_line(report: DeskReport) -> str | None:
    """The collector's log line about a round, None when the desk did nothing."""
    if not (report.claimed or report.resolved or report.dismissed):
        return None
    return f"demo desk: {report.claimed} claimed, {report.resolved} resolved, {report.dismissed} dismissed"


def _held(db: Database, agent: str) -> list[tuple[int, datetime]]:
    with db.read() as s:
        rows = s.execute(select(QueueItem.id, QueueItem.claimed_at)
                         .where(QueueItem.status == "claimed", QueueItem.assignee == agent)
                         .order_by(QueueItem.id).limit(CAPACITY * 4)).all()
    return [(int(i), at) for i, at in rows if at is not None]


def _most_urgent(db: Database, team: str, limit: int) -> list[int]:
    with db.read() as s:
        return [int(i) for i in s.scalars(
            select(QueueItem.id).where(QueueItem.status == "new", QueueItem.team == team)
            .order_by(QueueItem.priority_rank, QueueItem.due_at, QueueItem.id).limit(limit))]


def _act(db: Database, report: DeskReport, what: str, item_id: int, agent: str) -> None:
    try:
        with db.write.begin() as s:
            if what == "claim":
                actions.claim(s, item_id, agent)
                report.claimed += 1
                return
            item = s.get(QueueItem, item_id, populate_existing=True, with_for_update=True)
            if item is None or (item.status, item.assignee) != ("claimed", agent):
                report.skipped += 1  # reassigned or closed since we read it: no longer ours to close
                return
            if what == "dismiss":
                actions.dismiss(s, item_id, agent, DISMISS_REASON)
                report.dismissed += 1
            else:
                actions.resolve(s, item_id, agent, RESOLVE_NOTE)
                report.resolved += 1
    except actions.ActionError:
        report.skipped += 1


def ensure_desk_accounts(session: Session, settings: Settings) -> list[str]:
    """The desk agents' accounts, one per team, made when missing (an agent of that team, no
    password: nobody signs in as them); their names."""
    for team in settings.team_keys:
        if get_user(session, desk_agent(team)) is None:
            add_user(session, desk_agent(team), "agent", [team], None, settings.team_keys, actor="demo")
    return [desk_agent(t) for t in settings.team_keys]


def active_desk_agents(db: Database, settings: Settings) -> dict[str, str]:
    """team -> desk agent, for the teams whose desk account exists and is active."""
    wanted = {desk_agent(t): t for t in settings.team_keys}
    with db.read() as s:
        names = s.scalars(select(User.name).where(User.name.in_(list(wanted)), User.active.is_(True))).all()
    return {wanted[n]: n for n in names}


def run_demo_desk(db: Database, settings: Settings, now: datetime | None = None,
                  stop: threading.Event | None = None) -> DeskReport:
    """One round of every team's desk agent, ended between two actions once ``stop`` is set (the
    demo shutting down). Never raises for one team's failure: the others go on."""
    report = DeskReport()
    stopping = stop.is_set if stop is not None else lambda: False
    for team, agent in sorted(active_desk_agents(db, settings).items()):
        try:
            held = _held(db, agent)
            closing = due_to_close(held, now or utcnow())
            for item_id in closing:
                if stopping():
                    return report
                _act(db, report, closes_as(item_id), item_id, agent)
            free = CAPACITY - (len(held) - len(closing))
            for item_id in _most_urgent(db, team, max(0, free)):
                if stopping():
                    return report
                _act(db, report, "claim", item_id, agent)
        except Exception as exc:  # the database refused (locked, gone): next round tries again
            report.errors.append(f"{team}: {exc}")
            log.warning("demo desk %s failed: %s", agent, exc)
    return report
