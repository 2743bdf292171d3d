"""The figures of the wall (and of the daily summary): bounded reads, then pure functions.

Reads take the session first and never commit; each is served by an index (mentions by
``created_at``: the windows' counts and groups from ``ix_mentions_window`` alone; queue items by
``claimed_at``, with team and queueing time in ``ix_queue_items_claimed``; alerts by the
open-alert index). "Mentions"
are the original posts: copies (``duplicate_of_id``) are counted once, with their original.
The pure functions below them turn rows into figures and are tested without a database.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median as _median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models.queries import _hour_bucket
from models.stopwords import STOPWORDS
from models.tables import Alert, Mention, QueueItem

TEXT_SAMPLE = 2000  # newest posts read for the top terms
RESPONSE_SAMPLE = 20000  # first responses read for a median (the newest, on a day with more)


def _heads() -> Any:
    return Mention.duplicate_of_id.is_(None)


def mention_count(session: Session, since: datetime, until: datetime) -> int:
    """Mentions created in [since, until)."""
    return int(session.scalar(select(func.count()).select_from(Mention).where(
        Mention.created_at >= since, Mention.created_at < until, _heads())) or 0)


def sentiment_counts(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Mentions per sentiment label created in [since, until)."""
    rows = session.execute(select(Mention.sentiment_label, func.count()).where(
        Mention.created_at >= since, Mention.created_at < until, _heads()).group_by(Mention.sentiment_label).limit(10))
    return {str(label): int(n) for label, n in rows}


def first_responses(session: Session, since: datetime, until: datetime,
                    limit: int = RESPONSE_SAMPLE) -> list[tuple[str, float]]:
    """(team, minutes from queueing to the first claim) of the items first claimed in [since, until),
    the newest ``limit`` of them."""
    rows = session.execute(select(QueueItem.team, QueueItem.created_at, QueueItem.claimed_at).where(
        QueueItem.claimed_at >= since, QueueItem.claimed_at < until).order_by(QueueItem.claimed_at.desc())
        .limit(limit))
    return [(str(team), max(0.0, (claimed - created).total_seconds() / 60))
            for team, created, claimed in rows if claimed is not None]


def network_hours(session: Session, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per hour and network: mentions, negative and positive ones, mean sentiment (bounded by hours x networks)."""
    bucket = _hour_bucket(session).label("hour")
    rows = session.execute(
        select(bucket, Mention.network, func.count(),
               func.sum(case((Mention.sentiment_label == "negative", 1), else_=0)),
               func.sum(case((Mention.sentiment_label == "positive", 1), else_=0)),
               func.avg(Mention.sentiment_score))
        .where(Mention.created_at >= since, Mention.created_at < until, _heads())
        .group_by(bucket, Mention.network).order_by(bucket, Mention.network).limit(24 * 7 * 50)
    )
    return [{"hour": h, "network": str(net), "count": int(n), "negative": int(neg or 0), "positive": int(pos or 0),
             "mean": round(float(m or 0), 3)} for h, net, n, neg, pos, m in rows]


def brand_counts(session: Session, since: datetime, until: datetime) -> list[tuple[str, bool, int]]:
    """(brand, competitor, mentions) in [since, until), for posts matched to a brand."""
    rows = session.execute(
        select(Mention.brand, Mention.is_competitor, func.count())
        .where(Mention.created_at >= since, Mention.created_at < until, _heads(), Mention.brand.is_not(None))
        .group_by(Mention.brand, Mention.is_competitor).limit(500)
    )
    return [(str(b), bool(c), int(n)) for b, c, n in rows]


def recent_texts(session: Session, since: datetime, until: datetime, limit: int = TEXT_SAMPLE) -> list[str]:
    """The texts of the newest ``limit`` mentions in [since, until)."""
    return list(session.scalars(select(Mention.text).where(
        Mention.created_at >= since, Mention.created_at < until, _heads())
        .order_by(Mention.created_at.desc()).limit(limit)))


def recent_ids(session: Session, since: datetime, until: datetime, limit: int = TEXT_SAMPLE) -> list[int]:
    """The ids of the newest ``limit`` mentions in [since, until) (`recent_texts`' posts)."""
    return list(session.scalars(select(Mention.id).where(
        Mention.created_at >= since, Mention.created_at < until, _heads())
        .order_by(Mention.created_at.desc()).limit(limit)))


def texts_by_id(session: Session, ids: list[int]) -> dict[int, str]:
    """The texts of these mentions (at most ``TEXT_SAMPLE``)."""
    return {i: t for i, t in session.execute(select(Mention.id, Mention.text).where(
        Mention.id.in_(ids[:TEXT_SAMPLE])).limit(TEXT_SAMPLE))}


def open_alerts(session: Session, limit: int = 6) -> list[Alert]:
    """Open spike alerts, the most recently confirmed first."""
    return list(session.scalars(select(Alert).where(Alert.closed_at.is_(None))
                                .order_by(Alert.last_seen_at.desc(), Alert.id.desc()).limit(limit)))


def open_alert_count(session: Session) -> int:
    """How many spike alerts are open, whatever `open_alerts`' limit (the wall says how many it does not show)."""
    return int(session.scalar(select(func.count()).select_from(Alert).where(Alert.closed_at.is_(None))) or 0)


def change_marks(session: Session) -> tuple[int, datetime | None, datetime | None]:
    """The newest mention id and the latest alert sighting and closing: with the newest item
    change, the wall's cheap "did anything change" marker."""
    newest = session.scalar(select(func.max(Mention.id))) or 0
    seen, closed = session.execute(select(func.max(Alert.last_seen_at), func.max(Alert.closed_at))).one()
    return newest, seen, closed


def mention_excerpts(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """Author, network and text of these mentions, in the order given."""
    if not ids:
        return []
    rows = {m.id: m for m in session.scalars(select(Mention).where(Mention.id.in_(ids[:50])))}
    return [{"id": i, "author": rows[i].author_handle or rows[i].author_name or "", "network": rows[i].network,
             "text": rows[i].text} for i in ids if i in rows]


# --- pure figures ---------------------------------------------------------------------------------


def local_midnight(now: datetime, timezone: str) -> datetime:
    """The start of ``now``'s day in ``timezone``, as naive UTC (the database's convention)."""
    zone = ZoneInfo(timezone)
    local = now.replace(tzinfo=UTC).astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    return start.astimezone(UTC).replace(tzinfo=None)


def same_time_last_week(now: datetime, timezone: str) -> datetime:
    """The same local time of day a week ago, as naive UTC (across a DST change this is not
    ``now - 7 days``: the local clock moved)."""
    zone = ZoneInfo(timezone)
    local = now.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None) - timedelta(days=7)
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def net_sentiment(counts: dict[str, int]) -> float | None:
    """(positive - negative) / all mentions, in points from -100 to +100; None without mentions."""
    total = sum(counts.values())
    if not total:
        return None
    return 100.0 * (counts.get("positive", 0) - counts.get("negative", 0)) / total


def sentiment_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Positive, negative and other mentions over ``network_hours`` rows (the day's sentiment from
    the timeline's one grouped read, not a second pass over the day's mentions)."""
    positive, negative = sum(r["positive"] for r in rows), sum(r["negative"] for r in rows)
    return {"positive": positive, "negative": negative, "other": sum(r["count"] for r in rows) - positive - negative}


def change(now: int, before: int) -> float | None:
    """Relative change in percent; None when there was nothing before."""
    return None if before == 0 else 100.0 * (now - before) / before


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return float(_median(values)) if values else None


def medians_by_team(responses: list[tuple[str, float]]) -> tuple[float | None, dict[str, float | None]]:
    """The median over all teams, and per team."""
    per: dict[str, list[float]] = {}
    for team, minutes in responses:
        per.setdefault(team, []).append(minutes)
    return median(m for _, m in responses), {team: median(v) for team, v in per.items()}


def network_totals(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Mentions per network over ``network_hours`` rows, most first."""
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r["network"]] += r["count"]
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class Voice:
    brand: str
    competitor: bool
    mentions: int
    share: float  # of all brand-matched mentions, 0..1


def share_of_voice(rows: list[tuple[str, bool, int]]) -> list[Voice]:
    total = sum(n for _, _, n in rows)
    if not total:
        return []
    return sorted((Voice(b, c, n, n / total) for b, c, n in rows), key=lambda v: (-v.mentions, v.brand))


_WORD = re.compile(r"[#@]?[^\W\d_][\w'’-]*", re.UNICODE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def term_skip(exclude: Iterable[str] = ()) -> frozenset[str]:
    """The words and hashtags never counted: stop words, and the brands' own names and hashtags
    (every post says them) (pure)."""
    skip = set(STOPWORDS)
    for phrase in exclude:
        skip.update(w.lower() for w in _WORD.findall(phrase))
        skip.add("#" + "".join(_WORD.findall(phrase)).lower())  # the brand's own hashtag
    return frozenset(skip)


Terms = tuple[frozenset[str], frozenset[str]]  # (words, hashtags) of one post


def post_terms(text: str, skip: frozenset[str]) -> Terms:
    """The words (lower-cased, three letters or more) and hashtags of one post, each once; handles,
    links and ``skip`` left out (pure)."""
    words: set[str] = set()
    tags: set[str] = set()
    for token in _WORD.findall(_URL.sub(" ", text)):
        token = token.lower().strip("'’-")
        if token.startswith("#"):
            if len(token) > 2 and token not in skip:
                tags.add(token)
        elif not token.startswith("@") and len(token) >= 3 and token not in skip:
            words.add(token)
    return frozenset(words), frozenset(tags)


def count_terms(posts: Iterable[Terms], limit: int = 10) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(words, hashtags), each the ``limit`` most frequent over ``posts`` with counts (pure)."""
    words: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    for post_words, post_tags in posts:
        words.update(post_words)
        tags.update(post_tags)
    order = lambda kv: (-kv[1], kv[0])  # noqa: E731
    return sorted(words.items(), key=order)[:limit], sorted(tags.items(), key=order)[:limit]


def top_terms(texts: Iterable[str], exclude: Iterable[str] = (), limit: int = 10) -> tuple[
        list[tuple[str, int]], list[tuple[str, int]]]:
    """(words, hashtags), each the ``limit`` most frequent with counts, counted once per post.

    Words are lower-cased, three letters or more, not stop words and not among ``exclude``
    (the brands' own names and hashtags: every post says them); handles and links are skipped."""
    skip = term_skip(exclude)
    return count_terms((post_terms(text, skip) for text in texts), limit)


def hours_back(now: datetime, hours: int) -> datetime:
    """The start of the hour ``hours - 1`` hours before ``now``'s (a window of ``hours`` whole hours)."""
    return (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
