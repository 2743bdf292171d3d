"""A day's summary from the running counts (`models.summary_fold` keeps them): the same figures as
`models.summary.compute_summary_exact`, read from a few hundred rows whatever the day's size.

What differs from the item-by-item reading, by design:
- first-response and resolution medians and 90th percentiles come from the counts' minute buckets:
  within half a bucket of the exact value (30 s under an hour, 2.5 min under 4 hours, 7.5 min under a
  day, 30 min under a week);
- an open item due within the minute that holds ``now`` counts as pending (its due time is kept to
  the minute); the figures are those of the last fold (the collector folds every minute), the
  notable items' order too (`folded_notable`: an item queued since then joins them at the next fold);
- the previous 7 days of a day that is over are their stored summaries (`daily_summaries`, each
  judged as it stood when the collector stored it, 00:30 the next morning), else their counts as
  they stand now. A day in progress is compared with the same part of the days before, as each
  stood then (`core_until`): the whole hours from the counts by hour, the partial hour read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from models.summary import (
    COMPARED,
    DayFigures,
    assemble,
    compared_window,
    core_from,
    stored_summary,
)
from models.summary_fold import DUE_FORMAT, HOUR_MEASURES, bucket, bucket_middle, hour_of, hour_value
from models.summary_notable import NOTABLE_RANKS
from models.summary_tables import SummaryCount, SummaryFoldedItem, SummaryFoldedMention
from models.tables import CLOSED_STATUSES, Mention

if TYPE_CHECKING:
    from config.settings import Settings

ROW_LIMIT = 200_000  # rows of one day's counts (a few thousand in practice)

Row = tuple[str, str, str, str, int]  # (team, network, measure, value, n)


def day_counts(session: Session, day: date, now: datetime) -> list[Row]:
    """A day's counts but the hourly ones (`core_until` reads those), its open items already judged
    at ``now`` in the database: per team, those
    due before the minute of ``now`` (``"overdue"``) and the others (``"pending"``), so the rows of
    due minutes (thousands on a busy day) never reach Python. (``DUE_FORMAT`` sorts as it reads.)"""
    rows: list[Row] = [(r.team, r.network, r.measure, r.value, int(r.n)) for r in session.execute(
        select(SummaryCount.team, SummaryCount.network, SummaryCount.measure, SummaryCount.value, SummaryCount.n)
        .where(SummaryCount.day == day, SummaryCount.measure.not_in(("open", *HOUR_MEASURES))).limit(ROW_LIMIT))]
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
    """Nearest-rank percentile of a sorted histogram, as `models.summary_sla.percentile` (pure)."""
    import math

    total = sum(n for _, n in hist)
    return _hist_rank(hist, max(0, math.ceil(share * total) - 1)) if total else None


def sla_from_counts(rows: Iterable[Row]) -> dict[str, Any]:
    """`models.summary_sla.sla_figures` from one team's (or every team's) counts (`day_counts`: open items
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
    """`models.summary_sla.network_value` from a day's counts (pure)."""
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


def _whole_minutes(session: Session, later: Any, earlier: Any) -> Any:
    """The whole minutes from ``earlier`` to ``later``, in SQL. SQLite's julianday keeps milliseconds
    and a double's rounding: a whole number of minutes may come out a hair under it, hence the
    0.6 ms added before truncating (a delay within a millisecond of a bucket's bound may fall on
    its other side: half a bucket at most, as the counts promise)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(extract("epoch", later - earlier) / 60)
    return cast((func.julianday(later) - func.julianday(earlier)) * 1440 + 1e-5, Integer)  # (>= 0: truncation is floor)


def _partial_items(session: Session, start: datetime, hour: datetime, cut: datetime) -> Counter[tuple[str, str]]:
    """What the items of [start, cut) became in [hour, cut] (the partial hour a comparison ends in),
    counted in the database from their folded copies, one indexed time at a time (an OR of the four
    read the whole part of the day), as `models.summary_fold.item_events` counts them: queued and
    due strictly before ``cut``, claimed and closed by it; buckets of whole minutes, grouped. In
    the day's first hour, also what happened before its start (counted under hour 0 by the fold): no
    lower bound on the times then, and the items queued in [start, cut) are read by their queueing
    time (a range of the times from a day before read a whole day's items)."""
    f = SummaryFoldedItem
    part = (f.created_at >= start, f.created_at < cut)

    def since(at: Any) -> tuple[Any, ...]:
        return () if hour == start else (at >= hour,)

    # not filed closed (`models.summary_sla.filed_closed`), NULL-safe: a NOT of the three would drop an
    # item dismissed without a closing time, which Python counts as judged
    judged = or_(f.status != "dismissed", f.claimed_at.is_not(None), f.resolved_at.is_(None),
                 f.resolved_at != f.created_at)
    closed = and_(f.status.in_(CLOSED_STATUSES), f.resolved_at.is_not(None))
    met = and_(closed, f.resolved_at <= f.due_at)
    out: Counter[tuple[str, str]] = Counter()
    counts: list[tuple[str, Any, Any, tuple[Any, ...]]] = [
        ("h:items", f.created_at, f.created_at < cut, ()),
        ("h:met", f.resolved_at, f.resolved_at <= cut, (judged, met)),
        ("h:breach", f.due_at, f.due_at < cut, (judged, ~met))]
    for measure, at, until, extra in counts:
        out[(measure, "")] += session.scalar(select(func.count()).where(*part, *since(at), until, *extra)) or 0
    grouped: list[tuple[str, Any, tuple[Any, ...]]] = [
        ("h:first", f.claimed_at, (judged,)),
        ("h:resolved", f.resolved_at, (judged, closed, f.status == "resolved"))]
    for measure, at, extra in grouped:
        minutes = _whole_minutes(session, at, f.created_at).label("minutes")
        for value, n in session.execute(select(minutes, func.count()).where(*part, *since(at), at <= cut, *extra)
                                        .group_by(minutes).limit(ROW_LIMIT)):
            out[(measure, str(bucket(max(0, int(value)))))] += int(n)
    return out


def _partial_posts(session: Session, start: datetime, hour: datetime, cut: datetime) -> Counter[str]:
    """Original posts of [start, cut) seen in [hour, cut] (created in it and collected by ``cut``, or
    created earlier and collected in it: kept by the fold as ``seen_at``), per sentiment label."""
    m = Mention
    created = select(m.sentiment_label, func.count()).where(
        m.created_at >= hour, m.created_at < cut, m.collected_at <= cut, m.duplicate_of_id.is_(None)
    ).group_by(m.sentiment_label).limit(10)
    # The posts seen late by their index first (a join let SQLite walk the day's part of `mentions`).
    seen = select(SummaryFoldedMention.mention_id).where(SummaryFoldedMention.seen_at >= hour,
                                                         SummaryFoldedMention.seen_at <= cut)
    late = (select(m.sentiment_label, func.count())
            .where(m.id.in_(seen), m.created_at >= start, m.created_at < hour, m.duplicate_of_id.is_(None))
            .group_by(m.sentiment_label).limit(10))
    out: Counter[str] = Counter()
    for query in (created, late):
        for label, n in session.execute(query):
            out[str(label)] += int(n)
    return out


def core_until(session: Session, day: date, start: datetime, cut: datetime) -> dict[str, Any]:
    """`models.summary.core_figures` of [start, cut) as it stood at ``cut`` (the part of an earlier
    ``day`` a day in progress is compared with): the whole hours before ``cut`` from their hourly
    counts (`models.summary_fold.item_events`: about 1,500 rows for a day, most of them minute
    buckets), the partial hour it ends in counted in the database (its items' folded copies, its
    posts); the same whatever the day's size. The medians from minute buckets, as the counts give
    them."""
    whole = hour_of(cut, start)
    hour = start + timedelta(hours=whole)
    counted: Counter[tuple[str, str]] = Counter()
    for measure, value, n in session.execute(
            select(SummaryCount.measure, SummaryCount.value, SummaryCount.n)
            .where(SummaryCount.day == day, SummaryCount.team == "", SummaryCount.network == "",
                   SummaryCount.measure.in_(HOUR_MEASURES), SummaryCount.value < hour_value(whole, ""))
            .limit(ROW_LIMIT)):
        counted[(str(measure), str(value).partition("|")[2])] += int(n)
    counted.update(_partial_items(session, start, hour, cut))
    labels: Counter[str] = Counter({value: n for (measure, value), n in counted.items() if measure == "h:seen"})
    labels.update(_partial_posts(session, start, hour, cut))
    plain = {"h:items": "items", "h:met": "met", "h:breach": "late"}  # (breached: late or overdue, alike here)
    buckets = {"h:first": "first", "h:resolved": "resolution"}
    rows: list[Row] = []
    for (measure, value), n in counted.items():
        if measure in plain:
            rows.append(("", "", plain[measure], "", n))
        elif measure in buckets:
            rows.append(("", "", buckets[measure], value, n))
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
        if until is not None:  # the same part of the day before, as it stood then: from its hourly counts
            return core_until(session, earlier, *compared_window(earlier, zone, lag, until)[:2])
        stored = stored_summary(session, earlier)
        return stored_core(stored) if stored is not None else core_of_day(session, earlier, now)

    return assemble(session, settings, day, now, DayFigures(
        by_network=by_network, by_sentiment=by_sentiment, copies=copies,
        by_team={t: sum(r[4] for r in v if r[2] == "items") for t, v in teams.items()},
        overall=sla_from_counts(r for v in teams.values() for r in v),
        teams={t: sla_from_counts(v) for t, v in teams.items()}, rules=rules, flags=flags,
        networks=networks_from_counts(rows, dict(by_network)), truncated=False), earlier_core, folded_notable)


def folded_notable(session: Session, start: datetime, end: datetime, limit: int) -> list[int]:
    """`models.summary_notable.notable_candidates`' order, from the folded items: per rank a range of
    ``ix_summary_folded_items_notable`` (the audience in the index: no post read), sorted."""
    return list(session.scalars(
        select(SummaryFoldedItem.item_id)
        .where(SummaryFoldedItem.priority_rank.in_(NOTABLE_RANKS), SummaryFoldedItem.created_at >= start,
               SummaryFoldedItem.created_at < end)
        .order_by(SummaryFoldedItem.priority_rank, SummaryFoldedItem.author_followers.desc().nulls_last(),
                  SummaryFoldedItem.item_id)
        .limit(limit)))
