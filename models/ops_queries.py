"""What `/readyz` and `/metrics` read (dashboard/ops.py): readiness checks and the backlog counts.

Each query is bounded (grouped by a handful of states, or limited); read at request time, so
every dashboard worker answers the same. Session first, never committing.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Database
from models.heartbeats import collectors_ready, heartbeats
from models.migrate import current_revision, head_revision
from models.replica import replica_status
from models.reply_tables import Reply
from models.tables import Alert, Notification

# Replies on their way out, per state: waiting for approval, queued to send, being sent, retried
# (queued with attempts), of unknown outcome, failed for good.
REPLY_BACKLOG: tuple[str, ...] = ("pending", "queued", "sending", "unknown", "failed")
NOTIFICATION_BACKLOG: tuple[str, ...] = ("pending", "failed")


@functools.cache
def _head() -> str:
    return head_revision()  # read once per process: the migration scripts ship with the code


def readiness(db: Database, now: datetime) -> dict[str, dict[str, Any]]:
    """{check: {"ok": bool, "detail": str}} for database, schema and collector, and the replica when
    one is set (its lag too: ``lag_bytes``, ``lag_seconds``; a lag alone leaves it ready, the pages
    bound what they show by it); each check stops at its first failure and says why (never a value
    from the database beyond a revision id)."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        with db.read() as session:
            session.execute(select(1))
        checks["database"] = {"ok": True, "detail": "reachable"}
    except Exception as exc:  # any driver error: not ready
        checks["database"] = {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}
        checks["schema"] = {"ok": False, "detail": "not checked: the database is unreachable"}
        checks["collector"] = {"ok": False, "detail": "not checked: the database is unreachable"}
        return checks
    try:
        revision = current_revision(db.engine)
        head = _head()
        checks["schema"] = ({"ok": True, "detail": f"at head revision {head}"} if revision == head else
                            {"ok": False, "detail": f"at revision {revision or 'none'}, the code needs {head}: "
                                                    "run `vigie db upgrade`"})
    except Exception as exc:
        checks["schema"] = {"ok": False, "detail": f"revision unreadable ({type(exc).__name__})"}
    try:
        with db.read() as session:
            ok, detail = collectors_ready(heartbeats(session), now)
        checks["collector"] = {"ok": ok, "detail": detail}
    except Exception as exc:
        checks["collector"] = {"ok": False, "detail": f"heartbeats unreadable ({type(exc).__name__})"}
    replica = replica_status(db)
    if replica is not None:  # DATABASE_READ_URL set: the pages read it, so it must answer, as a standby
        checks["replica"] = replica
    return checks


def reply_backlog(session: Session) -> dict[str, int]:
    """Replies per outbound state (every state of REPLY_BACKLOG, 0 when none); ``retrying``:
    queued replies already tried at least once."""
    out = dict.fromkeys(REPLY_BACKLOG, 0)
    rows = session.execute(select(Reply.status, func.count()).where(Reply.status.in_(REPLY_BACKLOG))
                           .group_by(Reply.status))
    out.update({status: int(n) for status, n in rows})
    out["retrying"] = int(session.scalar(select(func.count()).select_from(Reply).where(
        Reply.status == "queued", Reply.attempts > 0)) or 0)
    return out


def notification_backlog(session: Session) -> dict[str, int]:
    """Notifications waiting to be sent and given up on."""
    out = dict.fromkeys(NOTIFICATION_BACKLOG, 0)
    rows = session.execute(select(Notification.status, func.count())
                           .where(Notification.status.in_(NOTIFICATION_BACKLOG)).group_by(Notification.status))
    out.update({status: int(n) for status, n in rows})
    return out


def open_alert_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Alert).where(Alert.closed_at.is_(None))) or 0)
