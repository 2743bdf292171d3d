"""Replies and posts written by people: composing, editing, approving, rejecting, expiring,
cancelling, and answers made elsewhere. The sender's side is `models.outbox`.

A reply is stored with its final text (placeholders filled, the brand's disclosure added) the
moment it is composed; the rules (`models.reply_rules`) decide whether it waits for compliance:

* every placeholder filled, the network's length limit kept (counted as the network counts);
* outbound screening (`models.screening`): a hit blocks or forces approval (``outbound.yaml``);
* the approval policy of its team, network and brand: ``none`` (goes at once, supervised after
  the fact), ``template_only`` (an approved template used as it is goes at once, free text or
  an edited template waits) or ``all``;
* four eyes: nobody who wrote or edited a reply may approve or reject it;
* editing a reply that was approved (and not yet sent) sends it back to review.

Each change writes an audit event (subject ``reply:<id>``) with the reply's state before and
after. Functions take the session first and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from i18n import _
from models.audit_log import record_event
from models.compose import text_sha256
from models.notifications import approval_message, enqueue_written
from models.reply_rules import MAX_TEXT as MAX_TEXT
from models.reply_rules import Checked as Checked
from models.reply_rules import ReplyError as ReplyError
from models.reply_rules import Rules as Rules
from models.reply_rules import Target as Target
from models.reply_rules import check as check
from models.reply_rules import compile_rules as compile_rules
from models.reply_rules import speaking_brand as speaking_brand
from models.reply_rules import status_name as status_name
from models.reply_rules import why_waiting
from models.reply_tables import Reply
from models.tables import AuditEvent, utcnow

EDITABLE = ("pending", "rejected", "expired", "queued")  # queued: not yet claimed by the sender
CANCELLABLE = ("pending", "rejected", "expired", "queued", "failed")
WRITE_ACTIONS = ("reply.compose", "reply.edit")  # whoever did these is an author: never the approver
MAX_NOTE = 2000
SYSTEM = "vigie"


def _notify_waiting(session: Session, rules: Rules, reply: Reply, why: str) -> None:
    """Tell compliance's channels (event ``approval``) that a reply waits for them."""
    settings = rules.settings
    if settings is None or reply.status != "pending":
        return
    if not any("approval" in channel.events for channel in settings.notifications):
        return
    enqueue_written(session, settings, "approval", reply.queue_item_id,
                    lambda: approval_message(settings, reply, why))  # each channel's in its language


def state(reply: Reply) -> dict[str, Any]:
    """The reply's state as the audit trail keeps it."""
    def iso(v: datetime | None) -> str | None:
        return v.isoformat(timespec="seconds") if v else None
    return {"status": reply.status, "text": reply.text, "text_sha256": reply.text_sha256,
            "needs_approval": reply.needs_approval,
            "policy": reply.policy, "template_version_id": reply.template_version_id,
            "approved_by": reply.approved_by, "approved_sha256": reply.approved_sha256,
            "send_after": iso(reply.send_after), "attempts": reply.attempts, "platform_id": reply.platform_id,
            "platform_url": reply.platform_url, "sent_sha256": reply.sent_sha256, "last_error": reply.last_error,
            "check_first": reply.check_first}


def audit(session: Session, actor: str, action: str, reply: Reply, before: dict[str, Any] | None,
          reason: str | None = None, at: datetime | None = None) -> None:
    record_event(session, actor, action, before=before or {}, after=state(reply), reason=reason,
                 subject=f"reply:{reply.id}", at=at or reply.updated_at)


def _actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise ReplyError(_("who is acting? an actor name is required"))
    return actor[:200]


def compose(session: Session, rules: Rules, actor: str, target: Target, text: str | None,
            version_id: int | None = None, values: Mapping[str, str] | None = None,
            send_after: datetime | None = None, key: str | None = None, now: datetime | None = None) -> Reply:
    """Store a reply (or a new post) with its final text: queued for the sender, or waiting for
    approval when the rules say so. Refused (`ReplyError`) when it cannot be sent as it is.
    ``now`` replaces the clock for the demo's history only (the past replayed)."""
    actor, values, now = _actor(actor), dict(values or {}), now or utcnow()
    if target.kind not in ("reply", "post"):
        raise ReplyError(_("a reply or a post"))
    if target.kind == "reply" and target.queue_item_id is None:
        raise ReplyError(_("a reply answers an item"))
    if target.source_name is None:
        raise ReplyError(_("this source cannot be answered through Vigie: record an answer made elsewhere"))
    if key is not None and session.scalars(select(Reply.id).where(Reply.idempotency_key == key)).first():
        raise ReplyError(_("this reply was stored already (Send pressed twice?): it is in the thread"))
    checked = check(session, rules, target, text, version_id, values, now)
    if checked.problems:
        raise ReplyError("; ".join(checked.problems))
    reply = Reply(kind=target.kind, queue_item_id=target.queue_item_id, mention_id=target.mention_id,
                  source_name=target.source_name, network=target.network, team=target.team, brand=checked.brand,
                  language=checked.language or target.language, template_version_id=version_id,
                  values={k: str(v)[:200] for k, v in values.items()}, author=actor, text=checked.text,
                  text_sha256=text_sha256(checked.text), policy=checked.policy,
                  needs_approval=checked.needs_approval, screening=list(checked.hits),
                  status="pending" if checked.needs_approval else "queued", created_at=now, updated_at=now,
                  submitted_at=now if checked.needs_approval else None, send_after=send_after,
                  idempotency_key=key or uuid.uuid4().hex, attempts=0,
                  next_attempt_at=None if checked.needs_approval else max(now, send_after or now))
    session.add(reply)
    session.flush()
    audit(session, actor, "reply.compose", reply, None, why_waiting(checked))
    _notify_waiting(session, rules, reply, why_waiting(checked))
    return reply


def _load(session: Session, reply_id: int) -> Reply:
    reply = session.get(Reply, reply_id, populate_existing=True, with_for_update=True)
    if reply is None:
        raise ReplyError(_("reply {id} does not exist").format(id=reply_id))
    return reply


def target_of(reply: Reply) -> Target:
    return Target(reply.kind, reply.network, reply.source_name, reply.team, reply.brand, reply.language,
                  reply.queue_item_id, reply.mention_id)


def edit(session: Session, rules: Rules, reply_id: int, actor: str, text: str,
         values: Mapping[str, str] | None = None) -> Reply:
    """Change a reply not yet sent. The rules run again; an approval is lost (it goes back to review
    when it needs one); a rejected or expired reply is submitted again."""
    actor, now = _actor(actor), utcnow()
    reply = _load(session, reply_id)
    if reply.status not in EDITABLE:
        raise ReplyError(_("this reply is {status}: it can no longer be edited").format(
            status=status_name(reply.status)))
    if reply.attempts:
        raise ReplyError(_("this reply was already sent to the network once (its outcome was unclear): it can no "
                           "longer be edited; cancel it only once the account is checked on /outbox"))
    values = dict(values if values is not None else reply.values or {})
    checked = check(session, rules, target_of(reply), text, reply.template_version_id, values, now)
    if checked.problems:
        raise ReplyError("; ".join(checked.problems))
    before = state(reply)
    reply.text, reply.text_sha256, reply.values = checked.text, text_sha256(checked.text), values
    reply.policy, reply.needs_approval, reply.screening = checked.policy, checked.needs_approval, list(checked.hits)
    reply.approved_by = reply.approved_at = reply.approved_sha256 = None
    reply.decided_by = reply.decision_reason = None
    reply.status = "pending" if checked.needs_approval else "queued"
    reply.submitted_at = now if checked.needs_approval else None
    reply.next_attempt_at = None if checked.needs_approval else max(now, reply.send_after or now)
    reply.updated_at = now
    audit(session, actor, "reply.edit", reply, before, why_waiting(checked))
    _notify_waiting(session, rules, reply, why_waiting(checked))
    return reply


def wrote(session: Session, reply_id: int, actor: str) -> bool:
    """Did ``actor`` write or edit the reply (its audit events say)? One indexed look-up, however
    many times it was edited."""
    return session.scalars(select(AuditEvent.id).where(AuditEvent.subject == f"reply:{reply_id}",
                                                       AuditEvent.action.in_(WRITE_ACTIONS),
                                                       AuditEvent.actor == actor[:200]).limit(1)).first() is not None


def _decide(session: Session, reply_id: int, actor: str) -> Reply:
    reply = _load(session, reply_id)
    if reply.status != "pending":
        raise ReplyError(_("this reply is {status}: only a waiting reply can be decided").format(
            status=status_name(reply.status)))
    if actor == reply.author or wrote(session, reply_id, actor):
        raise ReplyError(_("whoever wrote or edited a reply cannot approve or reject it (four eyes)"))
    return reply


def approve(session: Session, reply_id: int, actor: str, note: str | None = None,
            now: datetime | None = None, expected_sha256: str | None = None) -> Reply:
    """Compliance approves a waiting reply: it is queued for the sender with the hash of the text
    approved (the sender refuses any other text). ``expected_sha256``: the hash of the text the
    approver was shown (the page passes it): a text edited since is refused, never approved
    unseen. ``now``: the demo's history only."""
    actor, now = _actor(actor), now or utcnow()
    reply = _decide(session, reply_id, actor)
    if expected_sha256 is not None and expected_sha256 != reply.text_sha256:
        raise ReplyError(_("the reply changed since you opened it: read it again before approving"))
    before = state(reply)
    reply.status, reply.approved_by, reply.approved_at = "queued", actor, now
    reply.approved_sha256 = text_sha256(reply.text)
    reply.next_attempt_at, reply.updated_at = max(now, reply.send_after or now), now
    audit(session, actor, "reply.approve", reply, before, (note or "").strip()[:MAX_NOTE] or None)
    return reply


def reject(session: Session, reply_id: int, actor: str, reason: str) -> Reply:
    actor, now, reason = _actor(actor), utcnow(), (reason or "").strip()
    if not reason:
        raise ReplyError(_("a reason is required to reject a reply (the writer reads it)"))
    reply = _decide(session, reply_id, actor)
    before = state(reply)
    reply.status, reply.decided_by, reply.decision_reason = "rejected", actor, reason[:MAX_NOTE]
    reply.updated_at = now
    audit(session, actor, "reply.reject", reply, before, reason[:MAX_NOTE])
    return reply


def cancel(session: Session, reply_id: int, actor: str, reason: str | None = None) -> Reply:
    actor, now = _actor(actor), utcnow()
    reply = _load(session, reply_id)
    if reply.status not in CANCELLABLE:
        raise ReplyError(_("this reply is {status}: it can no longer be cancelled").format(
            status=status_name(reply.status)))
    if reply.status == "queued" and reply.attempts:
        raise ReplyError(_("this reply is being retried after an unclear answer: it may be posted already, so it "
                           "cannot be cancelled now (check the account on /outbox once it settles)"))
    before = state(reply)
    reply.status, reply.updated_at, reply.next_attempt_at = "cancelled", now, None
    audit(session, actor, "reply.cancel", reply, before, (reason or "").strip()[:MAX_NOTE] or None)
    return reply


def expire_waiting(session: Session, hours: int, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Move replies that waited for approval longer than ``hours`` to ``expired`` (the /approvals
    page's expired list; editing submits one again). Returns their ids."""
    now = now or utcnow()
    ids = list(session.scalars(select(Reply.id).where(Reply.status == "pending",
                                                      Reply.submitted_at < now - timedelta(hours=hours))
                               .order_by(Reply.submitted_at).limit(limit)))
    done = []
    for reply_id in ids:
        changed = session.execute(update(Reply).where(Reply.id == reply_id, Reply.status == "pending")
                                  .values(status="expired", updated_at=now)
                                  .execution_options(synchronize_session=False))
        if changed.rowcount:  # type: ignore[attr-defined]
            reply = _load(session, reply_id)
            before = {**state(reply), "status": "pending"}
            audit(session, SYSTEM, "reply.expire", reply, before, f"not decided within {hours} h", now)
            done.append(reply_id)
    return done


def answered_elsewhere(session: Session, actor: str, target: Target, url: str | None, note: str) -> Reply:
    """Record that an item was answered outside Vigie (a source with no write API, a phone call):
    kept like a reply, with its link and note."""
    actor, now, note = _actor(actor), utcnow(), (note or "").strip()
    if not note:
        raise ReplyError(_("say how it was answered (a note is required)"))
    url = (url or "").strip() or None
    if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise ReplyError(_("the link must be an http(s) address"))
    reply = Reply(kind="elsewhere", queue_item_id=target.queue_item_id, mention_id=target.mention_id,
                  source_name=None, network=target.network, team=target.team, brand=target.brand,
                  language=target.language, values={}, author=actor, text=note[:MAX_NOTE],
                  text_sha256=text_sha256(note[:MAX_NOTE]), policy="none", needs_approval=False, screening=[],
                  status="elsewhere", created_at=now, updated_at=now, idempotency_key=uuid.uuid4().hex, attempts=0,
                  platform_url=url, note=note[:MAX_NOTE])
    session.add(reply)
    session.flush()
    audit(session, actor, "reply.elsewhere", reply, None, note[:MAX_NOTE])
    return reply
