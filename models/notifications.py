"""The notification outbox: messages written in the transaction that caused them.

`enqueue` adds one `Notification` row per channel subscribed to the event (and to the item's
team) inside the caller's transaction, so an escalation and its alert commit together or not at
all; `collectors.jobs.notify.deliver_pending` sends them afterwards. `item_message` builds the plain
text every channel gets, and `failed_notifications` is the bounded read for the dashboard.
Functions take the session first and never commit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tables import Mention, Notification, QueueItem, utcnow

if TYPE_CHECKING:
    from config.settings import Settings

EXCERPT_CHARS = 200
EVENT_HEADLINES: dict[str, str] = {
    "sla_breach": "SLA breached",
    "critical": "Critical item",
    "escalation": "Item escalated",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def plain(text: str | None, limit: int) -> str:
    """One line of plain text: control characters and line breaks become spaces (a post cannot fake
    extra lines of the message), runs of spaces collapse, at most ``limit`` characters."""
    line = " ".join(_CONTROL.sub(" ", text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def item_message(session: Session, settings: Settings, event: str, item_id: int, reason: str) -> tuple[str, str]:
    """(title, body) for an alert about one item: the team, the priority, the author, the start of
    the post and a link to it. Plain text only; channels that want HTML get it escaped by Apprise."""
    item = session.get(QueueItem, item_id)
    if item is None:
        raise ValueError(f"item {item_id} does not exist")
    mention = session.get(Mention, item.mention_id)
    assert mention is not None  # the foreign key guarantees it
    try:
        team = settings.team(item.team).label
    except KeyError:  # a team removed from teams.yaml since the item was routed
        team = item.team
    title = f"Vigie: {EVENT_HEADLINES.get(event, event)} - {team}, {mention.priority} priority"
    body = "\n".join([
        plain(reason, 500),
        f"Team: {team}",
        f"Priority: {mention.priority}",
        f"Author: {plain(mention.author_handle, 100) or 'unknown'} on {plain(mention.network, 40)}",
        f"Post: {plain(mention.text, EXCERPT_CHARS)}",
        f"Open in Vigie: {settings.auth.public_url}/mention/{mention.id}",
    ])
    return title, body


def enqueue(
    session: Session, settings: Settings, event: str, item_id: int | None, title: str, body: str
) -> list[Notification]:
    """One pending row per channel subscribed to ``event`` for the item's team (``item_id`` None: a
    firm-wide message such as a spike alert, for every subscribed channel); none if no channel is."""
    item = session.get(QueueItem, item_id) if item_id is not None else None
    team = item.team if item is not None else None
    now = utcnow()
    rows = [
        Notification(created_at=now, event=event, channel=channel.name, queue_item_id=item_id, title=title[:500],
                     body=body, status="pending", attempts=0, next_attempt_at=None)
        for channel in settings.notifications
        if channel.wants(event, team)
    ]
    session.add_all(rows)
    return rows


def notify_item(session: Session, settings: Settings, event: str, item_id: int, reason: str) -> list[Notification]:
    """`enqueue` the standard message about an item (what the SLA watch and escalations send)."""
    if not any(event in channel.events for channel in settings.notifications):  # skip building the text
        return []
    title, body = item_message(session, settings, event, item_id, reason)
    return enqueue(session, settings, event, item_id, title, body)


def failed_notifications(session: Session, limit: int = 20) -> list[Notification]:
    """The most recent messages given up on, newest first (the dashboard shows their errors)."""
    return list(session.scalars(select(Notification).where(Notification.status == "failed")
                                .order_by(Notification.id.desc()).limit(limit)))


def item_mentions(session: Session, item_ids: set[int]) -> dict[int, int]:
    """The mention of each of these items (a notification links to its item's page)."""
    if not item_ids:
        return {}
    rows = session.execute(select(QueueItem.id, QueueItem.mention_id).where(QueueItem.id.in_(item_ids))).all()
    return {item_id: mention_id for item_id, mention_id in rows}


def pending_count(session: Session, limit: int = 1000) -> int:
    """Messages still to send, counted up to ``limit`` (a backlog hints at a channel down)."""
    ids = select(Notification.id).where(Notification.status == "pending").limit(limit).subquery()
    return int(session.scalar(select(func.count()).select_from(ids)) or 0)
