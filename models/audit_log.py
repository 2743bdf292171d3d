"""The one writer of audit events: every action on an item, account change and sign-in goes through
`record_event`, so what an event holds (and how long its actor may be) is decided here only.

Item events carry the item's whole state before and after (`models.actions.snapshot`): the
chain `models.audit.verify_chains` checks. Account and sign-in events have no item. Replies'
and templates' events name their ``subject`` ("reply:12", "template:3") and carry that
record's own state before and after. The function takes the session first and never commits:
the event lands with the change it records, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from models.tables import AuditEvent, utcnow

MAX_ACTOR = 200  # audit_events.actor is String(200)


def record_event(
    session: Session, actor: str, action: str, *, item_id: int | None = None,
    before: Mapping[str, object] | None = None, after: Mapping[str, object] | None = None,
    reason: str | None = None, at: datetime | None = None, subject: str | None = None,
) -> AuditEvent:
    """Add one audit event (``at`` defaults to now, UTC) to the session and return it."""
    event = AuditEvent(at=at or utcnow(), actor=actor[:MAX_ACTOR], action=action, queue_item_id=item_id,
                       before=dict(before or {}), after=dict(after or {}), reason=reason,
                       subject=subject)
    session.add(event)
    return event
