"""Writes made by people: claim, resolve, reroute. Each one writes an audit event.

Functions take the session first and never commit: the caller opens
``with db.write.begin()`` around them, so the change and its audit event land
together or not at all. State changes are conditional updates (``WHERE status =
'new'``), which makes claiming atomic: of two agents claiming at once, exactly one
wins and the other is told who has the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from models.tables import OPEN_STATUSES, AuditEvent, Mention, QueueItem, utcnow


class ActionError(Exception):
    """The action cannot be done (already claimed, unknown team, missing reason…)."""


def _snapshot(item: QueueItem) -> dict[str, Any]:
    return {
        "team": item.team,
        "status": item.status,
        "assignee": item.assignee,
        "due_at": item.due_at.isoformat(timespec="seconds"),
    }


def _load(session: Session, item_id: int) -> QueueItem:
    # FOR UPDATE (PostgreSQL): the "before" of the audit event is the state this change replaces.
    item = session.get(QueueItem, item_id, populate_existing=True, with_for_update=True)
    if item is None:
        raise ActionError(f"item {item_id} does not exist")
    return item


def _audit(
    session: Session, item_id: int, actor: str, action: str, before: dict[str, Any], after: dict[str, Any],
    reason: str | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=utcnow(), actor=actor, action=action, queue_item_id=item_id, before=before, after=after, reason=reason
        )
    )


def _clean_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise ActionError("who is acting? an actor name is required")
    return actor[:200]


def claim(session: Session, item_id: int, actor: str) -> QueueItem:
    actor = _clean_actor(actor)
    before = _snapshot(_load(session, item_id))
    now = utcnow()
    result = session.execute(
        update(QueueItem)
        .where(QueueItem.id == item_id, QueueItem.status == "new")
        .values(status="claimed", assignee=actor, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    item = _load(session, item_id)
    if not result.rowcount:  # type: ignore[attr-defined]
        if item.status == "claimed":
            raise ActionError(f"item {item_id} is already claimed by {item.assignee}")
        raise ActionError(f"item {item_id} is {item.status}, not new")
    _audit(session, item_id, actor, "claim", before, _snapshot(item))
    return item


def resolve(session: Session, item_id: int, actor: str, note: str | None = None) -> QueueItem:
    actor = _clean_actor(actor)
    before = _snapshot(_load(session, item_id))
    now = utcnow()
    result = session.execute(
        update(QueueItem)
        .where(QueueItem.id == item_id, QueueItem.status.in_(OPEN_STATUSES))
        .values(status="resolved", resolved_at=now, updated_at=now, assignee=func.coalesce(QueueItem.assignee, actor))
        .execution_options(synchronize_session=False)
    )
    item = _load(session, item_id)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ActionError(f"item {item_id} is {item.status}; only new or claimed items can be resolved")
    _audit(session, item_id, actor, "resolve", before, _snapshot(item), note.strip() if note else None)
    return item


def reroute(
    session: Session,
    item_id: int,
    actor: str,
    team: str,
    reason: str,
    sla_minutes: Mapping[str, Mapping[str, int]],
) -> QueueItem:
    """Move an open item to another team's queue, new and unassigned, due by that team's SLA."""
    actor = _clean_actor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError("a reason is required to reroute an item")
    if team not in sla_minutes:
        raise ActionError(f"unknown team {team!r}")
    item = _load(session, item_id)
    if item.team == team:
        raise ActionError(f"item {item_id} is already in {team}")
    before = _snapshot(item)
    mention = session.get(Mention, item.mention_id)
    assert mention is not None
    now = utcnow()
    due = mention.collected_at + timedelta(minutes=sla_minutes[team][mention.priority])
    result = session.execute(
        update(QueueItem)
        .where(QueueItem.id == item_id, QueueItem.status.in_(OPEN_STATUSES), QueueItem.team == item.team)
        .values(team=team, status="new", assignee=None, due_at=due, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    item = _load(session, item_id)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ActionError(f"item {item_id} is {item.status} in {item.team}; only open items can be rerouted")
    _audit(session, item_id, actor, "reroute", before, _snapshot(item), reason[:2000])
    return item
