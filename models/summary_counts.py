"""A day's summary from the running counts (`models.summary_fold` keeps them): the same figures as
`models.summary.compute_summary_exact`, read from a few hundred rows whatever the day's size.

What differs from the item-by-item reading, by design:
- first-response and resolution medians and 90th percentiles come from the counts' minute buckets:
  within half a bucket of the exact value (30 s under an hour, 2.5 min under 4 hours, 7.5 min under a
  day, 30 min under a week);
- an open item due within the minute that holds ``now`` counts as pending (its due time is kept to
  the minute); the figures are those of the last fold (the collector folds every minute);
- the previous 7 days of a day that is over are their stored summaries (`daily_summaries`, each
  judged as it stood when the collector stored it, 00:30 the next morning), else their counts as
  they stand now. A day in progress is compared with the same part of the days before, as each
  stood then (the counts have no time of day): counted in the database (`core_until`: a few
  grouped rows a day, but still a scan of that part of each day's items).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, case, cast, extract, func, select
from sqlalchemy.orm import Session

from models.summary import (
    COMPARED,
    DayFigures,
    assemble,
    compared_window,
    core_from,
    stored_summary,
)
from models.summary_fold import BUCKETS, DUE_FORMAT, LAST_WIDTH, bucket_middle
from models.summary_tables import SummaryCount
from models.tables import CLOSED_STATUSES, Mention, QueueItem

if TYPE_CHECKING:
    from config.settings import Settings

ROW_LIMIT = 200_000  # rows of one day's counts (a few thousand in practice)

Row = tuple[str, str, str, str, int]  # (team, network, measure, value, n)


def day_counts(session: Session, day: date, now: datetime) -> list[Row]:
    """A day's counts, its open items already judged at ``now`` in the database: per team, those
    due before the minute of ``now`` (``"overdue"``) and the others (``"pending"``), so the rows of
    due minutes (thousands on a busy day) never reach Python. (``DUE_FORMAT`` sorts as it reads.)"""
    rows: list[Row] = [(r.team, r.network, r.measure, r.value, int(r.n)) for r in session.execute(
        select(SummaryCount.team, SummaryCount.network, SummaryCount.measure, SummaryCount.value, SummaryCount.n)
        .where(SummaryCount.day == day, SummaryCount.measure != "open").limit(ROW_LIMIT))]
    overdue = (SummaryCount.value <= (now - timedelta(minutes=1)).strftime(DUE_FORMAT)).label("overdue")
    for team, late, n in session.execute(
            select(SummaryCount.team, overdue, func.sum(SummaryCount.n))
            .where(SummaryCount.day == day, SummaryCount.measure == "open")
            .group_by(SummaryCount.team, overdue).limit(ROW_LIMIT)):
        rows.append((team, "", "overdue" if late else "pending", "", int(n)))
    return rows


def _hist_rank(hist: list[tuple[float, int]], rank: int) -> float:
    """The value of the ``rank``-th (0-based) smallest of a sorted histogram."""
    seen = 0
    for value, n in hist:
        seen += n
        if rank < seen:
            return value
    raise IndexError(rank)


def hist_median(hist: list[tuple[float, int]]) -> float | None:
    """The median of a sorted histogram, as `statistics.median` takes it (pure)."""
    total = sum(n for _, n in hist)
    if not total:
        return None
    if total % 2:
        return _hist_rank(hist, total // 2)
    return (_hist_rank(hist, total // 2 - 1) + _hist_rank(hist, total // 2)) / 2


def hist_percentile(hist: list[tuple[float, int]], share: float) -> float | None:
    """Nearest-rank percentile of a sorted histogram, as `models.summary.percentile` (pure)."""
    import math

    total = sum(n for _, n in hist)
    return _hist_rank(hist, max(0, math.ceil(share * total) - 1)) if total else None


def sla_from_counts(rows: Iterable[Row]) -> dict[str, Any]:
    """`models.summary.sla_figures` from one team's (or every team's) counts (`day_counts`: open items
    already judged at its ``now``) (pure)."""
    plain: Counter[str] = Counter()
    first: Counter[float] = Counter()
    resolution: Counter[float] = Counter()
    breached_open = pending = 0
    for _team, _net, measure, value, n in rows:
        if measure == "first":
            first[bucket_middle(int(value))] += n
        elif measure == "resolution":
            resolution[bucket_middle(int(value))] += n
        elif measure == "overdue":
            breached_open += n
        elif measure == "pending":
            pending += n
        elif measure in ("items", "filed", "met", "late"):
            plain[measure] += n
    firsts, resolutions = sorted(first.items()), sorted(resolution.items())
    resolved = sum(resolution.values())
    met, breached = plain["met"], plain["late"] + breached_open
    judged = met + breached
    return {
        "items": plain["items"], "filed_closed": plain["filed"], "responded": sum(first.values()),
        "first_response_median": hist_median(firsts), "first_response_p90": hist_percentile(firsts, 0.9),
        "resolved": resolved, "dismissed": plain["met"] + plain["late"] - resolved,
        "resolution_median": hist_median(resolutions), "resolution_p90": hist_percentile(resolutions, 0.9),
        "met": met, "breached": breached, "pending": pending,
        "adherence": met / judged if judged else None,
    }


def networks_from_counts(rows: Iterable[Row], mentions: dict[str, int]) -> list[dict[str, Any]]:
    """`models.summary.network_value` from a day's counts (pure)."""
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for _team, net, measure, value, n in rows:
        if not net:
            continue
        if measure in ("items", "high"):
            per[net][measure] += n
        elif measure == "status":
            per[net][value] += n
    out = []
    for network in sorted(set(per) | set(mentions)):
        c = per.get(network, Counter())
        actioned = c["resolved"] + c["claimed"]
        out.append({"network": network, "mentions": mentions.get(network, 0), "items": c["items"],
                    "needed_action": actioned, "dismissed": c["dismissed"], "critical_high": c["high"],
                    "action_share": actioned / c["items"] if c["items"] else None})
    return sorted(out, key=lambda r: (-r["needed_action"], -r["mentions"], r["network"]))


def core_of_day(session: Session, day: date, now: datetime) -> dict[str, Any]:
    """The compared figures of a whole day from its counts (pure but for the read)."""
    rows = day_counts(session, day, now)
    labels: Counter[str] = Counter()
    for _t, _n, measure, value, n in rows:
        if measure == "sentiment":
            labels[value] += n
    return core_from(dict(labels), sla_from_counts(r for r in rows if r[0]))


def _floor(session: Session, value: Any) -> Any:
    """``floor`` of a non-negative number in SQL (SQLite's CAST truncates; PostgreSQL's rounds)."""
    return func.floor(value) if session.get_bind().dialect.name == "postgresql" else cast(value, Integer)


def _bucket_sql(session: Session, later: Any, earlier: Any) -> Any:
    """`models.summary_fold.bucket` of the minutes from ``earlier`` to ``later``, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        minutes = extract("epoch", later - earlier) / 60
    else:
        minutes = (func.julianday(later) - func.julianday(earlier)) * 1440
    widths = [(minutes < bound, _floor(session, minutes / width) * width) for bound, width in BUCKETS]
    return case((minutes <= 0, 0), *widths, else_=_floor(session, minutes / LAST_WIDTH) * LAST_WIDTH)


def core_until(session: Session, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """`models.summary.core_figures` (the compared figures of [start, end) as they stood at ``now``:
    the part of an earlier day a day in progress is compared with) counted in the database, a few
    rows back whatever the day's size; the medians from minute buckets, as the counts give them."""
    labels: Counter[str] = Counter({str(k): int(v) for k, v in session.execute(
        select(Mention.sentiment_label, func.count()).where(
            Mention.created_at >= start, Mention.created_at < end, Mention.duplicate_of_id.is_(None),
            Mention.collected_at <= now)
        .group_by(Mention.sentiment_label).limit(10)).all()})
    q = QueueItem
    queued = (q.created_at >= start, q.created_at < end, q.created_at <= now)
    filed = and_(q.status == "dismissed", q.claimed_at.is_(None), q.resolved_at == q.created_at)
    closed = and_(q.status.in_(CLOSED_STATUSES), q.resolved_at.is_not(None), q.resolved_at <= now)
    rows: list[Row] = []
    for kind, n in session.execute(
            select(case((filed, "filed"), (and_(closed, q.resolved_at <= q.due_at), "met"), (closed, "late"),
                        (q.due_at < now, "overdue"), else_="pending").label("kind"), func.count())
            .where(*queued).group_by("kind").limit(10)):
        rows.append(("", "", str(kind), "", int(n)))
    rows.append(("", "", "items", "", sum(r[4] for r in rows)))
    for measure, later, extra in (("first", q.claimed_at, (q.claimed_at <= now,)),
                                  ("resolution", q.resolved_at, (closed, q.status == "resolved"))):
        lower = _bucket_sql(session, later, q.created_at).label("lower")
        for value, n in session.execute(select(lower, func.count()).where(*queued, ~filed, *extra)
                                        .group_by(lower).limit(ROW_LIMIT)):
            rows.append(("", "", measure, str(int(value)), int(n)))
    return core_from(dict(labels), sla_from_counts(rows))


def stored_core(figures: dict[str, Any]) -> dict[str, Any]:
    """The compared figures of a stored summary (its own values, as it stood when stored)."""
    return {key: figures["comparison"][key]["value"] for key in COMPARED}


def compute_summary_stored(session: Session, settings: Settings, day: date, now: datetime) -> dict[str, Any]:
    """Every figure of ``day`` from its counts; see the module's docstring for what differs."""
    rows = day_counts(session, day, now)
    by_network: Counter[str] = Counter()
    by_sentiment: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    copies = 0
    teams: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        team, net, measure, value, n = row
        if measure == "sentiment":
            by_network[net] += n
            by_sentiment[value] += n
        elif measure == "copies":
            copies += n
        elif measure == "flag":
            flags[value] += n
        elif measure == "rule":
            rules[value] += n
        elif team:
            teams[team].append(row)
    zone = settings.reporting.timezone

    def earlier_core(earlier: date, until: time | None, lag: timedelta) -> dict[str, Any]:
        if until is not None:  # the same part of the day before, as it stood then: counted in the database
            return core_until(session, *compared_window(earlier, zone, lag, until))
        stored = stored_summary(session, earlier)
        return stored_core(stored) if stored is not None else core_of_day(session, earlier, now)

    return assemble(session, settings, day, now, DayFigures(
        by_network=by_network, by_sentiment=by_sentiment, copies=copies,
        by_team={t: sum(r[4] for r in v if r[2] == "items") for t, v in teams.items()},
        overall=sla_from_counts(r for v in teams.values() for r in v),
        teams={t: sla_from_counts(v) for t, v in teams.items()}, rules=rules, flags=flags,
        networks=networks_from_counts(rows, dict(by_network)), truncated=False), earlier_core)
