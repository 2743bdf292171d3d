"""Collector heartbeats and stale sources.

Each collector process (`vigie collect`, `vigie demo`) writes its row of ``collector_heartbeats``
every ``VIGIE_HEARTBEAT_SECONDS`` with the sources it holds the lease of, and marks it stopped on
a clean shutdown. A collector is *gone* when it stopped or has not beaten for three of its
intervals (SIGKILL, a dead host, a hung process).

A polled source is *stale* (`stale_reason`, a pure function) when its last run is older than
three of its intervals (counted from the end of a wait the source asked for, if later), or
when the collector holding its lease, or the last one to list it, is gone. A stale source is
shown in red on `/sources` and the wall, counted by `/metrics`; `/readyz` wants a live collector and
none silent without a clean stop (`collectors_ready`).

Queries take the session first, are bounded and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from i18n import _, current_reader
from i18n import formats as fmt
from models.db import Database
from models.ops_tables import CollectorHeartbeat
from models.queries import source_health
from models.tables import SourceRow

MISSED_BEATS = 3  # a collector silent this many heartbeat intervals is gone
MISSED_RUNS = 3  # a source not run for this many of its intervals is stale
KEEP_GONE = timedelta(days=7)  # rows of collectors gone this long are deleted (at a beat)
HEARTBEAT_LIMIT = 200  # collectors read at once: newest beat first


# --- pure rules ---------------------------------------------------------------------------------


def collector_gone(beat: Any, now: datetime) -> str | None:
    """Why the collector of this heartbeat row is gone (stopped, or silent too long), or None if alive."""
    if beat.stopped_at is not None:
        return _("collector {worker} stopped at {time}").format(worker=beat.worker_id, time=_time(beat.stopped_at))
    if now - beat.beat_at > timedelta(seconds=MISSED_BEATS * beat.interval_seconds):
        return _("collector {worker} silent since {time}").format(worker=beat.worker_id, time=_time(beat.beat_at))
    return None


def _time(moment: datetime) -> str:
    """A time in a reason, for its reader (the request's, else UTC): ``4 Dec 2026, 10:42:05 UTC+01:00``."""
    return fmt.local(moment, current_reader(), seconds=True)


def _auto_id(beat: Any) -> bool:
    """Whether the collector ran without a fixed VIGIE_WORKER_ID (the default is ``hostname:pid``)."""
    return bool(beat.worker_id == f"{beat.hostname}:{beat.pid}")


def _restarted_as(silent: Any, alive: Any) -> bool:
    """A collector without a fixed id, restarted: a new id on the same host, started after the old
    one's last beat. (Collectors with fixed ids come back under their own row instead.)"""
    return (_auto_id(silent) and _auto_id(alive) and alive.hostname == silent.hostname
            and alive.started_at >= silent.beat_at)


def collectors_ready(beats: Iterable[Any], now: datetime) -> tuple[bool, str]:
    """Whether the collectors are as they should be, and why: at least one alive, and none silent
    without a clean stop (killed: it counts until it beats again, until a collector started since on
    the same host replaces it (both without a fixed VIGIE_WORKER_ID), or until an operator
    forgets a retired one with `vigie collectors forget NAME`)."""
    beats = list(beats)
    alive = [b for b in beats if collector_gone(b, now) is None]
    silent = silent_collectors(beats, now)
    if silent:  # (counted, not named: /readyz is public; `vigie collectors list` names them)
        return False, (f"{len(silent)} collector(s) silent for three of their intervals without a clean stop; "
                       "restart them, or `vigie collectors forget NAME` for one retired (`vigie collectors list`)")
    if not alive:
        return False, "no collector heartbeat within three of its intervals"
    return True, f"{len(alive)} collector(s) with a fresh heartbeat"


def silent_collectors(beats: Iterable[Any], now: datetime) -> list[Any]:
    """The collectors silent for three of their intervals without a clean stop (killed, hung, a dead
    host), newest beat first, unless a collector started since on the same host replaced it (both
    without a fixed VIGIE_WORKER_ID). They stay listed until they beat again or an operator forgets
    them (`vigie collectors forget NAME`): the wall and /readyz show them meanwhile."""
    beats = list(beats)
    alive = [b for b in beats if collector_gone(b, now) is None]
    return [b for b in beats if b.stopped_at is None and collector_gone(b, now) is not None
            and not any(_restarted_as(b, a) for a in alive)]


def holder(row: Any, beats: Iterable[Any]) -> Any | None:
    """The heartbeat of the collector holding ``row``'s lease or, with no lease, of the last
    collector that listed the source at a beat; None when no heartbeat names it (e.g. only
    `vigie collect --once` ran it)."""
    beats = list(beats)
    if row.lease_owner is not None:
        return next((b for b in beats if b.worker_id == row.lease_owner), None)
    listing = [b for b in beats if row.name in (b.sources or [])]
    return max(listing, key=lambda b: b.beat_at, default=None)


def stale_reason(row: Any, interval_seconds: float, beats: Iterable[Any], now: datetime) -> str | None:
    """Why a polled source is stale, or None. ``row``: its `SourceRow` (name, last_run_at,
    not_before, lease_owner); ``beats``: the collectors' heartbeat rows; times naive UTC."""
    held_by = holder(row, beats)
    gone = collector_gone(held_by, now) if held_by is not None else None
    if gone is not None:
        return gone
    if row.last_run_at is None:
        return None  # not run yet: shown as such
    since = max(row.last_run_at, row.not_before or row.last_run_at)
    if now - since > timedelta(seconds=MISSED_RUNS * interval_seconds):
        return _("no run since {time} (expected every {seconds} s): is a collector running?").format(
            time=_time(row.last_run_at), seconds=fmt.number(interval_seconds, current_reader()))
    return None


def stale_map(rows: Iterable[Any], intervals: Mapping[str, float], beats: Iterable[Any],
              now: datetime) -> dict[str, str]:
    """{source name: why it is stale} for the polled sources among ``rows`` (``intervals``: name → seconds)."""
    beats = list(beats)
    out: dict[str, str] = {}
    for row in rows:
        if row.name in intervals:
            reason = stale_reason(row, intervals[row.name], beats, now)
            if reason is not None:
                out[row.name] = reason
    return out


# --- the database -------------------------------------------------------------------------------


def held_sources(session: Session, worker_id: str, now: datetime, limit: int = 1000) -> list[str]:
    """Names of the sources whose lease ``worker_id`` holds now."""
    return list(session.scalars(select(SourceRow.name).where(SourceRow.lease_owner == worker_id,
                                                             SourceRow.lease_until > now)
                                .order_by(SourceRow.name).limit(limit)))


def beat(session: Session, worker_id: str, hostname: str, pid: int, version: str, interval_seconds: int,
         now: datetime, starting: bool = False) -> CollectorHeartbeat:
    """Write this collector's heartbeat with the sources it holds; forget collectors long gone.
    ``starting``: the process's first beat (a restart reusing a fixed VIGIE_WORKER_ID starts afresh).
    Otherwise a row marked stopped stays stopped: a beat racing the shutdown does not revive it."""
    sources = held_sources(session, worker_id, now)
    row = session.get(CollectorHeartbeat, worker_id)
    if row is None:
        row = CollectorHeartbeat(worker_id=worker_id, started_at=now, stopped_at=None)
        session.add(row)
    elif row.stopped_at is not None and not starting:
        return row
    if starting:
        row.started_at, row.stopped_at = now, None
    row.hostname, row.pid, row.version = hostname[:200], pid, version[:50]
    row.beat_at, row.sources, row.interval_seconds = now, sources, interval_seconds
    session.execute(delete(CollectorHeartbeat).where(CollectorHeartbeat.beat_at < now - KEEP_GONE))
    session.flush()
    return row


def mark_stopped(session: Session, worker_id: str, now: datetime) -> None:
    """A clean shutdown: the collector is gone now. Its row keeps the sources it held, so they show
    stale (their leases are released) until another collector takes them."""
    session.execute(update(CollectorHeartbeat).where(CollectorHeartbeat.worker_id == worker_id)
                    .values(stopped_at=now, beat_at=now))


def heartbeats(session: Session, limit: int = HEARTBEAT_LIMIT) -> list[CollectorHeartbeat]:
    """The collectors' heartbeat rows, the most recent beat first."""
    return list(session.scalars(select(CollectorHeartbeat)
                                .order_by(CollectorHeartbeat.beat_at.desc(), CollectorHeartbeat.worker_id)
                                .limit(limit)))


def forget(session: Session, worker_id: str) -> bool:
    """Delete a retired collector's row (it no longer counts for readiness); False if none."""
    row = session.get(CollectorHeartbeat, worker_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def live_collectors(session: Session, now: datetime) -> list[CollectorHeartbeat]:
    """Collectors alive now (not stopped, beaten within three of their intervals)."""
    rows = session.scalars(select(CollectorHeartbeat).where(CollectorHeartbeat.stopped_at.is_(None))
                           .order_by(CollectorHeartbeat.beat_at.desc()).limit(HEARTBEAT_LIMIT))
    return [r for r in rows if collector_gone(r, now) is None]


def silent(session: Session, now: datetime) -> list[tuple[str, str]]:
    """[(worker id, why)] for the collectors silent without a clean stop (`silent_collectors`), read now."""
    return [(b.worker_id, collector_gone(b, now) or "") for b in silent_collectors(heartbeats(session), now)]


@dataclass(frozen=True)
class Health:
    """The source rows, the collectors' heartbeats, the stale sources {name: why} and the silent
    collectors [(worker id, why)], all read on the primary (`health`)."""

    rows: list[SourceRow]
    beats: list[CollectorHeartbeat]
    stale: dict[str, str]
    silent: list[tuple[str, str]]


def health(db: Database, intervals: Mapping[str, float], now: datetime, limit: int = 100,
           session: Session | None = None) -> Health:
    """The sources' and collectors' health now, read on the primary (``db.read``) even when pages read
    a replica: heartbeats and runs are judged against ``now``, the web worker's clock, and a replica
    lagging three heartbeat intervals would show every collector silent and every source stale. (The
    replica's replay clock is no fix: on a standby of an idle primary it stands still, and a collector
    killed then would never be seen silent.) Two bounded reads of small tables. ``limit``: source rows.
    ``session``: the page's own, used when there is no replica (then it reads the primary already)."""
    if session is not None and db.replica_engine is None:
        rows, beats = source_health(session, limit), heartbeats(session)
    else:
        with db.read() as primary:
            rows, beats = source_health(primary, limit), heartbeats(primary)
    return Health(rows, beats, stale_map(rows, intervals, beats, now),
                  [(b.worker_id, collector_gone(b, now) or "") for b in silent_collectors(beats, now)])


def stale_sources(session: Session, intervals: Mapping[str, float], now: datetime,
                  rows: Iterable[Any] | None = None) -> dict[str, str]:
    """{name: why stale} for the polled sources (``intervals``: name → seconds), read now
    (``rows``: the source rows when the caller has them already)."""
    if rows is None:
        rows = session.scalars(select(SourceRow).order_by(SourceRow.name).limit(1000))
    return stale_map(rows, intervals, heartbeats(session), now)
