"""Operations' tables: the collectors' heartbeats (`/readyz`, `/metrics`, stale sources on `/sources`
and the wall). One row per collector process, written by the collector itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base


class CollectorHeartbeat(Base):
    """A collector process: who it is, when it started, when it last said it was alive, what it holds."""

    __tablename__ = "collector_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    version: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    interval_seconds: Mapped[int]  # how often it beats: stale after three intervals without a beat
    stopped_at: Mapped[datetime | None]  # set by a clean shutdown
    sources: Mapped[list[Any]]  # the source names it leased at its last beat
