"""The wall's 24-hour panels from hourly rollups instead of a day of mentions.

`models.summary_fold` folds each post once (its ``mentions`` mark, with the day's counts) into
``wall_hour_counts`` (per UTC hour, network and sentiment label: posts and the sum of their scores)
and ``wall_brand_hours`` (per hour, brand and competitor). A window is then read as

- the rollups of its whole hours (a few hundred rows), plus
- an exact read of its partial hours at either end (the current hour: `ix_mentions_window`), plus
- the posts stored since the fold's mark (ids above it: a few minutes' worth, read by id and
  placed in Python).

The figures are those of `models.kpis.network_hours` and `brand_counts` (the mean sentiment up to
the float sum's order). When the fold is far behind (``TAIL`` posts or more past its mark, e.g. it
never ran) the window is read exactly, as before. A post committed on PostgreSQL after a later one
was folded (an id below the mark, not folded yet) is counted once the next fold run takes it (the
fold re-reads ids below its mark: `summary_fold.MENTION_OVERLAP`), within a minute.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import kpis
from models.queries import _hour_bucket
from models.summary_tables import SummaryFoldMark, WallBrandHour, WallHourCount
from models.tables import Mention

TAIL = 20_000  # posts past the fold's mark read by id; more, and the window is read exactly
HOUR_FORMAT = "%Y-%m-%dT%H:00:00"
NetKey = tuple[datetime, str, str]  # (hour, network, label)
BrandKey = tuple[datetime, str, bool]  # (hour, brand, competitor)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def whole_hours(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """[lo, hi): the whole hours inside [since, until) (lo >= hi: none) (pure)."""
    lo = hour_of(since)
    if lo < since:
        lo += timedelta(hours=1)
    return lo, hour_of(until)


def post_deltas(rows: Iterable[Any]) -> tuple[Counter[NetKey], defaultdict[NetKey, float], Counter[BrandKey]]:
    """(posts, score sums, brand posts) that original posts add to their hours (pure). Each row has
    ``created_at, network, sentiment_label, sentiment_score, brand, is_competitor, duplicate_of_id``;
    a copy adds nothing (the wall counts originals)."""
    posts: Counter[NetKey] = Counter()
    scores: defaultdict[NetKey, float] = defaultdict(float)
    brands: Counter[BrandKey] = Counter()
    for at, network, label, score, brand, competitor, duplicate_of in rows:
        if duplicate_of is not None:
            continue
        key = (hour_of(at), str(network), str(label))
        posts[key] += 1
        scores[key] += float(score or 0.0)
        if brand is not None:
            brands[(key[0], str(brand), bool(competitor))] += 1
    return posts, scores, brands


def fold_posts(session: Session, rows: Iterable[Any]) -> None:
    """Add posts to the rollups (called by the fold, under its mark's lock: one writer at a time)."""
    posts, scores, brands = post_deltas(rows)
    if posts:
        _add_hours(session, posts, scores)
    if brands:
        statement = _upsert(session)(WallBrandHour)
        session.execute(statement.on_conflict_do_update(
            index_elements=["hour", "brand", "competitor"], set_={"n": WallBrandHour.n + statement.excluded.n}),
            [{"hour": h, "brand": b, "competitor": c, "n": n} for (h, b, c), n in sorted(brands.items())])


def _add_hours(session: Session, posts: Counter[NetKey], scores: dict[NetKey, float]) -> None:
    """Add ``posts`` (negative: take away) and their score sums to the hourly counts; a row taken
    down to no post is deleted."""
    statement = _upsert(session)(WallHourCount)
    session.execute(statement.on_conflict_do_update(
        index_elements=["hour", "network", "label"],
        set_={"n": WallHourCount.n + statement.excluded.n,
              "score_sum": WallHourCount.score_sum + statement.excluded.score_sum}),
        [{"hour": h, "network": net, "label": label, "n": n, "score_sum": scores[(h, net, label)]}
         for (h, net, label), n in sorted(posts.items())])
    for hour, network, label in (key for key, n in posts.items() if n < 0):  # a row taken down to no post
        session.execute(delete(WallHourCount).where(WallHourCount.hour == hour, WallHourCount.network == network,
                                                    WallHourCount.label == label, WallHourCount.n == 0))


def move_post(session: Session, at: datetime, network: str, old: tuple[str, float], new: tuple[str, float]) -> None:
    """One folded original post's sentiment changed (a firm's model decided: `summary_fold.relabel`):
    its hour's counts move from the ``old`` (label, score) to the ``new``. Under the fold's mark lock."""
    hour = hour_of(at)
    posts: Counter[NetKey] = Counter()
    scores: defaultdict[NetKey, float] = defaultdict(float)
    for (label, score), sign in ((old, -1), (new, 1)):
        key = (hour, str(network), str(label))
        posts[key] += sign
        scores[key] += sign * float(score or 0.0)
    _add_hours(session, posts, scores)


def _upsert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert


def _fold_mark(session: Session) -> int:
    return session.scalar(select(SummaryFoldMark.last_id).where(SummaryFoldMark.name == "mentions")) or 0


def _consistent(session: Session, read: Any, exact: Any) -> Any:
    """``read(tail)`` from the rollups and the tail past the fold's mark, with the mark unchanged from
    before the tail to after the rollups. On PostgreSQL each statement sees its own snapshot: a fold
    committed between the tail's read and the rollups' would count its posts twice (in both). The
    fold moves the mark and the rollups in one transaction and the mark only grows (a reset empties
    the rollups too), so an unchanged mark means both reads saw the same folded posts. A mark that
    keeps moving (a fold catching up in batches): the exact read."""
    for _attempt in range(3):
        tail = _tail(session)
        if tail is None:
            break
        value = read(tail)
        if _fold_mark(session) == tail[0]:
            return value
    return exact()


def _windowed(session: Session, since: datetime, until: datetime, rollup: Any, exact: Any) -> Any:
    """``rollup(session, since, until, lo, hi, tail)`` over the window's whole hours ``lo``..``hi``
    (`_consistent` with the fold's mark), or ``exact(session, since, until)`` when it has none."""
    lo, hi = whole_hours(since, until)
    if lo >= hi:
        return exact(session, since, until)
    return _consistent(session, lambda tail: rollup(session, since, until, lo, hi, tail),
                       lambda: exact(session, since, until))


def _tail(session: Session) -> tuple[int, list[Any]] | None:
    """(the fold's mark, the original posts stored past it), or None when the fold is far behind."""
    mark = _fold_mark(session)
    newest = session.scalar(select(func.max(Mention.id))) or 0
    if not mark or newest - mark >= TAIL:
        return None
    return mark, list(session.execute(
        select(Mention.created_at, Mention.network, Mention.sentiment_label, Mention.sentiment_score,
               Mention.brand, Mention.is_competitor, Mention.duplicate_of_id)
        .where(Mention.id > mark, Mention.id <= newest).order_by(Mention.id).limit(TAIL)))


def _edges(since: datetime, until: datetime, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    return [(a, b) for a, b in ((since, lo), (hi, until)) if a < b]


def network_hours(session: Session, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """`models.kpis.network_hours` (same rows, same order) from the rollups."""
    return _windowed(session, since, until, _network_hours, kpis.network_hours)  # type: ignore[no-any-return]


def _network_hours(session: Session, since: datetime, until: datetime, lo: datetime, hi: datetime,
                   tail: tuple[int, list[Any]]) -> list[dict[str, Any]]:
    posts: Counter[NetKey] = Counter()
    scores: defaultdict[NetKey, float] = defaultdict(float)
    for r in session.execute(select(WallHourCount.hour, WallHourCount.network, WallHourCount.label, WallHourCount.n,
                                    WallHourCount.score_sum)
                             .where(WallHourCount.hour >= lo, WallHourCount.hour < hi).limit(24 * 400 * 50)):
        posts[(r.hour, r.network, r.label)] += r.n
        scores[(r.hour, r.network, r.label)] += r.score_sum
    bucket = _hour_bucket(session).label("hour")
    score = func.sum(Mention.sentiment_score)
    for a, b in _edges(since, until, lo, hi):
        for h, net, label, n, total in session.execute(
                select(bucket, Mention.network, Mention.sentiment_label, func.count(), score)
                .where(Mention.created_at >= a, Mention.created_at < b, kpis._heads())
                .group_by(bucket, Mention.network, Mention.sentiment_label).limit(2 * 50 * 10)):
            key = (datetime.strptime(h, HOUR_FORMAT), str(net), str(label))
            posts[key] += int(n)
            scores[key] += float(total or 0.0)
    late = [r for r in tail[1] if lo <= r[0] < hi]
    more_posts, more_scores, _brands = post_deltas(late)
    posts.update(more_posts)
    for key, total in more_scores.items():
        scores[key] += total
    return hour_rows(posts, scores)


def hour_rows(posts: Counter[NetKey], scores: dict[NetKey, float]) -> list[dict[str, Any]]:
    """Rows shaped as `kpis.network_hours` from per (hour, network, label) posts and score sums (pure)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for (hour, net, label), n in posts.items():
        if not n:
            continue
        row = rows.setdefault((hour.strftime(HOUR_FORMAT), net), {"count": 0, "negative": 0, "positive": 0, "sum": 0.0})
        row["count"] += n
        row["sum"] += scores[(hour, net, label)]
        if label in ("negative", "positive"):
            row[label] += n
    return [{"hour": h, "network": net, "count": r["count"], "negative": r["negative"], "positive": r["positive"],
             "mean": round(r["sum"] / r["count"], 3)} for (h, net), r in sorted(rows.items())]


def brand_counts(session: Session, since: datetime, until: datetime) -> list[tuple[str, bool, int]]:
    """`models.kpis.brand_counts` (same figures, brands in name order) from the rollups."""
    return _windowed(session, since, until, _brand_counts, kpis.brand_counts)  # type: ignore[no-any-return]


def _brand_counts(session: Session, since: datetime, until: datetime, lo: datetime, hi: datetime,
                  tail: tuple[int, list[Any]]) -> list[tuple[str, bool, int]]:
    totals: Counter[tuple[str, bool]] = Counter()
    for brand, competitor, n in session.execute(
            select(WallBrandHour.brand, WallBrandHour.competitor, func.sum(WallBrandHour.n))
            .where(WallBrandHour.hour >= lo, WallBrandHour.hour < hi)
            .group_by(WallBrandHour.brand, WallBrandHour.competitor).limit(500)):
        totals[(str(brand), bool(competitor))] += int(n)
    for a, b in _edges(since, until, lo, hi):
        for brand, competitor, n in kpis.brand_counts(session, a, b):
            totals[(brand, competitor)] += n
    _posts, _scores, brands = post_deltas(r for r in tail[1] if lo <= r[0] < hi)
    for (_hour, brand, competitor), n in brands.items():
        totals[(brand, competitor)] += n
    return [(b, c, n) for (b, c), n in sorted(totals.items()) if n]
