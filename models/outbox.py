"""The outbox, the sender's side: claiming a due reply, recording what the network answered, and
what people decide about a send whose outcome is unknown; plus the reads pages need.

Never a double post: a reply is claimed (``queued`` → ``sending``, one conditional update, so two
senders never both take it) and the claim committed BEFORE any request. What the network answers
is recorded after. A reply found still ``sending`` by a later run was in flight when its sender
died: its outcome is unknown, and the sender job (`collectors.jobs.send_replies`) either repeats
it with the platform's idempotency (same key, same record key), looks for the post, or leaves it
``unknown`` for a person (`person_checked`). A text whose hash is not the approved text's is
never sent. Every change writes an audit event (subject ``reply:<id>``). A reply recorded sent that
was free-form and not approved before is queued for supervision's review (`models.supervision`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from i18n import _
from models.compose import text_sha256
from models.library import usable_version
from models.replies import SYSTEM, ReplyError, _actor, _load, audit, state, status_name
from models.reply_tables import Reply, TemplateVersion
from models.supervision import queue_sent_reply
from models.tables import Mention, utcnow

MAX_ERROR = 1000


def due(session: Session, now: datetime | None = None, limit: int = 50) -> list[int]:
    """Queued replies whose time has come, oldest first."""
    now = now or utcnow()
    return list(session.scalars(select(Reply.id).where(Reply.status == "queued", Reply.next_attempt_at <= now)
                                .order_by(Reply.next_attempt_at, Reply.id).limit(limit)))


def stale(session: Session, older_than: timedelta, now: datetime | None = None, limit: int = 50) -> list[int]:
    """Replies claimed by a sender that never came back (it died mid-send): outcome unknown."""
    now = now or utcnow()
    return list(session.scalars(select(Reply.id).where(Reply.status == "sending",
                                                       Reply.sending_since < now - older_than)
                                .order_by(Reply.sending_since).limit(limit)))


def claim(session: Session, reply_id: int, worker: str, now: datetime | None = None,
          due_by: datetime | None = None) -> Reply | None:
    """Take a reply due by ``due_by`` (default ``now``) for sending (``queued`` → ``sending``, stamped
    ``now``: the moment of the claim, which stale claims are judged by); None when another sender
    took it or it is no longer due. A reply whose text is not the text approved is failed, never
    sent, and a reply of a template retired or expired since it was written goes back to review:
    either is returned with that status (the caller tells the channels of a failure)."""
    now = now or utcnow()
    taken = session.execute(
        update(Reply).where(Reply.id == reply_id, Reply.status == "queued", Reply.next_attempt_at <= (due_by or now))
        .values(status="sending", sending_since=now, sending_by=worker[:200], attempts=Reply.attempts + 1,
                first_attempt_at=func.coalesce(Reply.first_attempt_at, now), updated_at=now)
        .execution_options(synchronize_session=False))
    if not taken.rowcount:  # type: ignore[attr-defined]
        return None
    reply = _load(session, reply_id)
    before = {**state(reply), "status": "queued", "attempts": reply.attempts - 1}
    if text_sha256(reply.text) != reply.text_sha256 or (
            reply.needs_approval and reply.approved_sha256 != reply.text_sha256):
        reply.status, reply.last_error = "failed", "the text is not the text approved: not sent"
        reply.sending_since = reply.next_attempt_at = None
        audit(session, SYSTEM, "reply.refuse", reply, before, reply.last_error, now)
        return reply
    if reply.template_version_id is not None and not reply.needs_approval and reply.attempts == 1:
        version = session.get(TemplateVersion, reply.template_version_id)
        current = usable_version(session, version.template_id, now) if version is not None else None
        if current is None or current.id != reply.template_version_id:
            reply.status, reply.needs_approval, reply.submitted_at = "pending", True, now
            reply.sending_since = reply.sending_by = reply.next_attempt_at = None
            reply.attempts, reply.first_attempt_at = 0, None
            audit(session, SYSTEM, "reply.review", reply, before,
                  "its template version was retired, replaced or expired before it went out: compliance decides", now)
            return reply
    audit(session, SYSTEM, "reply.sending", reply, before, f"attempt {reply.attempts} by {worker}"[:500], now)
    return reply


Fence = tuple[str, int]  # (sending_by, attempts) of the claim an outcome belongs to


def _finish(session: Session, reply_id: int, action: str, values: dict[str, Any], reason: str | None,
            now: datetime, from_states: tuple[str, ...] = ("sending",), fence: Fence | None = None) -> Reply | None:
    reply = _load(session, reply_id)
    if reply.status not in from_states:
        return None  # someone (a person, another sender after a stale claim) decided meanwhile
    if fence is not None and (reply.sending_by, reply.attempts) != (fence[0][:200], fence[1]):
        return None  # the claim this outcome answers was settled as stale and claimed again since
    before = state(reply)
    for name, value in values.items():
        setattr(reply, name, value)
    reply.updated_at = now
    audit(session, SYSTEM, action, reply, before, reason, now)
    return reply


def record_sent(session: Session, reply_id: int, platform_id: str | None, url: str | None,
                now: datetime | None = None, from_states: tuple[str, ...] = ("sending",),
                fence: Fence | None = None) -> Reply | None:
    """The network published it: its id and URL, and the hash of the text sent."""
    now = now or utcnow()
    reply = _load(session, reply_id)
    sent = _finish(session, reply_id, "reply.sent",
                   {"status": "sent", "platform_id": (platform_id or "")[:200] or None, "platform_url": url,
                    "sent_at": now, "sent_sha256": text_sha256(reply.text), "sending_since": None,
                    "next_attempt_at": None, "last_error": None, "check_first": False}, None, now, from_states,
                   fence)
    if sent is not None:  # free-form and not approved before: compliance reviews it after the fact
        queue_sent_reply(session, sent, now)
    return sent


def record_retry(session: Session, reply_id: int, at: datetime, error: str | None,
                 now: datetime | None = None, check_first: bool = False, fence: Fence | None = None) -> Reply | None:
    """Not sent this time (rate limited, the network down, a safe repeat): queued again for ``at``.
    ``check_first``: this attempt may have posted it, so the next one looks for the post first."""
    now = now or utcnow()
    return _finish(session, reply_id, "reply.check_later" if check_first else "reply.retry",
                   {"status": "queued", "next_attempt_at": at, "sending_since": None, "check_first": check_first,
                    "last_error": (error or "")[:MAX_ERROR] or None}, (error or "")[:MAX_ERROR] or None, now,
                   fence=fence)


def record_failed(session: Session, reply_id: int, error: str, now: datetime | None = None,
                  fence: Fence | None = None) -> Reply | None:
    """The network refused it for good (bad credentials, a deleted post…): a person decides."""
    now = now or utcnow()
    return _finish(session, reply_id, "reply.fail",
                   {"status": "failed", "next_attempt_at": None, "sending_since": None,
                    "last_error": error[:MAX_ERROR]}, error[:MAX_ERROR], now, fence=fence)


def record_unknown(session: Session, reply_id: int, error: str, now: datetime | None = None,
                   fence: Fence | None = None) -> Reply | None:
    """The request may or may not have made a post, and nothing can tell: "outcome unknown — check".
    Never retried by itself: a person looks at the account and says what happened."""
    now = now or utcnow()
    return _finish(session, reply_id, "reply.unknown",
                   {"status": "unknown", "next_attempt_at": None, "sending_since": None, "check_first": False,
                    "last_error": ("outcome unknown — check: " + error)[:MAX_ERROR]}, error[:MAX_ERROR], now,
                   fence=fence)


def person_checked(session: Session, reply_id: int, actor: str, posted: bool, url: str | None, note: str) -> Reply:
    """A person settles a reply whose outcome was unknown (or that failed): it was posted (its link
    kept), or it was not and may be sent again (queued with the same text and approval)."""
    actor, now, note = _actor(actor), utcnow(), (note or "").strip()
    if not note:
        raise ReplyError(_("say what you checked (a note is required)"))
    reply = _load(session, reply_id)
    if reply.status not in ("unknown", "failed"):
        raise ReplyError(_("this reply is {status}: only an unknown or failed send is checked by a person").format(
            status=status_name(reply.status)))
    if posted and reply.status == "failed" and reply.attempts < 2:
        raise ReplyError(_("the network refused this reply at its only attempt: it was not posted"))
    link = (url or "").strip() or None
    if link is not None and (urlsplit(link).scheme not in ("http", "https") or not urlsplit(link).netloc):
        raise ReplyError(_("the link must be an http(s) address"))
    before = state(reply)
    if posted:
        reply.status, reply.platform_url, reply.sent_at = "sent", link, now
        reply.sent_sha256 = text_sha256(reply.text)
    else:
        reply.status, reply.next_attempt_at, reply.check_first = "queued", now, False
    reply.note, reply.updated_at, reply.last_error = note[:2000], now, None
    audit(session, actor, "reply.checked_posted" if posted else "reply.checked_resend", reply, before, note[:2000])
    if posted:  # it went out: reviewed like any reply recorded sent
        queue_sent_reply(session, reply, now)
    return reply


# --- reads --------------------------------------------------------------------------------


def thread(session: Session, item_id: int, limit: int = 100) -> list[Reply]:
    """An item's replies, oldest first."""
    return list(session.scalars(select(Reply).where(Reply.queue_item_id == item_id).order_by(Reply.id).limit(limit)))


def waiting(session: Session, limit: int = 200) -> list[tuple[Reply, Mention | None]]:
    """Replies waiting for approval, oldest first, with the mention each answers."""
    rows = session.execute(select(Reply, Mention).outerjoin(Mention, Mention.id == Reply.mention_id)
                           .where(Reply.status == "pending").order_by(Reply.submitted_at, Reply.id).limit(limit))
    return [(r, m) for r, m in rows.all()]


def by_status(session: Session, statuses: tuple[str, ...], limit: int = 200) -> list[tuple[Reply, Mention | None]]:
    """Replies in these states, newest change first, with their mention."""
    rows = session.execute(select(Reply, Mention).outerjoin(Mention, Mention.id == Reply.mention_id)
                           .where(Reply.status.in_(statuses)).order_by(Reply.updated_at.desc(), Reply.id.desc())
                           .limit(limit))
    return [(r, m) for r, m in rows.all()]


def reply(session: Session, reply_id: int) -> Reply | None:
    return session.get(Reply, reply_id)


def counts(session: Session, statuses: tuple[str, ...] = ("pending", "failed", "unknown")) -> dict[str, int]:
    """Replies in each of these states (read from the status index: the wall and the approvals
    header ask on every tick, so never a count over every reply ever sent)."""
    return {status: int(n) for status, n in session.execute(
        select(Reply.status, func.count()).where(Reply.status.in_(statuses)).group_by(Reply.status)).all()}


def troubles_by_source(session: Session, limit: int = 100) -> dict[str, dict[str, Any]]:
    """Per source: replies failed or of unknown outcome, and the newest error (for /sources)."""
    out: dict[str, dict[str, Any]] = {}
    rows = session.execute(select(Reply.source_name, Reply.status, Reply.last_error, Reply.updated_at)
                           .where(or_(Reply.status == "failed", Reply.status == "unknown",
                                      (Reply.status == "queued") & (Reply.attempts > 0)))
                           .order_by(Reply.updated_at.desc()).limit(limit)).all()
    for source, status, error, at in rows:
        entry = out.setdefault(source or "", {"failed": 0, "unknown": 0, "retrying": 0, "error": error, "at": at})
        entry["retrying" if status == "queued" else status] += 1
    return out


def oldest_waiting_at(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Reply.submitted_at)).where(Reply.status == "pending"))
