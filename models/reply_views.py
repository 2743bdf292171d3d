"""Reads the compliance and outbox pages need beyond `models.outbox`: a cheap change marker, the
reason each waiting reply gives, recent decisions, and the template versions replies came from.

Plain functions taking the session first, bounded, never committing (the house rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.replies import WRITE_ACTIONS
from models.tables import AuditEvent, Mention, Reply, TemplateVersion

DECISIONS = ("reply.approve", "reply.reject")


def change_marker(session: Session) -> str:
    """Changes whenever any reply is written or changed: the newest ``updated_at`` and the count
    (two replies changed in the same microsecond still move the count or the newest id)."""
    newest, count, top = session.execute(select(func.max(Reply.updated_at), func.count(), func.max(Reply.id))).one()
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
    events = session.execute(select(AuditEvent.subject, AuditEvent.action, AuditEvent.actor, AuditEvent.at,
                                    AuditEvent.reason)
                             .where(AuditEvent.action.in_(DECISIONS), AuditEvent.subject.is_not(None))
                             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()
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
