"""Folding queue items and mentions into the daily summary's running counts (`models.summary_tables`),
so that a day's summary reads a few hundred rows instead of every item of the day.

Each run of `fold` (the collector's ``summary:fold`` job, every minute; the daily summary job and
the benchmark call it first too) reads what changed since its mark, in batches of `BATCH`, one short
write transaction each:

- queue items by ``(updated_at, id)`` from ``OVERLAP`` before the mark (a transaction that
  committed late with an earlier stamp is still seen); each item is compared with its folded copy
  (``summary_folded_items``): unchanged, nothing; changed (claimed, resolved, rerouted, escalated
  with a new due time), its old keys are taken back and its new ones added. Re-reading is therefore
  harmless, and a run stopped half-way (a crash) simply starts again from the mark;
- mentions by id from ``MENTION_OVERLAP`` ids below the mark, those not folded yet, into the day's
  counts and, in the same transaction, the wall's hourly rollups (`models.wall_rollup`). A post
  changes once stored only when a firm's own model decides its sentiment: `relabel` then moves
  its folded counts, under the same mark's lock.

The mark rows are locked first in each transaction, so two collectors never fold the same change
twice. A change of the reporting time zone empties the counts: they are folded again from the start.

Minutes (first response, resolution) are counted in fixed buckets (`bucket`): 1 minute wide under an
hour, 5 under 4 hours, 15 under a day, 60 under a week, a day beyond. A percentile read from them
(`bucket_middle`) is within half a bucket of the exact one: 30 s under an hour, 2.5 min under
4 hours, 7.5 min under a day, 30 min under a week.

A day in progress is compared with the same part of the 7 days before, as each stood then
(`models.summary_counts.core_until`). For that, the compared figures are also counted by the hour
of the day (from the day's start, 0 to 24) at which each became true (`item_events`, `hour_keys`):
an item queued, first answered, closed by its due time, breached (its due time passed, not met),
resolved; an original post seen (created and collected, whichever came later). Measures ``h:...``,
value ``"HH|..."``. A post seen in a later hour than it was created in (collected late) also keeps
that time (``summary_folded_mentions.seen_at``), so that the partial hour of a comparison finds it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import astuple, dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from models import wall_rollup
from models.db import Database
from models.summary import FIRST_DAY, LAST_DAY, day_bounds, local_day
from models.summary_sla import filed_closed
from models.summary_tables import SummaryCount, SummaryFoldedItem, SummaryFoldedMention, SummaryFoldMark
from models.tables import CLOSED_STATUSES, Mention, QueueItem, utcnow
from models.wall_rollup import WallBrandHour, WallHourCount

BUCKETS = ((60, 1), (240, 5), (1440, 15), (10080, 60))  # (below this many minutes, bucket width)
LAST_WIDTH = 1440
OVERLAP = timedelta(minutes=10)  # items changed this long before the mark are read again
MENTION_OVERLAP = 20_000  # ids below the mark read again (posts committed late, PostgreSQL)
BATCH = 5000
DUE_FORMAT = "%Y-%m-%dT%H:%M"  # an open item's due minute
HOURS = 26  # hour 0 to 25: the end of the longest local day (25 hours, a DST change) is hour 25; later: no part
HOUR_MEASURES = ("h:items", "h:first", "h:met", "h:breach", "h:resolved", "h:seen")

Key = tuple[date, str, str, str, str]  # (day, team, network, measure, value)


def bucket(minutes: float) -> int:
    """The lower bound, in minutes, of the bucket ``minutes`` falls in (pure)."""
    m = max(0.0, minutes)
    for bound, width in BUCKETS:
        if m < bound:
            return int(m // width) * width
    return int(m // LAST_WIDTH) * LAST_WIDTH


def bucket_middle(lower: int) -> float:
    """The value a bucket stands for: its middle (at most half its width from any value in it)."""
    width = next((w for bound, w in BUCKETS if lower < bound), LAST_WIDTH)
    return lower + width / 2


@dataclass(frozen=True)
class ItemState:
    """What of a queue item the summary counts (its folded copy: `SummaryFoldedItem`)."""

    network: str
    team: str
    status: str
    priority_rank: int
    rule_id: str
    created_at: datetime
    claimed_at: datetime | None
    resolved_at: datetime | None
    due_at: datetime
    author_followers: int | None = None  # not counted: the summary's notable items are ordered by it


_STATE_FIELDS = tuple(ItemState.__dataclass_fields__)


def _minutes(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds() / 60)


@lru_cache(maxsize=64)
def day_start(day: date, timezone: str) -> datetime | None:
    """The start of a local day, naive UTC (`models.summary.day_bounds`, kept: one per item folded);
    None for a day no summary covers (before 2000 or after 2099: a post dated 1970 by its platform
    is stored and folded all the same, without hourly counts)."""
    return day_bounds(day, timezone)[0] if FIRST_DAY <= day <= LAST_DAY else None


def hour_of(at: datetime, start: datetime) -> int:
    """The hour of a day (from its ``start``, 0 to 24 on a 25-hour day) that holds ``at`` (pure)."""
    return int((at - start).total_seconds() // 3600)


def hour_value(hour: int, value: str) -> str:
    """The counts' value of an hourly measure: zero-padded, so that ``< "HH|"`` selects the hours before."""
    return f"{hour:02d}|{value}"


Event = tuple[str, str, datetime]  # (measure, value, when it became true)


def item_events(item: ItemState) -> list[Event]:
    """The compared figures one queue item adds, each with the time it became true (pure), as
    `models.summary.core_figures` judges a day at a time of day: queued at its creation; unless filed
    closed, first answered at its claim (its bucket of minutes), met at its closing when closed by its
    due time, else breached at its due time (closed later or still open: late or overdue from then),
    resolved at its resolving (its bucket)."""
    events: list[Event] = [("h:items", "", item.created_at)]
    if filed_closed(item):
        return events
    if item.claimed_at is not None:
        events.append(("h:first", str(bucket(_minutes(item.claimed_at, item.created_at))), item.claimed_at))
    closed = item.status in CLOSED_STATUSES and item.resolved_at is not None
    if closed and item.resolved_at is not None and item.resolved_at <= item.due_at:
        events.append(("h:met", "", item.resolved_at))
    else:
        events.append(("h:breach", "", item.due_at))
    if closed and item.status == "resolved" and item.resolved_at is not None:
        events.append(("h:resolved", str(bucket(_minutes(item.resolved_at, item.created_at))), item.resolved_at))
    return events


def hour_keys(day: date, start: datetime | None, events: list[Event]) -> list[Key]:
    """The hourly counts of ``events`` of ``day`` (starting at ``start``) (pure): an event before the
    day's start (a due time before the item was queued, a clock ahead on another machine) counts
    from hour 0, as the items read one by one count it in every part of the day; one after the day,
    in none."""
    if start is None:
        return []
    keys: list[Key] = []
    for measure, value, at in events:
        hour = max(0, hour_of(at, start))
        if hour < HOURS:
            keys.append((day, "", "", measure, hour_value(hour, value)))
    return keys


def item_keys(item: ItemState, timezone: str) -> list[Key]:
    """The counts one queue item adds to its day (the day it was queued), as `models.summary_sla.sla_figures`
    and `network_value` judge it (pure). An open item is counted under its due minute: whoever
    reads decides, at their ``now``, whether it is breached."""
    day, team, net = local_day(item.created_at, timezone), item.team, item.network
    keys: list[Key] = [(day, team, net, "items", ""), (day, team, net, "status", item.status),
                       (day, "", "", "rule", item.rule_id[:100])]
    if item.priority_rank <= 1:
        keys.append((day, team, net, "high", ""))
    keys += hour_keys(day, day_start(day, timezone), item_events(item))
    if filed_closed(item):
        keys.append((day, team, "", "filed", ""))
        return keys
    if item.claimed_at is not None:
        keys.append((day, team, "", "first", str(bucket(_minutes(item.claimed_at, item.created_at)))))
    if item.status in CLOSED_STATUSES and item.resolved_at is not None:
        keys.append((day, team, "", "met" if item.resolved_at <= item.due_at else "late", ""))
        if item.status == "resolved":
            keys.append((day, team, "", "resolution", str(bucket(_minutes(item.resolved_at, item.created_at)))))
    else:
        keys.append((day, team, "", "open", item.due_at.strftime(DUE_FORMAT)))
    return keys


def seen_late(created_at: datetime, collected_at: datetime, timezone: str) -> datetime | None:
    """When a post was seen (collected) if that was in a later hour of its day than its creation
    (kept with its folded copy: the partial hour of a comparison reads it), else None: seen in the
    hour it was created, or after its day (pure)."""
    start = day_start(local_day(created_at, timezone), timezone)
    if start is None:
        return None
    return collected_at if hour_of(created_at, start) < hour_of(collected_at, start) < HOURS else None


def mention_keys(network: str, created_at: datetime, label: str, flags: Any, duplicate_of: int | None,
                 timezone: str, collected_at: datetime | None = None) -> list[Key]:
    """The counts one post adds to the day it was created (pure): a copy only as a copy; an original
    under its sentiment and each of its risk flags once, and under the hour it was seen in (created
    and collected, whichever later)."""
    day = local_day(created_at, timezone)
    if duplicate_of is not None:
        return [(day, "", network, "copies", "")]
    seen = max(created_at, collected_at or created_at)
    return ([(day, "", network, "sentiment", label)] + [(day, "", "", "flag", str(f)[:100]) for f in set(flags or [])]
            + hour_keys(day, day_start(day, timezone), [("h:seen", label, seen)]))


def _mark(session: Session, name: str, timezone: str) -> SummaryFoldMark:
    """The fold's mark ``name``, locked; made first if there is none. Two collectors folding for the
    first time at once both find none: the row is inserted unless there (not added, which made the
    second fail on the primary key, an ERROR in its log), then read and locked."""
    mark = session.get(SummaryFoldMark, name, with_for_update=True)
    if mark is None:
        values = {"name": name, "timezone": timezone, "at": None, "last_id": 0, "folded_at": None}
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(pg_insert(SummaryFoldMark).values(values).on_conflict_do_nothing())
        else:  # SQLite: writers are one at a time (BEGIN IMMEDIATE); OR IGNORE all the same
            session.execute(insert(SummaryFoldMark).values(values).prefix_with("OR IGNORE"))
        mark = session.get(SummaryFoldMark, name, with_for_update=True, populate_existing=True)
        assert mark is not None
    return mark


def _apply(session: Session, delta: Counter[Key]) -> None:
    rows = [{"day": k[0], "team": k[1], "network": k[2], "measure": k[3], "value": k[4], "n": n}
            for k, n in delta.items() if n]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    statement = upsert(SummaryCount)
    session.execute(statement.on_conflict_do_update(
        index_elements=["day", "team", "network", "measure", "value"],
        set_={"n": SummaryCount.n + statement.excluded.n}), rows)
    session.execute(delete(SummaryCount).where(SummaryCount.day.in_({r["day"] for r in rows}), SummaryCount.n == 0))


def _fold_items(session: Session, timezone: str, now: datetime, after: tuple[datetime, int] | None
                ) -> tuple[int, tuple[datetime, int] | None]:
    """One batch of changed items after the position ``after``: (items read, the new position)."""
    mark = _mark(session, "items", timezone)
    if after is None and mark.at is not None:
        after = (mark.at - OVERLAP, 0)
    query = (select(QueueItem.id, QueueItem.updated_at, Mention.network, QueueItem.team, QueueItem.status,
                    QueueItem.priority_rank, QueueItem.rule_id, QueueItem.created_at, QueueItem.claimed_at,
                    QueueItem.resolved_at, QueueItem.due_at, Mention.author_followers)
             .join(Mention, Mention.id == QueueItem.mention_id).where(QueueItem.updated_at <= now))
    if after is not None:
        query = query.where(tuple_(QueueItem.updated_at, QueueItem.id) > tuple_(*after))
    rows = session.execute(query.order_by(QueueItem.updated_at, QueueItem.id).limit(BATCH)).all()
    if not rows:
        return 0, after
    folded = {f.item_id: ItemState(*(getattr(f, n) for n in _STATE_FIELDS)) for f in session.scalars(
        select(SummaryFoldedItem).where(SummaryFoldedItem.item_id.in_([r.id for r in rows])))}
    delta: Counter[Key] = Counter()
    added, changed = [], []
    for r in rows:
        state = ItemState(*r[2:])
        before = folded.get(r.id)
        if before == state:
            continue
        if before is not None:
            delta.subtract(item_keys(before, timezone))
            changed.append({"item_id": r.id, **dict(zip(_STATE_FIELDS, astuple(state), strict=True))})
        else:
            added.append({"item_id": r.id, **dict(zip(_STATE_FIELDS, astuple(state), strict=True))})
        folded[r.id] = state  # (an item twice in one batch cannot be: ids are unique per read)
        delta.update(item_keys(state, timezone))
    if added:
        session.execute(insert(SummaryFoldedItem), added)
    if changed:
        session.execute(update(SummaryFoldedItem), changed)
    _apply(session, delta)
    last = (rows[-1].updated_at, rows[-1].id)
    mark.at = last[0] if mark.at is None else max(mark.at, last[0])
    return len(rows), last


def _fold_mentions(session: Session, timezone: str, after: int | None) -> tuple[int, int]:
    """One batch of posts not folded yet with ids above ``after``: (posts read, the new position)."""
    mark = _mark(session, "mentions", timezone)
    if after is None:
        after = max(0, mark.last_id - MENTION_OVERLAP)
    rows = session.execute(
        select(Mention.id, Mention.network, Mention.created_at, Mention.sentiment_label, Mention.risk_flags,
               Mention.duplicate_of_id, Mention.sentiment_score, Mention.brand, Mention.is_competitor,
               Mention.collected_at)
        .outerjoin(SummaryFoldedMention, SummaryFoldedMention.mention_id == Mention.id)
        .where(Mention.id > after, SummaryFoldedMention.mention_id.is_(None))
        .order_by(Mention.id).limit(BATCH)).all()
    if not rows:
        return 0, after
    delta: Counter[Key] = Counter()
    for r in rows:
        delta.update(mention_keys(r.network, r.created_at, r.sentiment_label, r.risk_flags, r.duplicate_of_id,
                                  timezone, r.collected_at))
    session.execute(insert(SummaryFoldedMention), [
        {"mention_id": r.id, "seen_at": None if r.duplicate_of_id is not None
         else seen_late(r.created_at, r.collected_at, timezone)} for r in rows])
    _apply(session, delta)
    wall_rollup.fold_posts(session, [(r.created_at, r.network, r.sentiment_label, r.sentiment_score, r.brand,
                                      r.is_competitor, r.duplicate_of_id) for r in rows])
    mark.last_id = max(mark.last_id, rows[-1].id)
    return len(rows), rows[-1].id


def relabel(session: Session, mention: Mention, label: str, score: float, timezone: str) -> None:
    """Give a stored post the sentiment that decided it (a firm's own model: `sentiment:rescore`), in
    the caller's transaction: its row, and, when the fold has counted it already, the day's counts
    and the wall's hourly rollups moved from the old label to the new. The fold's mark is locked
    first (made, in ``timezone``, if no fold ran yet), so a fold running meanwhile either counted the
    post before (the move is made here) or counts it after this commits, with the new label."""
    mark = _mark(session, "mentions", timezone)
    # The label as committed, read under the lock: another run that relabelled this post meanwhile
    # has moved its counts already (its model_scores row then fails this one's insert too).
    old_label, old_score = session.execute(select(Mention.sentiment_label, Mention.sentiment_score)
                                           .where(Mention.id == mention.id)).one()
    mention.sentiment_label, mention.sentiment_score = label, score
    if old_label == label or session.get(SummaryFoldedMention, mention.id) is None:
        return
    delta: Counter[Key] = Counter()
    for lab, sign in ((old_label, -1), (label, 1)):
        for key in mention_keys(mention.network, mention.created_at, lab, mention.risk_flags,
                                mention.duplicate_of_id, mark.timezone, mention.collected_at):
            delta[key] += sign
    _apply(session, delta)
    if mention.duplicate_of_id is None:  # the wall counts originals
        wall_rollup.move_post(session, mention.created_at, mention.network, (old_label, old_score), (label, score))


@dataclass(frozen=True)
class FoldReport:
    items: int  # queue items read (changed since the mark, or re-read in the overlap)
    mentions: int  # posts folded
    reset: bool  # the time zone changed: every count was folded again


def _reset_if_moved(db: Database, timezone: str) -> bool:
    with db.write.begin() as session:
        # The marks locked first, as the fold and `relabel` lock them before the counts they change.
        zones = set(session.scalars(select(SummaryFoldMark.timezone).with_for_update()))
        if not zones or zones == {timezone}:
            return False
        for table in (SummaryCount, SummaryFoldedItem, SummaryFoldedMention, SummaryFoldMark, WallHourCount,
                      WallBrandHour):
            session.execute(delete(table))
        return True


def fold(db: Database, timezone: str, now: datetime | None = None) -> FoldReport:
    """Fold every change up to ``now`` into the counts (batches of `BATCH`, a transaction each)."""
    now = now or utcnow()
    reset = _reset_if_moved(db, timezone)
    items = mentions = 0
    position: tuple[datetime, int] | None = None
    while True:
        with db.write.begin() as session:
            n, position = _fold_items(session, timezone, now, position)
        items += n
        if n < BATCH:
            break
    last: int | None = None
    while True:
        with db.write.begin() as session:
            n, last = _fold_mentions(session, timezone, last)
        mentions += n
        if n < BATCH:
            break
    with db.write.begin() as session:
        for name in ("items", "mentions"):
            _mark(session, name, timezone).folded_at = now
    return FoldReport(items, mentions, reset)


def fresh(session: Session, timezone: str, now: datetime, within: timedelta) -> bool:
    """Whether both folds ran to their end within ``within`` of ``now`` (before or after), in ``timezone``."""
    marks = session.execute(select(SummaryFoldMark.timezone, SummaryFoldMark.folded_at)).all()
    return len(marks) == 2 and all(
        zone == timezone and at is not None and abs(at - now) <= within for zone, at in marks)
