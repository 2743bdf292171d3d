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
  they stand now. A day in progress is still compared with the same part of the days before,
  read item by item (`models.summary.core_figures`): the counts have no time of day.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.kpis import net_sentiment, top_terms
from models.summary import (
    COMPARED,
    PREVIOUS_DAYS,
    TEXT_LIMIT,
    _alerts,
    _notable,
    compared_window,
    comparison,
    core_figures,
    core_from,
    day_bounds,
    local_time,
    stored_summary,
    top,
)
from models.summary_fold import DUE_FORMAT, bucket_middle
from models.summary_tables import SummaryCount
from models.tables import Mention

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


def stored_core(figures: dict[str, Any]) -> dict[str, Any]:
    """The compared figures of a stored summary (its own values, as it stood when stored)."""
    return {key: figures["comparison"][key]["value"] for key in COMPARED}


def compute_summary_stored(session: Session, settings: Settings, day: date, now: datetime) -> dict[str, Any]:
    """Every figure of ``day`` from its counts; see the module's docstring for what differs."""
    zone = settings.reporting.timezone
    start, end = day_bounds(day, zone)
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
    labels = {t.key: t.english for t in settings.teams}
    descriptions = {r.id: r.description for r in settings.rules}
    heads = (Mention.created_at >= start, Mention.created_at < end, Mention.duplicate_of_id.is_(None))
    texts = list(session.scalars(select(Mention.text).where(*heads).order_by(Mention.created_at.desc())
                                 .limit(TEXT_LIMIT)))
    words, tags = top_terms(texts, [b.name for b in settings.brands] + [k for b in settings.brands for k in b.keywords])
    overall = sla_from_counts(r for v in teams.values() for r in v)
    core = core_from(dict(by_sentiment), overall)
    complete = now >= end
    until = None if complete else local_time(now, zone)
    previous = []
    for back in range(1, PREVIOUS_DAYS + 1):
        earlier = day - timedelta(days=back)
        if until is not None:  # the same part of the day before: only the items can tell
            p_start, p_end, as_of = compared_window(earlier, zone, now - end, until)
            previous.append({"day": earlier.isoformat(), **core_figures(session, p_start, p_end, as_of)})
            continue
        stored = stored_summary(session, earlier)
        figures = stored_core(stored) if stored is not None else core_of_day(session, earlier, now)
        previous.append({"day": earlier.isoformat(), **figures})
    return {
        "day": day.isoformat(), "timezone": zone, "start_utc": start.isoformat(), "end_utc": end.isoformat(),
        "computed_at_utc": now.isoformat(timespec="seconds"), "complete": complete,
        "compared_until": until.strftime("%H:%M") if until else None, "truncated": False,
        "volume": {"mentions": sum(by_network.values()), "copies": copies,
                   "by_network": dict(by_network.most_common()), "by_sentiment": dict(by_sentiment.most_common()),
                   "by_team": {labels.get(t, t): sum(n for r in v for n in (r[4],) if r[2] == "items")
                               for t, v in sorted(teams.items())},
                   "net_sentiment": net_sentiment(dict(by_sentiment))},
        "sla": {"overall": overall,
                "teams": {labels.get(t, t): sla_from_counts(v) for t, v in sorted(teams.items())}},
        "issues": [{"rule": r, "description": descriptions.get(r, r), "items": n} for r, n in top(rules, 8)],
        "topics": [{"topic": f, "mentions": n} for f, n in top(flags, 10)],
        "terms": [{"term": w, "posts": n} for w, n in words],
        "hashtags": [{"hashtag": t, "posts": n} for t, n in tags],
        "alerts": _alerts(session, start, end),
        "notable": _notable(session, start, end, labels),
        "networks": networks_from_counts(rows, dict(by_network)),
        "previous": previous,
        "comparison": comparison(core, previous),
    }
