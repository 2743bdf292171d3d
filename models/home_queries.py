"""What the home pages read (dashboard/pages/home_*.py): small bounded lists, and the pure rules
that judge them.

Queries take the session first, are always limited and never commit. Lists over several teams
run one query per team (each walks its own index in order: ``ix_queue_items_open_due`` for the
due-time lists, ``ix_queue_items_open_age`` for the unassigned) and merge the few rows each gives.
The rules ("overloaded", a day's trend, red/amber/green) are pure functions tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.queries import sla_state
from models.summary_sla import sla_figures
from models.tables import OPEN_STATUSES, Mention, QueueItem, utcnow

HELD_LIMIT = 50  # items one agent holds, shown at once
URGENT_LIMIT = 10  # unclaimed items shown to an agent
LEAD_LIMIT = 10  # rows of each of a lead's lists
TEXT_CHARS = 120
OVERLOAD_FACTOR = 1.5  # more than this times the team's mean load...
OVERLOAD_MINIMUM = 5  # ...and at least this many items: overloaded
TREND_ITEM_LIMIT = 500_000  # items of one day read for its trend figures (as the summary reads)


@dataclass(frozen=True)
class HomeItem:
    """One queue item as a home list shows it."""

    id: int
    mention_id: int
    team: str
    status: str
    priority: str
    priority_rank: int
    assignee: str
    due_at: datetime
    at_risk_at: datetime | None
    created_at: datetime
    claimed_at: datetime | None
    text: str
    sla: str  # breached, at risk, on time


def _select() -> Select[*tuple[Any, ...]]:
    return (select(QueueItem.id, Mention.id.label("mention_id"), QueueItem.team, QueueItem.status, Mention.priority,
                   QueueItem.priority_rank, QueueItem.assignee, QueueItem.due_at, QueueItem.at_risk_at,
                   QueueItem.created_at, QueueItem.claimed_at, func.substr(Mention.text, 1, TEXT_CHARS).label("text"))
            .join(Mention, Mention.id == QueueItem.mention_id))


def _items(session: Session, statement: Select[*tuple[Any, ...]], now: datetime) -> list[HomeItem]:
    return [HomeItem(r.id, r.mention_id, r.team, r.status, r.priority, r.priority_rank, r.assignee or "", r.due_at,
                     r.at_risk_at, r.created_at, r.claimed_at, r.text or "",
                     sla_state(r.status, r.due_at, r.at_risk_at, now))
            for r in session.execute(statement)]


def by_due(items: Iterable[HomeItem], limit: int) -> list[HomeItem]:
    """The soonest due first (then the highest priority, then the oldest), at most ``limit`` (pure)."""
    return sorted(items, key=lambda i: (i.due_at, i.priority_rank, i.created_at, i.id))[:limit]


def by_claim(items: Iterable[HomeItem], limit: int) -> list[HomeItem]:
    """The oldest claim first (an item never claimed: by its age), at most ``limit`` (pure)."""
    return sorted(items, key=lambda i: (i.claimed_at or i.created_at, i.id))[:limit]


def by_age(items: Iterable[HomeItem], limit: int) -> list[HomeItem]:
    """The oldest first, at most ``limit`` (pure)."""
    return sorted(items, key=lambda i: (i.created_at, i.id))[:limit]


def held_items(session: Session, assignee: str, teams: Sequence[str], limit: int = HELD_LIMIT,
               now: datetime | None = None) -> list[HomeItem]:
    """The items ``assignee`` holds (claimed) in ``teams``, the oldest claim first."""
    now = now or utcnow()
    found: list[HomeItem] = []
    for team in teams:
        found += _items(session, _select().where(QueueItem.status == "claimed", QueueItem.team == team,
                                                 QueueItem.assignee == assignee)
                        .order_by(QueueItem.claimed_at, QueueItem.id).limit(limit), now)
    return by_claim(found, limit)


def urgent_unclaimed(session: Session, teams: Sequence[str], limit: int = URGENT_LIMIT,
                     now: datetime | None = None) -> list[HomeItem]:
    """The unclaimed items of ``teams`` due soonest."""
    now = now or utcnow()
    found: list[HomeItem] = []
    for team in teams:
        found += _items(session, _select().where(QueueItem.status == "new", QueueItem.team == team)
                        .order_by(QueueItem.due_at, QueueItem.priority_rank).limit(limit), now)
    return by_due(found, limit)


def breaches(session: Session, teams: Sequence[str], limit: int = LEAD_LIMIT,
             now: datetime | None = None) -> list[HomeItem]:
    """Open items of ``teams`` past their due time, the longest overdue first."""
    now = now or utcnow()
    found: list[HomeItem] = []
    for team in teams:
        for status in OPEN_STATUSES:
            found += _items(session, _select().where(QueueItem.status == status, QueueItem.team == team,
                                                     QueueItem.due_at <= now)
                            .order_by(QueueItem.due_at).limit(limit), now)
    return by_due(found, limit)


def at_risk(session: Session, teams: Sequence[str], limit: int = LEAD_LIMIT,
            now: datetime | None = None) -> list[HomeItem]:
    """Open items of ``teams`` at risk (past their at-risk time, not yet due), the soonest due first."""
    now = now or utcnow()
    found: list[HomeItem] = []
    for team in teams:
        for status in OPEN_STATUSES:
            found += _items(session, _select().where(QueueItem.status == status, QueueItem.team == team,
                                                     QueueItem.due_at > now, QueueItem.at_risk_at <= now)
                            .order_by(QueueItem.due_at).limit(limit), now)
    return by_due(found, limit)


def oldest_unassigned(session: Session, teams: Sequence[str], limit: int = LEAD_LIMIT,
                      now: datetime | None = None) -> list[HomeItem]:
    """Unclaimed items of ``teams``, the oldest first (their count: `models.queries.team_counts`)."""
    now = now or utcnow()
    found: list[HomeItem] = []
    for team in teams:
        found += _items(session, _select().where(QueueItem.status == "new", QueueItem.team == team)
                        .order_by(QueueItem.created_at, QueueItem.id).limit(limit), now)
    return by_age(found, limit)


# --- pure rules ------------------------------------------------------------------------------------


def overloaded(loads: Mapping[str, int], factor: float = OVERLOAD_FACTOR,
               minimum: int = OVERLOAD_MINIMUM) -> list[str]:
    """Who of one team holds too much: more than ``factor`` times the team's mean load (every
    member counted, those holding nothing too) and at least ``minimum`` items; the most loaded first."""
    if not loads:
        return []
    mean = sum(loads.values()) / len(loads)
    heavy = [name for name, n in loads.items() if n >= minimum and n > factor * mean]
    return sorted(heavy, key=lambda name: (-loads[name], name))


def team_loads(workload: Iterable[Mapping[str, Any]], members: Iterable[tuple[str, str]]
               ) -> dict[str, dict[str, int]]:
    """{team: {agent: items held}} from `models.queries.workload` rows and the teams' members
    (members holding nothing count 0) (pure)."""
    out: dict[str, dict[str, int]] = {}
    for name, team in members:
        out.setdefault(team, {})[name] = 0
    for row in workload:
        if row["assignee"]:
            out.setdefault(row["team"], {})[row["assignee"]] = int(row["claimed"])
    return out


GREEN, AMBER, RED = "green", "amber", "red"
_RANK = {GREEN: 0, AMBER: 1, RED: 2}


def worst(states: Iterable[str]) -> str:
    """The worst of red/amber/green states (green when there are none) (pure)."""
    return max(states, key=lambda s: _RANK[s], default=GREEN)


def source_rag(colour: str) -> str:
    """A source's badge colour (`dashboard.components.health.source_state`) as red/amber/green (pure):
    stale or failing is red, waiting amber, the rest (ok, disabled, not run yet) green."""
    return RED if colour == "danger" else AMBER if colour == "warning" else GREEN


def collectors_rag(ready: bool, alive: int) -> str:
    """Red when no collector is alive, amber when one is but the collectors are not as they should be
    (one silent without a clean stop), green otherwise (pure)."""
    if alive == 0:
        return RED
    return GREEN if ready else AMBER


NOTIFY_AMBER_PENDING = 20  # messages waiting: a channel may be slow
NOTIFY_RED_PENDING = 100  # a channel is surely down
RECENT_FAILURE = timedelta(hours=24)


def notifications_rag(pending: int, failed: int, newest_failure: datetime | None, now: datetime) -> str:
    """Red: a message given up on within the last day, or a backlog of `NOTIFY_RED_PENDING`; amber:
    older failures or a backlog of `NOTIFY_AMBER_PENDING`; green otherwise (pure)."""
    if pending >= NOTIFY_RED_PENDING or (newest_failure is not None and now - newest_failure <= RECENT_FAILURE):
        return RED
    if pending >= NOTIFY_AMBER_PENDING or failed > 0:
        return AMBER
    return GREEN


# --- the manager's week ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayTrend:
    day: str  # ISO date (local day of the reporting time zone)
    received: int  # original mentions created that day
    items: int  # items queued that day
    resolved: int  # of those, resolved
    breached: int  # of those, closed late or still open past due


def trend_from_summary(figures: Mapping[str, Any]) -> DayTrend:
    """A day's trend figures from its summary (`models.summary.compute_summary`, stored or not) (pure)."""
    overall = figures["sla"]["overall"]
    return DayTrend(str(figures["day"]), int(figures["volume"]["mentions"]), int(overall["items"]),
                    int(overall.get("resolved", 0)), int(overall["breached"]))


def day_trend(session: Session, day: str, start: datetime, end: datetime, now: datetime) -> DayTrend:
    """A day's trend figures when no summary is stored for it: the mentions created in [start, end)
    (an index range) and the SLA figures of the items queued then, as the summary counts them."""
    received = session.scalar(select(func.count()).select_from(Mention).where(
        Mention.created_at >= start, Mention.created_at < end, Mention.duplicate_of_id.is_(None))) or 0
    items = session.execute(
        select(QueueItem.id, QueueItem.status, QueueItem.created_at, QueueItem.claimed_at, QueueItem.resolved_at,
               QueueItem.due_at)
        .where(QueueItem.created_at >= start, QueueItem.created_at < end)
        .order_by(QueueItem.id).limit(TREND_ITEM_LIMIT)).all()
    sla = sla_figures(list(items), now)
    return DayTrend(day, int(received), int(sla["items"]), int(sla["resolved"]), int(sla["breached"]))


def week_trend(session: Session, days: Sequence[date], timezone: str, now: datetime) -> list[DayTrend]:
    """The trend figures of ``days`` (local dates): each day's stored summary, else its running
    counts (`models.summary_counts`: a few hundred rows) when they are fresh, else `day_trend`."""
    from models.summary import FRESH, day_bounds, stored_summary
    from models.summary_counts import day_counts, sla_from_counts
    from models.summary_fold import fresh

    counted = fresh(session, timezone, now, FRESH)
    out = []
    for day in days:
        stored = stored_summary(session, day)
        if stored is not None:
            out.append(trend_from_summary(stored))
        elif counted:
            rows = day_counts(session, day, now)
            sla = sla_from_counts(r for r in rows if r[0])
            received = sum(r[4] for r in rows if r[2] == "sentiment")
            out.append(DayTrend(day.isoformat(), received, int(sla["items"]), int(sla["resolved"]),
                                int(sla["breached"])))
        else:
            start, end = day_bounds(day, timezone)
            out.append(day_trend(session, day.isoformat(), start, end, now))
    return out


def trend_rows(days: Iterable[DayTrend]) -> list[DayTrend]:
    """The week's rows, oldest day first, each day once (pure)."""
    return sorted({d.day: d for d in days}.values(), key=lambda d: d.day)
