"""The daily summary's notable items (`models.summary`): the day's critical and high items that
mattered most, one per author, in the order `notable_candidates` reads item by item (or
`models.summary_counts.folded_notable` from the folded items).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import Mention, QueueItem

NOTABLE = 10
NOTABLE_RANKS = (0, 1)  # critical and high (collectors.routing.PRIORITY_RANK)
NotableCandidates = Callable[[Session, datetime, datetime, int], list[int]]


def notable_candidates(session: Session, start: datetime, end: datetime, limit: int) -> list[int]:
    """The day's critical and high items, highest priority first, then the widest audience, read item
    by item with their posts (the reference; `models.summary_counts.folded_notable` reads the same
    order from the folded items)."""
    return list(session.scalars(
        select(QueueItem.id).join(Mention, Mention.id == QueueItem.mention_id)
        .where(QueueItem.created_at >= start, QueueItem.created_at < end, QueueItem.priority_rank.in_(NOTABLE_RANKS))
        .order_by(QueueItem.priority_rank, Mention.author_followers.desc().nulls_last(), QueueItem.id)
        .limit(limit)))


def _notable(session: Session, start: datetime, end: datetime, labels: dict[str, str],
             candidates: NotableCandidates) -> list[dict[str, Any]]:
    """The day's items that mattered most: highest priority first, then the widest audience, one per
    author (an influencer's ten complaints are one notable voice). ``candidates`` orders the day's
    items (`notable_candidates`); only the first NOTABLE * 20 are read with their posts."""
    order = {item_id: n for n, item_id in enumerate(candidates(session, start, end, NOTABLE * 20))}
    rows = sorted(session.execute(
        select(QueueItem.id, QueueItem.team, QueueItem.status, Mention.id, Mention.network, Mention.author_handle,
               Mention.author_followers, Mention.priority, Mention.text, Mention.created_at)
        .join(Mention, Mention.id == QueueItem.mention_id).where(QueueItem.id.in_(list(order)))).all(),
        key=lambda row: order[row[0]])
    authors: set[str] = set()
    picked = []
    for row in rows:
        author = row[5] or f"#{row[3]}"  # a post without a handle (news, imports) is its own voice
        if author in authors:
            continue
        authors.add(author)
        picked.append(row)
    rows = picked[:NOTABLE]
    return [{"item": i, "team": labels.get(team, team), "status": status, "mention": m, "network": net,
             "author": author or "", "followers": followers, "priority": prio, "text": text[:280],
             "created_at_utc": created.isoformat(timespec="seconds")}
            for i, team, status, m, net, author, followers, prio, text, created in rows]
