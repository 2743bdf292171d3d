"""Engine and session factories.

SQLite (the embedded default) runs in WAL mode with a busy timeout,
``synchronous=NORMAL`` and foreign keys on. Writers open their transaction with
``BEGIN IMMEDIATE`` so that two writers queue on the lock at the start instead of
failing half-way with "database is locked"; readers use a plain ``BEGIN`` and never
block writers under WAL. Any other SQLAlchemy URL (PostgreSQL) is used as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config.archive import Retention, Supervision

_WRITE_OPTION = "vigie_write"


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred-only).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; for a SQLite file, create its folder first."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        _prepare_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@dataclass(frozen=True)
class Database:
    """The engine and its two session factories: ``read`` and ``write``."""

    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def analyze(db: Database) -> None:
    """Refresh the planner's statistics (SQLite has none until asked; without them it may pick
    a poor index on a large queue). Run by `vigie db upgrade` and hourly by the collector."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def open_database(url: str, retention: Retention | None = None, supervision: Supervision | None = None) -> Database:
    """The database at ``url``. Its write sessions carry ``retention`` and ``supervision``
    (`config.archive`; the defaults when None): the archive writer gives each record its retention
    from the first, and `models.supervision` queues reviews by the second, in the writer's own
    transaction, without every caller between a collector and the store having to pass them on."""
    engine = make_engine(url)
    writer = engine.execution_options(**{_WRITE_OPTION: True})
    return Database(
        engine=engine,
        read=sessionmaker(engine, expire_on_commit=False),
        write=sessionmaker(writer, expire_on_commit=False, info={"retention": retention or Retention(),
                                                                 "supervision": supervision or Supervision()}),
    )
