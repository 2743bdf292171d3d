"""The collector's heartbeat: the scheduler's ``heartbeat`` job writes the process's row of
``collector_heartbeats`` every ``VIGIE_HEARTBEAT_SECONDS`` (on an executor of its own, so four long
polls filling the pool never delay it), listing the sources whose lease it holds; the first beat is
written when the scheduler is made, and a clean shutdown marks the row stopped.

`/readyz`, `/metrics`, `/sources` and the wall read these rows (`models.heartbeats`): a collector
that stops beating (SIGKILL, a dead host) turns its sources stale within three intervals.
"""

from __future__ import annotations

import logging
import os
import socket
from importlib import metadata

from config.settings import Settings
from models import heartbeats
from models.db import Database
from models.tables import utcnow

log = logging.getLogger("vigie.collect")


def vigie_version() -> str:
    try:
        return metadata.version("vigie")
    except metadata.PackageNotFoundError:  # run from a checkout that was not installed
        return "unknown"


def beat_once(db: Database, settings: Settings, starting: bool = False) -> None:
    """One heartbeat of this process (``starting``: its first)."""
    with db.write.begin() as session:
        heartbeats.beat(session, settings.worker_id, socket.gethostname(), os.getpid(), vigie_version(),
                        settings.ops.heartbeat_seconds, utcnow(), starting=starting)


def mark_stopped(db: Database, settings: Settings) -> None:
    with db.write.begin() as session:
        heartbeats.mark_stopped(session, settings.worker_id, utcnow())


def heartbeat_job(db: Database, settings: Settings) -> None:
    """The scheduler's ``heartbeat`` job (its own one-thread executor): a failed beat is logged and
    tried again at the next interval."""
    try:
        beat_once(db, settings)
    except Exception:
        log.exception("heartbeat of collector %s failed; trying again in %d s", settings.worker_id,
                      settings.ops.heartbeat_seconds)
