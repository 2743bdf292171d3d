"""Reads the item page's reply panel and thread need: where a reply to an item goes, the item's
replies with their template's key and version, and a cheap stamp that says whether they changed.

Functions take the session first, are bounded and never commit (like `models.queries`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.outbox import thread
from models.tables import Mention, QueueItem, Reply, SourceRow, Template, TemplateVersion


@dataclass(frozen=True)
class ItemContext:
    """An item and the post it answers (the head of its copies), as composing needs them."""

    item_id: int
    team: str
    status: str
    mention_id: int
    network: str
    language: str
    brand: str | None
    author_name: str | None
    author_handle: str | None
    source_name: str | None  # the source the post came through (a reply goes out through it)


def item_context(session: Session, item_id: int) -> ItemContext | None:
    """The item ``item_id`` with its post, read from the database (never from the browser)."""
    row = session.execute(
        select(QueueItem, Mention, SourceRow.name)
        .join(Mention, Mention.id == QueueItem.mention_id)
        .outerjoin(SourceRow, SourceRow.id == Mention.source_id)
        .where(QueueItem.id == item_id)
    ).first()
    if row is None:
        return None
    item, mention, source = row
    return ItemContext(item.id, item.team, item.status, mention.id, mention.network, mention.language or "en",
                       mention.brand, mention.author_name, mention.author_handle, source)


@dataclass(frozen=True)
class ThreadEntry:
    """One reply of an item's thread with the template it came from (None: free text)."""

    reply: Reply
    template_key: str | None
    template_version: int | None


def thread_entries(session: Session, item_id: int, limit: int = 100) -> list[ThreadEntry]:
    """The item's replies, oldest first, each with its template's key and version (one query more)."""
    replies = thread(session, item_id, limit)
    version_ids = {r.template_version_id for r in replies if r.template_version_id is not None}
    found: dict[int, tuple[str, int]] = {}
    if version_ids:
        rows = session.execute(select(TemplateVersion.id, Template.key, TemplateVersion.version)
                               .join(Template, Template.id == TemplateVersion.template_id)
                               .where(TemplateVersion.id.in_(version_ids)))
        found = {vid: (key, number) for vid, key, number in rows}
    out = []
    for r in replies:
        key, number = found.get(r.template_version_id, (None, None)) if r.template_version_id else (None, None)
        out.append(ThreadEntry(r, key, number))
    return out


def thread_stamp(session: Session, item_id: int) -> str:
    """What changes whenever one of the item's replies does: their count, newest id and newest
    change (one aggregate over the item's index), for a page tick to compare."""
    count, newest_id, newest_change = session.execute(
        select(func.count(), func.max(Reply.id), func.max(Reply.updated_at)).where(Reply.queue_item_id == item_id)
    ).one()
    changed = newest_change.isoformat() if isinstance(newest_change, datetime) else str(newest_change or "")
    return f"{int(count or 0)}:{newest_id or 0}:{changed}"
