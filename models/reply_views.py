"""Reads the reply pages need beyond `models.outbox`: for the item page's reply panel and thread,
where a reply to an item goes, the item's replies with their template's key and version and a
cheap stamp that says whether they changed; for the compliance and outbox pages, a cheap change
marker, the reason each waiting reply gives, recent decisions, and the template versions
replies came from.

Functions take the session first, are bounded and never commit (like `models.queries`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.outbox import thread
from models.replies import WRITE_ACTIONS
from models.reply_tables import Reply, Template, TemplateVersion
from models.tables import AuditEvent, Mention, QueueItem, SourceRow

DECISIONS = ("reply.approve", "reply.reject")


def change_marker(session: Session, statuses: tuple[str, ...] | None = None) -> str:
    """Changes whenever a reply (in one of ``statuses``, default any) is written or changed, or
    leaves those states: the newest ``updated_at``, the count and the newest id among them (two
    replies changed in the same microsecond still move the count or the newest id). A page that
    lists waiting replies asks only about those: the sender's steady work does not rebuild it
    (and wipe a reason being typed)."""
    query = select(func.max(Reply.updated_at), func.count(), func.max(Reply.id))
    if statuses is not None:
        query = query.where(Reply.status.in_(statuses))
    newest, count, top = session.execute(query).one()
    return f"{newest.isoformat() if newest else '-'}|{count}|{top or 0}"


def reasons(session: Session, reply_ids: Iterable[int]) -> dict[int, str]:
    """The reason the newest compose or edit of each reply recorded (why it waits), by reply id."""
    subjects = {f"reply:{i}": i for i in reply_ids}
    if not subjects:
        return {}
    rows = session.execute(select(AuditEvent.subject, AuditEvent.reason)
                           .where(AuditEvent.subject.in_(list(subjects)), AuditEvent.action.in_(WRITE_ACTIONS))
                           .order_by(AuditEvent.id).limit(20 * len(subjects))).all()
    out: dict[int, str] = {}
    for subject, reason in rows:  # oldest first: the newest one wins
        if subject in subjects and reason:
            out[subjects[subject]] = reason
    return out


@dataclass(frozen=True)
class Decision:
    """One approval or rejection of a reply, as the recently-decided list shows it."""

    reply_id: int
    action: str  # reply.approve or reply.reject
    actor: str
    at: datetime
    reason: str | None
    reply: Reply | None
    mention: Mention | None


def recent_decisions(session: Session, limit: int = 50) -> list[Decision]:
    """The newest approvals and rejections of replies, newest first, with the replies they decided."""
    # One walk of the (action, at) index per kind of decision, newest first, merged here: never a
    # sort of every decision ever made.
    events = sorted((row for action in DECISIONS for row in session.execute(
        select(AuditEvent.subject, AuditEvent.action, AuditEvent.actor, AuditEvent.at, AuditEvent.reason)
        .where(AuditEvent.action == action).order_by(AuditEvent.at.desc()).limit(limit)).all()),
        key=lambda row: row[3], reverse=True)[:limit]
    ids = [int(subject.split(":", 1)[1]) for subject, *_rest in events if subject and subject.startswith("reply:")]
    found = {r.id: (r, m) for r, m in session.execute(
        select(Reply, Mention).outerjoin(Mention, Mention.id == Reply.mention_id).where(Reply.id.in_(ids))
        .limit(limit)).all()}
    out = []
    for subject, action, actor, at, reason in events:
        if not subject or not subject.startswith("reply:"):
            continue
        reply_id = int(subject.split(":", 1)[1])
        reply, mention = found.get(reply_id, (None, None))
        out.append(Decision(reply_id, action, actor, at, reason, reply, mention))
    return out


def template_versions(session: Session, version_ids: Iterable[int | None]) -> dict[int, TemplateVersion]:
    """The template versions named (the ones replies were written from), by id."""
    ids = sorted({i for i in version_ids if i is not None})
    if not ids:
        return {}
    return {v.id: v for v in session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(ids))
                                             .limit(len(ids)))}



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
