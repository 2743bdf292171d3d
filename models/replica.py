"""Reads from a PostgreSQL streaming replica (``DATABASE_READ_URL``), and how far a live page may
trust one.

A replica applies the primary's WAL some time after the primary committed it, and an older
snapshot than the one a page saw last may answer its next tick (another replica, the primary
read right after the reader's own action, a replica rebuilt from an older base). Positions tell:
a session's position is the WAL position its database has applied, ``pg_last_wal_replay_lsn()``
on a standby and ``pg_current_wal_lsn()`` on the primary, in bytes. Under READ COMMITTED each
statement takes a fresh snapshot and a standby only replays forward, so a position read *before*
some queries is at most what they saw, and one read *after* them at least what they saw.

The rule a live page follows (dashboard/pages/queue.py, "what changed since N"):

1. Before its queries a tick reads its session's position (`snapshot`). If it is behind the
   position the page recorded (`behind`), the tick sends nothing and keeps its state: an older
   database could only send rows back in time, or again. The next tick asks again; the page's
   cursor never moves beyond what the database answering it has applied.
2. After its queries it records the position read then (`position`) as the page's own.
3. The recheck of the seconds behind the page's cursor (a transaction stamped at T that commits a
   few seconds later is seen late, on the primary too) lasts while the *snapshot's* clock is within
   the recheck span of the cursor, not the web worker's clock: ``clock`` is the commit time of the
   last transaction replayed (``pg_last_xact_replay_timestamp()``) on a standby, now on the primary.
   A replica paused or lagging for a minute keeps the window open until it has replayed past it,
   so a late commit is found when it arrives. On a standby of an idle primary the clock stands
   still and the window stays open: one bounded, indexed query per tick.
4. After an action, the page reads the changed rows on the primary and records the primary's
   position (`primary_position`): its ticks wait until the replica has applied the action rather
   than show the rows as they were before it.

SQLite has no replica and no position (None): the rules reduce to the web worker's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from models.db import Database
from models.tables import utcnow

LONG_AGO = datetime(2000, 1, 1)
READYZ_TIMEOUT_MS = 2000  # /readyz's replica and primary position queries, each
_POSITION = text(
    "select pg_is_in_recovery(),"
    " (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)"
    " - '0/0'::pg_lsn, pg_last_xact_replay_timestamp()"
)


@dataclass(frozen=True)
class Snapshot:
    """Where a session's database stands: ``lsn`` applied (None on SQLite), ``clock``: every commit
    up to this naive-UTC time is applied (on a standby, the last one replayed)."""

    lsn: int | None
    clock: datetime
    standby: bool = False


def _naive_utc(value: datetime | None) -> datetime:
    if value is None:
        return LONG_AGO  # nothing replayed since the standby started: assume nothing
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def snapshot(db: Database, session: Session) -> Snapshot:
    """The position and clock of ``session``'s database now: one query with a replica; without
    one (pages read the primary, always current) no position, and the clock is now."""
    if db.replica_engine is None or session.get_bind().dialect.name != "postgresql":
        return Snapshot(None, utcnow())
    return _snapshot(session)


def _snapshot(session: Session, bounded: bool = False) -> Snapshot:
    """``bounded`` (`/readyz`): the query gives up after READYZ_TIMEOUT_MS (a replica stuck on a
    recovery conflict or a saturated server must not hold the probe until the load balancer's own timeout)."""
    if bounded:
        session.execute(text(f"set local statement_timeout = {READYZ_TIMEOUT_MS}"))
    standby, lsn, replayed = session.execute(_POSITION).one()
    clock = _naive_utc(replayed) if standby else utcnow()
    return Snapshot(None if lsn is None else int(lsn), clock, bool(standby))


def position(db: Database, session: Session) -> int | None:
    return snapshot(db, session).lsn


def behind(now: Snapshot, seen: Any) -> bool:
    """Is ``now`` older than the position ``seen`` a page recorded (from the browser: anything)?"""
    if now.lsn is None or isinstance(seen, bool) or not isinstance(seen, int):
        return False
    return now.lsn < seen


def primary_position(db: Database) -> int | None:
    """The primary's position now (after a write: at least that write's), None without a replica."""
    if db.replica_engine is None:
        return None
    with db.read() as session:
        return position(db, session)


def replica_status(db: Database) -> dict[str, Any] | None:
    """For `/readyz`: None without a replica; else ``ok`` (reachable and still a standby),
    ``detail``, ``lag_bytes`` (WAL the primary has written that the replica has not applied) and
    ``lag_seconds`` (0 when caught up, else how old its last replayed commit is)."""
    if db.replica_engine is None or db.pages_factory is None:
        return None
    try:
        with db.pages_factory() as session:  # the replica itself, whoever asks
            at = _snapshot(session, bounded=True)
    except Exception as exc:  # any driver error: the replica is not usable
        return {"ok": False, "detail": f"replica unreachable ({type(exc).__name__})"}
    if not at.standby:
        return {"ok": False, "detail": "DATABASE_READ_URL is not a standby (promoted, or the primary itself)"}
    try:
        with db.read() as session:
            primary = _snapshot(session, bounded=True).lsn
    except Exception as exc:
        return {"ok": False, "detail": f"primary unreachable ({type(exc).__name__})"}
    lag_bytes = max(0, (primary or 0) - (at.lsn or 0))
    lag_seconds = 0.0 if lag_bytes == 0 else max(0.0, round((utcnow() - at.clock).total_seconds(), 1))
    return {"ok": True, "detail": f"standby, {lag_bytes} bytes and {lag_seconds:g} s behind the primary",
            "lag_bytes": lag_bytes, "lag_seconds": lag_seconds}
