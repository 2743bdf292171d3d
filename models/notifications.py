"""The notification outbox: messages written in the transaction that caused them.

`enqueue_written` adds one `Notification` row per channel subscribed to the event (and to the
item's team) inside the caller's transaction, so an escalation and its alert commit together or not
at all; `collectors.jobs.notify.deliver_pending` sends them afterwards. Each channel reads its own
language (`language` in notifications.yaml, else English) in the firm's time zone: the message is
written inside `use_reader()` once per reader (`item_message`, `approval_message`,
`send_failed_message`, `archive_head_message` build the plain texts), its times local with their
offset. No message goes to an account, so no account's preferences apply. `failed_notifications`
is the bounded read for the dashboard.
Functions take the session first and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from i18n import DEFAULT_LANGUAGE, N_, Reader, _, current_reader, ngettext, use_reader
from i18n import formats as fmt
from models.reply_tables import Reply
from models.tables import Mention, Notification, QueueItem, utcnow

if TYPE_CHECKING:
    from config.notifications import NotificationChannel
    from config.settings import Settings

EXCERPT_CHARS = 200
EVENT_HEADLINES: dict[str, str] = {
    "sla_breach": N_("SLA breached"),
    "critical": N_("Critical item"),
    "escalation": N_("Item escalated"),
}
PRIORITY_PHRASES: dict[str, str] = {
    "critical": N_("critical priority"),
    "high": N_("high priority"),
    "medium": N_("medium priority"),
    "low": N_("low priority"),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

# A message written for one reader: (title, body) in the language `i18n.current_reader()` gives.
Message = Callable[[], tuple[str, str]]


def plain(text: str | None, limit: int) -> str:
    """One line of plain text: control characters and line breaks become spaces (a post cannot fake
    extra lines of the message), runs of spaces collapse, at most ``limit`` characters."""
    line = " ".join(_CONTROL.sub(" ", text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def channel_reader(channel: NotificationChannel, settings: Settings) -> Reader:
    """Who reads a channel: its ``language`` (English without one), in the firm's time zone. (No
    message goes to an account: channels are rooms and mailboxes, not people with preferences.)"""
    return Reader(channel.language or DEFAULT_LANGUAGE, ZoneInfo(settings.reporting.timezone))


def local_time(when: datetime) -> str:
    """A stored (naive UTC) time as the message's reader reads it: ``4 Dec 2026, 10:42 UTC+01:00``."""
    return fmt.local(when, current_reader())


def item_message(session: Session, settings: Settings, event: str, item_id: int, reason: str) -> tuple[str, str]:
    """(title, body) for an alert about one item, in the current reader's language: the team, the
    priority, the author, the start of the post and a link to it. Plain text only; channels that
    want HTML get it escaped by Apprise. ``reason`` (the audit's, in English) is quoted for
    escalations by a person; the SLA watch's events are told in the reader's words and times."""
    item = session.get(QueueItem, item_id)
    if item is None:
        raise ValueError(f"item {item_id} does not exist")
    mention = session.get(Mention, item.mention_id)
    assert mention is not None  # the foreign key guarantees it
    try:
        team = settings.team(item.team).label
    except KeyError:  # a team removed from teams.yaml since the item was routed
        team = item.team
    headline = _(EVENT_HEADLINES[event]) if event in EVENT_HEADLINES else event
    priority = _(PRIORITY_PHRASES[mention.priority]) if mention.priority in PRIORITY_PHRASES else mention.priority
    title = _("Vigie: {headline} - {team}, {priority}").format(headline=headline, team=team, priority=priority)
    if event == "sla_breach":
        why = _("SLA breached: it was due {due}").format(due=local_time(item.due_at))
    elif event == "critical":
        why = _("A new critical item")
    else:
        why = plain(reason, 500)
    author = plain(mention.author_handle, 100) or _("unknown author")
    body = "\n".join([
        why,
        _("Team: {team}, {priority}").format(team=team, priority=priority),
        _("Author: {author} on {network}").format(author=author, network=plain(mention.network, 40)),
        _("Posted: {time}").format(time=local_time(mention.created_at)),
        _("Post: {text}").format(text=plain(mention.text, EXCERPT_CHARS)),
        _("Open in Vigie: {link}").format(link=f"{settings.auth.public_url}/mention/{mention.id}"),
    ])
    return title, body


def approval_message(settings: Settings, reply: Reply, why: str) -> tuple[str, str]:
    """(title, body) telling compliance that a reply or a post waits for approval (``why``: the
    rules' reason, quoted as they wrote it)."""
    author, network = plain(reply.author, 100), reply.network
    title = (_("Vigie: a post waits for approval ({network}, by {author})") if reply.kind == "post" else
             _("Vigie: a reply waits for approval ({network}, by {author})")).format(network=network, author=author)
    return title, "\n".join([
        plain(why, 500),
        _("Text: {text}").format(text=plain(reply.text, 300)),
        _("Decide in Vigie: {link}").format(link=f"{settings.auth.public_url}/approvals"),
    ])


def send_failed_message(settings: Settings, reply: Reply) -> tuple[str, str]:
    """(title, body) about a reply or post that failed, or whose outcome is unknown (a person checks
    the account): the network's error, the text and a link to the outbox."""
    post, unknown = reply.kind == "post", reply.status == "unknown"
    if unknown:
        title = _("Vigie: a post on {network}: outcome unknown, check the account") if post else \
            _("Vigie: a reply on {network}: outcome unknown, check the account")
    else:
        title = _("Vigie: a post on {network} failed") if post else _("Vigie: a reply on {network} failed")
    return title.format(network=reply.network), "\n".join([
        plain(reply.last_error, 500),
        _("Text: {text}").format(text=plain(reply.text, 300)),
        _("Open in Vigie: {link}").format(link=f"{settings.auth.public_url}/outbox"),
    ])


def archive_head_message(day: date, seq: int, digest: str, sealed_at: datetime, records: int,
                         line: str) -> tuple[str, str]:
    """(title, body) of the day's archive head for compliance: the UTC day, the segment, its hash,
    when it was sealed (local time) and the anchor's line as written to the anchor file (``line``,
    JSON: kept as it is)."""
    title = _("Vigie archive head for {day}: segment {seq}").format(day=day.isoformat(), seq=seq)
    head = ngettext("The archive's head on {day} (UTC): segment {seq}, hash {hash}, sealed {time}, "
                    "{records} record sealed.",
                    "The archive's head on {day} (UTC): segment {seq}, hash {hash}, sealed {time}, "
                    "{records} records sealed.", records)
    keep = _("Keep this message: `vigie archive verify` compares the chain with the heads kept outside the "
             "database, and a rewritten chain no longer matches them.")
    return title, "\n\n".join([
        head.format(day=day.isoformat(), seq=seq, hash=digest, time=local_time(sealed_at),
                    records=fmt.number(records, current_reader())),
        keep, line])


def enqueue_written(
    session: Session, settings: Settings, event: str, item_id: int | None, message: Message
) -> list[Notification]:
    """One pending row per channel subscribed to ``event`` for the item's team (``item_id`` None: a
    firm-wide message such as a spike alert, for every subscribed channel); none if no channel is.
    ``message`` is called once per language and time zone, inside `use_reader`, so each channel
    reads it in its own language."""
    item = session.get(QueueItem, item_id) if item_id is not None else None
    team = item.team if item is not None else None
    now = utcnow()
    written: dict[Reader, tuple[str, str]] = {}
    rows: list[Notification] = []
    for channel in settings.notifications:
        if not channel.wants(event, team):
            continue
        reader = channel_reader(channel, settings)
        if reader not in written:
            with use_reader(reader):
                written[reader] = message()
        title, body = written[reader]
        rows.append(Notification(created_at=now, event=event, channel=channel.name, queue_item_id=item_id,
                                 title=title[:500], body=body, status="pending", attempts=0, next_attempt_at=None))
    session.add_all(rows)
    return rows


def enqueue(
    session: Session, settings: Settings, event: str, item_id: int | None, title: str, body: str
) -> list[Notification]:
    """`enqueue_written` with one text for every channel (already written, in one language)."""
    return enqueue_written(session, settings, event, item_id, lambda: (title, body))


def notify_item(session: Session, settings: Settings, event: str, item_id: int, reason: str) -> list[Notification]:
    """`enqueue` the standard message about an item (what the SLA watch and escalations send), each
    channel's in its language."""
    if not any(event in channel.events for channel in settings.notifications):  # skip building the text
        return []
    return enqueue_written(session, settings, event, item_id,
                           lambda: item_message(session, settings, event, item_id, reason))


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
