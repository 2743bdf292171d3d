"""The managers' daily summary: computed for one local day, stored, compared with the 7 days before.

A day is midnight to midnight in the ``reporting.yaml`` time zone (23 or 25 hours across a
DST change). "Mentions" are original posts created that day (copies counted apart); "items"
are queue items queued that day, judged as they stand when the summary is computed:

- **first response**: minutes from queueing to the first claim; **resolution**: to resolving
  (dismissals are not resolutions);
- **SLA**: items filed closed by a routing rule (spam) are counted but not judged; an item
  *met* its SLA when it was closed (resolved or dismissed) by its due time;
  it *breached* when it was closed after it, or is still open past it; still open and not yet
  due is *pending*. Adherence is met / (met + breached);
- **per-network value**: of a network's items, those that needed action (resolved, or claimed
  and still being worked) against those dismissed as noise.

Figures are as the database stood at ``now``; the previous 7 days are judged at the same
distance after their own end (a claim or closing stamped later had not happened yet), so the
day compares with its week on equal terms: the collector's summary at 00:30 sees each earlier
day as it stood at 00:30 the next morning.

`compute_summary` reads (bounded) and returns plain JSON-able figures; `store_summary` keeps
them (`daily_summaries`, one row per day, never rewritten by the scheduler).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.alert_words import figures_of
from models.kpis import net_sentiment, top_terms
from models.summary_notable import NotableCandidates, _notable, notable_candidates
from models.summary_sla import network_value, sla_figures
from models.tables import Alert, DailySummary, Mention, QueueItem, utcnow

if TYPE_CHECKING:
    from config.settings import Settings

ITEM_LIMIT = 500_000  # items of one day read for the SLA figures
TEXT_LIMIT = 5000  # newest posts of the day read for the top terms
PREVIOUS_DAYS = 7
COMPARED = ("mentions", "net_sentiment", "negative_share", "items", "breached", "adherence",
            "first_response_median", "resolution_median")


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day, as naive UTC (days from 2000 to 2099: others raise ValueError)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"expected a day from {FIRST_DAY} to {LAST_DAY}, got {day}")
    zone = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None)


def local_day(now: datetime, timezone: str) -> date:
    return now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()


def local_time(now: datetime, timezone: str) -> time:
    return now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).time().replace(tzinfo=None)


def compared_window(day: date, timezone: str, lag: timedelta,
                    until: time | None) -> tuple[datetime, datetime, datetime]:
    """(start, end, as of) of an earlier ``day`` compared with the summarised one, naive UTC (pure).

    ``until`` set (the summarised day is in progress): midnight to that local time, as it stood
    then. Otherwise the whole day, as it stood ``lag`` after its end (never before it)."""
    start, end = day_bounds(day, timezone)
    if until is None:
        return start, end, end + max(lag, timedelta(0))
    cut = datetime.combine(day, until, tzinfo=ZoneInfo(timezone)).astimezone(UTC).replace(tzinfo=None)
    cut = min(max(cut, start), end)  # (a time a DST change skips or repeats stays inside the day)
    return start, cut, cut


def core_figures(session: Session, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """The figures compared from day to day, as the day stood at ``now``: posts collected later
    and items queued later are left out, as claims and closings stamped later are."""
    labels = dict(session.execute(
        select(Mention.sentiment_label, func.count()).where(
            Mention.created_at >= start, Mention.created_at < end, Mention.duplicate_of_id.is_(None),
            Mention.collected_at <= now)
        .group_by(Mention.sentiment_label).limit(10)).all())
    items = session.execute(  # (only what `sla_figures` reads: no join to the posts)
        select(QueueItem.id, QueueItem.status, QueueItem.created_at, QueueItem.claimed_at, QueueItem.resolved_at,
               QueueItem.due_at)
        .where(QueueItem.created_at >= start, QueueItem.created_at < end, QueueItem.created_at <= now)
        .order_by(QueueItem.id).limit(ITEM_LIMIT)).all()
    return core_from({str(k): int(v) for k, v in labels.items()}, sla_figures(list(items), now))


def core_from(labels: dict[str, int], sla: dict[str, Any]) -> dict[str, Any]:
    """The compared figures from a day's sentiment counts and SLA figures (pure)."""
    total = sum(labels.values())
    return {"mentions": total, "net_sentiment": net_sentiment(labels),
            "negative_share": labels.get("negative", 0) / total if total else None,
            "items": sla["items"], "breached": sla["breached"], "adherence": sla["adherence"],
            "first_response_median": sla["first_response_median"], "resolution_median": sla["resolution_median"]}


def _items(session: Session, start: datetime, end: datetime, as_of: datetime | None = None) -> list[Any]:
    queued = () if as_of is None else (QueueItem.created_at <= as_of,)
    return list(session.execute(
        select(QueueItem.id, QueueItem.team, QueueItem.status, QueueItem.priority_rank, QueueItem.created_at,
               QueueItem.claimed_at, QueueItem.resolved_at, QueueItem.due_at, QueueItem.escalated_at,
               QueueItem.rule_id, Mention.network)
        .join(Mention, Mention.id == QueueItem.mention_id)
        .where(QueueItem.created_at >= start, QueueItem.created_at < end, *queued)
        .order_by(QueueItem.id).limit(ITEM_LIMIT)).all())


def comparison(today: dict[str, Any], previous: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each compared figure against the mean of the previous days that have it (pure). Days without
    a single mention (before the install, or a collection outage) are left out."""
    out = {}
    previous = [p for p in previous if p.get("mentions")]
    for key in COMPARED:
        values = [p[key] for p in previous if p.get(key) is not None]
        mean = sum(values) / len(values) if values else None
        value = today.get(key)
        change = None
        if value is not None and mean not in (None, 0):
            change = 100.0 * (value - mean) / abs(mean)
        out[key] = {"value": value, "previous_mean": mean, "change_pct": change}
    return out


FRESH = timedelta(minutes=5)  # the running counts serve a summary when folded this close to its ``now``


def compute_summary(session: Session, settings: Settings, day: date, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of ``day`` (a local date), as the database stands at ``now``: from the running
    counts (`models.summary_counts`, a few hundred rows) when they were folded within `FRESH` of
    ``now``, else by reading every item of the day (`compute_summary_exact`)."""
    from models import summary_counts
    from models.summary_fold import fresh

    now = now or utcnow()
    if fresh(session, settings.reporting.timezone, now, FRESH):
        return summary_counts.compute_summary_stored(session, settings, day, now)
    return compute_summary_exact(session, settings, day, now)


def top(counts: Counter[str], n: int) -> list[tuple[str, int]]:
    """The ``n`` largest counts, ties by name (pure: the same whichever order they were counted in)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def compute_summary_exact(session: Session, settings: Settings, day: date,
                          now: datetime | None = None) -> dict[str, Any]:
    """Every figure of ``day`` (a local date), as the database stands at ``now``, read item by item
    (the reference the running counts are checked against; the path when they are not fresh)."""
    now = now or utcnow()
    zone = settings.reporting.timezone
    start, end = day_bounds(day, zone)
    heads = (Mention.created_at >= start, Mention.created_at < end, Mention.duplicate_of_id.is_(None))
    rows = session.execute(select(Mention.network, Mention.sentiment_label, func.count()).where(*heads)
                           .group_by(Mention.network, Mention.sentiment_label).limit(1000)).all()
    by_network: Counter[str] = Counter()
    by_sentiment: Counter[str] = Counter()
    for network, label, n in rows:
        by_network[str(network)] += int(n)
        by_sentiment[str(label)] += int(n)
    copies = int(session.scalar(select(func.count()).select_from(Mention).where(
        Mention.created_at >= start, Mention.created_at < end, Mention.duplicate_of_id.is_not(None))) or 0)
    items = _items(session, start, end)
    teams: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        teams[item.team].append(item)
    flags: Counter[str] = Counter()
    for (raw,) in session.execute(select(Mention.risk_flags).where(*heads).limit(ITEM_LIMIT)):
        flags.update(set(raw or []))

    def earlier_core(earlier: date, until: time | None, lag: timedelta) -> dict[str, Any]:
        return core_figures(session, *compared_window(earlier, zone, lag, until))

    return assemble(session, settings, day, now, DayFigures(
        by_network=by_network, by_sentiment=by_sentiment, copies=copies,
        by_team={t: len(v) for t, v in teams.items()}, overall=sla_figures(items, now),
        teams={t: sla_figures(v, now) for t, v in teams.items()}, rules=Counter(i.rule_id for i in items),
        flags=flags, networks=network_value(items, dict(by_network)),
        truncated=len(items) >= ITEM_LIMIT), earlier_core)  # more items than read: the SLA figures cover the first


@dataclass(frozen=True)
class DayFigures:
    """What a reading of a day (item by item here, or from the running counts: `models.summary_counts`)
    hands to `assemble`; teams by key."""

    by_network: Counter[str]  # original posts
    by_sentiment: Counter[str]
    copies: int
    by_team: dict[str, int]  # items queued
    overall: dict[str, Any]  # `sla_figures` of every item
    teams: dict[str, dict[str, Any]]  # `sla_figures` of each team's
    rules: Counter[str]  # items per routing rule
    flags: Counter[str]  # original posts per risk flag
    networks: list[dict[str, Any]]  # `network_value`
    truncated: bool


EarlierCore = Callable[[date, time | None, timedelta], dict[str, Any]]


def assemble(session: Session, settings: Settings, day: date, now: datetime, figures: DayFigures,
             earlier_core: EarlierCore, notable: NotableCandidates = notable_candidates) -> dict[str, Any]:
    """The summary of ``day`` from its figures, read either way: the reads both ways share (top terms,
    alerts, notable items: their order from ``notable``) and each earlier day's compared figures from
    ``earlier_core(day, until, lag)`` (``until``: the local time a day in progress is compared up to;
    ``lag``: how long after its end a whole day is judged)."""
    zone = settings.reporting.timezone
    start, end = day_bounds(day, zone)
    labels = {t.key: t.english for t in settings.teams}  # stored: the same whoever asked (pages translate)
    rules = {r.id: r.description for r in settings.rules}
    heads = (Mention.created_at >= start, Mention.created_at < end, Mention.duplicate_of_id.is_(None))
    texts = list(session.scalars(select(Mention.text).where(*heads).order_by(Mention.created_at.desc())
                                 .limit(TEXT_LIMIT)))
    words, tags = top_terms(texts, [b.name for b in settings.brands] + [k for b in settings.brands for k in b.keywords])
    core = core_from(dict(figures.by_sentiment), figures.overall)
    complete = now >= end
    # A day in progress is compared with the same part of the days before (midnight to the same
    # local time); a day that is over with the whole days, as they stood as long after their end.
    until = None if complete else local_time(now, zone)
    previous = []
    for back in range(1, PREVIOUS_DAYS + 1):
        earlier = day - timedelta(days=back)
        previous.append({"day": earlier.isoformat(), **earlier_core(earlier, until, now - end)})
    by_sentiment = figures.by_sentiment
    return {
        "day": day.isoformat(), "timezone": zone, "start_utc": start.isoformat(), "end_utc": end.isoformat(),
        "computed_at_utc": now.isoformat(timespec="seconds"), "complete": complete,
        "compared_until": until.strftime("%H:%M") if until else None, "truncated": figures.truncated,
        "volume": {"mentions": sum(figures.by_network.values()), "copies": figures.copies,
                   "by_network": dict(figures.by_network.most_common()),
                   "by_sentiment": dict(by_sentiment.most_common()),
                   "by_team": {labels.get(t, t): n for t, n in sorted(figures.by_team.items())},
                   "net_sentiment": net_sentiment(dict(by_sentiment))},
        "sla": {"overall": figures.overall,
                "teams": {labels.get(t, t): v for t, v in sorted(figures.teams.items())}},
        "issues": [{"rule": r, "description": rules.get(r, r), "items": n} for r, n in top(figures.rules, 8)],
        "topics": [{"topic": f, "mentions": n} for f, n in top(figures.flags, 10)],
        "terms": [{"term": w, "posts": n} for w, n in words],
        "hashtags": [{"hashtag": t, "posts": n} for t, n in tags],
        "alerts": _alerts(session, start, end),
        "notable": _notable(session, start, end, labels, notable),
        "networks": figures.networks,
        "previous": previous,
        "comparison": comparison(core, previous),
    }


def _alerts(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = session.scalars(select(Alert).where(Alert.opened_at >= start, Alert.opened_at < end)
                           .order_by(Alert.opened_at).limit(50))
    return [{"summary": a.summary, **figures_of(a), "opened_at_utc": a.opened_at.isoformat(timespec="seconds"),
             "closed_at_utc": a.closed_at.isoformat(timespec="seconds") if a.closed_at else None} for a in rows]


def store_summary(session: Session, figures: dict[str, Any], now: datetime | None = None) -> DailySummary:
    """Keep (or replace) the stored summary of its day."""
    day = date.fromisoformat(figures["day"])
    row = session.get(DailySummary, day)
    if row is None:
        row = DailySummary(day=day)
        session.add(row)
    row.timezone = figures["timezone"]
    row.computed_at = now or utcnow()
    row.figures = figures
    return row


def stored_summary(session: Session, day: date) -> dict[str, Any] | None:
    row = session.get(DailySummary, day)
    return dict(row.figures) if row is not None else None


def stored_days(session: Session, limit: int = 400) -> list[date]:
    return list(session.scalars(select(DailySummary.day).order_by(DailySummary.day.desc()).limit(limit)))
