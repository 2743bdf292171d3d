"""Who is looking at an item right now ("being viewed by"): refreshed by the item page's tick.

Not audited (nothing changes); rows older than `STALE` are ignored, and each upsert sweeps
every row long gone, so the table stays as small as the number of open item pages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.tables import Presence

STALE = timedelta(seconds=20)  # a page ticks every few seconds; past this it is gone


def touch(session: Session, item_id: int, user_name: str, now: datetime) -> None:
    """Note that ``user_name`` has item ``item_id`` open (an upsert on both databases)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Presence).values(queue_item_id=item_id, user_name=user_name[:100], seen_at=now)
    session.execute(statement.on_conflict_do_update(index_elements=["queue_item_id", "user_name"],
                                                    set_={"seen_at": now}))
    session.execute(delete(Presence).where(Presence.seen_at < now - 10 * STALE))  # closed pages, any item


def leave(session: Session, item_id: int, user_name: str) -> None:
    session.execute(delete(Presence).where(Presence.queue_item_id == item_id, Presence.user_name == user_name))


def viewers(session: Session, item_id: int, now: datetime, limit: int = 20) -> list[str]:
    """Names of those who had the item open within `STALE`, oldest first."""
    rows = session.scalars(
        select(Presence.user_name)
        .where(Presence.queue_item_id == item_id, Presence.seen_at >= now - STALE)
        .order_by(Presence.seen_at)
        .limit(limit)
    )
    return list(rows)
