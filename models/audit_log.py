"""The one writer of audit events: every action on an item, account change and sign-in goes through
`record_event`, so what an event holds (and how long its actor may be) is decided here only.

Item events carry the item's whole state before and after (`models.actions.snapshot`): the
chain `models.audit.verify_chains` checks. Account and sign-in events have no item. Replies'
and templates' events name their ``subject`` ("reply:12", "template:3") and carry that
record's own state before and after. The function takes the session first and never commits:
the event lands with the change it records, or not at all; so does its archive record
(`models.archive`), which carries the event with its item's scope (network, brand, team, author)
for retention, holds and exports.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from models.archive import Scope, mention_author, write_record
from models.archive_tables import ErasureRequest
from models.reply_tables import Reply
from models.tables import AuditEvent, Mention, QueueItem, utcnow

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
    session.flush()  # its id, for the record
    write_record(session, "event", subject or (f"item:{item_id}" if item_id is not None else f"event:{action}"),
                 {"event_id": event.id, "at": event.at, "actor": event.actor, "action": action, "item_id": item_id,
                  "subject": subject, "before": event.before, "after": event.after, "reason": reason},
                 scope=_scope(session, item_id, subject), at=event.at)
    return event


MAX_REPLIES_OF_ITEM = 1000  # replies read per item for its trail (a handful in practice): bounded


def of_item(session: Session, item_id: int) -> ColumnElement[bool]:
    """An item's events and those of the replies written on it ("reply:<id>": a reply's events carry
    the reply's state, so they are not in the item's chain): what a person asking for an item's
    trail means. The replies are read first (indexed by item) and named as a list: PostgreSQL then
    combines the two indexes (``queue_item_id``; ``subject``), where a subquery in the OR made it
    walk the whole table (measured: 199,993 of 200,000 rows read for one item)."""
    replies = session.scalars(select(Reply.id).where(Reply.queue_item_id == item_id).order_by(Reply.id)
                              .limit(MAX_REPLIES_OF_ITEM)).all()
    if not replies:
        return AuditEvent.queue_item_id == item_id
    return or_(AuditEvent.queue_item_id == item_id, AuditEvent.subject.in_([f"reply:{r}" for r in replies]))


def items_of_replies(session: Session, events: list[AuditEvent]) -> dict[int, int]:
    """{event id: the item its reply was written on} for the reply events among ``events`` (one query)."""
    reply_of = {e.id: int(e.subject[6:]) for e in events
                if e.queue_item_id is None and e.subject and e.subject.startswith("reply:") and e.subject[6:].isdigit()}
    if not reply_of:
        return {}
    items = {reply: item for reply, item in session.execute(
        select(Reply.id, Reply.queue_item_id).where(Reply.id.in_(set(reply_of.values())))) if item is not None}
    return {event: items[reply] for event, reply in reply_of.items() if reply in items}


def _scope(session: Session, item_id: int | None, subject: str | None) -> Scope:
    """The network, brand, team and author of what an event is about: its item, its reply's item, or
    the author a data-protection request names."""
    team: str | None = None
    mention_id: int | None = None
    if item_id is not None:
        item = session.execute(select(QueueItem.mention_id, QueueItem.team).where(QueueItem.id == item_id)).first()
        if item is not None:
            mention_id, team = item
    elif subject and subject.startswith("reply:") and subject[6:].isdigit():
        reply = session.execute(select(Reply.mention_id, Reply.team, Reply.network, Reply.brand)
                                .where(Reply.id == int(subject[6:]))).first()
        if reply is not None:
            mention_id, team = reply[0], reply[1]
            if mention_id is None:  # a new post: no author but the firm
                return Scope(team=team, network=reply[2], brand=reply[3])
    elif subject and subject.startswith("erasure:") and subject[8:].isdigit():
        # a data-protection request's event carries its reason: it is the author's, restricted with her records
        return Scope(author=session.scalar(select(ErasureRequest.author).where(ErasureRequest.id == int(subject[8:]))))
    if mention_id is None:
        return Scope(team=team)
    row = session.execute(select(Mention.network, Mention.brand, Mention.author_handle, Mention.source_id)
                          .where(Mention.id == mention_id)).first()
    if row is None:
        return Scope(mention_id=mention_id, team=team)
    author = mention_author(session, mention_id, row[0], row[2])
    return Scope(mention_id=mention_id, source_id=row[3], author=author, network=row[0], brand=row[1], team=team)
