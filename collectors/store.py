"""Batch storage: a page of enriched posts and the source's cursor in one transaction.

Dedupe happens here, against the database: a post whose (source, external id) is
already stored is skipped (a replay after a crash stores nothing twice), and a post
whose cluster key matches a mention of the last `CLUSTER_WINDOW` is stored as a copy
(`duplicate_of_id`) without a queue item of its own, so a repost across networks is
worked once. The cursor is written in the same transaction as the items it covers,
so it can never run ahead of what is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from collectors.pipeline import Enriched, priority_rank
from models.tables import Mention, QueueItem, SourceRow

CLUSTER_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class StoreResult:
    stored: int  # new mentions, originals and copies
    queued: int  # of which got a queue item
    copies: int  # stored as copies of an earlier post (cross-network reposts)
    skipped: int  # already stored (same source and external id)


def _known_external_ids(session: Session, source_id: int, ids: Sequence[str]) -> set[str]:
    rows = session.execute(
        select(Mention.external_id).where(Mention.source_id == source_id, Mention.external_id.in_(ids))
    )
    return {r[0] for r in rows}


def _cluster_heads(session: Session, keys: Sequence[str], since: datetime) -> dict[str, int]:
    rows = session.execute(
        select(Mention.cluster_key, func.min(Mention.id))
        .where(Mention.cluster_key.in_(keys), Mention.collected_at >= since)
        .group_by(Mention.cluster_key)
    )
    return {key: int(head) for key, head in rows}


def store_batch(
    session: Session,
    source_id: int,
    batch: Sequence[Enriched],
    next_cursor: str | None,
    now: datetime,
) -> StoreResult:
    """Insert the batch and move the cursor; the caller owns the (write) transaction."""
    known = _known_external_ids(session, source_id, list({e.external_id for e in batch})) if batch else set()
    fresh: list[Enriched] = []
    seen: set[str] = set()
    for item in batch:
        if item.external_id in known or item.external_id in seen:
            continue
        seen.add(item.external_id)
        fresh.append(item)
    skipped = len(batch) - len(fresh)

    heads = _cluster_heads(session, list({e.cluster_key for e in fresh}), now - CLUSTER_WINDOW) if fresh else {}
    originals: list[Enriched] = []
    copies: list[Enriched] = []
    batch_keys: set[str] = set()
    for item in fresh:
        if item.cluster_key in heads or item.cluster_key in batch_keys:
            copies.append(item)
        else:
            batch_keys.add(item.cluster_key)
            originals.append(item)

    # Core inserts: SQLAlchemy sends the rows as a few multi-row statements ("insertmanyvalues"),
    # many times faster than ORM bulk inserts. Ids come back keyed by external id, so their
    # order does not matter.
    conn = session.connection()
    if originals:
        returned = conn.execute(
            insert(Mention).returning(Mention.external_id, Mention.id),
            [{**e.mention, "source_id": source_id} for e in originals],
        )
        new_ids = {str(ext): int(mid) for ext, mid in returned}
        for e in originals:
            heads[e.cluster_key] = int(new_ids[e.external_id])
        conn.execute(
            insert(QueueItem),
            [
                {
                    "mention_id": int(new_ids[e.external_id]),
                    "team": e.route.team,
                    "status": e.route.status,
                    "priority_rank": priority_rank(e.mention["priority"]),
                    "assignee": None,
                    "due_at": e.due_at,
                    "rule_id": e.route.rule_id,
                    "explanation": e.route.explanation,
                    "created_at": now,
                    "updated_at": now,
                    "resolved_at": now if e.route.status == "dismissed" else None,
                }
                for e in originals
            ],
        )
    if copies:
        conn.execute(
            insert(Mention),
            [{**e.mention, "source_id": source_id, "duplicate_of_id": heads[e.cluster_key]} for e in copies],
        )
    session.execute(update(SourceRow).where(SourceRow.id == source_id).values(cursor=next_cursor))
    return StoreResult(len(fresh), len(originals), len(copies), skipped)
