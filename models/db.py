"""Engine and session factories.

SQLite (the embedded default) runs in WAL mode with a busy timeout,
``synchronous=NORMAL`` and foreign keys on. Writers open their transaction with
``BEGIN IMMEDIATE`` so that two writers queue on the lock at the start instead of
failing half-way with "database is locked"; readers use a plain ``BEGIN`` and never
block writers under WAL. Any other SQLAlchemy URL (PostgreSQL) is used as given, its pooled
connections pinged before use after sitting idle (`_ping_when_idle`).

Three session factories (and ``lookup``, one-statement reads: `Database.lookup`):
``write`` (the primary, transactions that change something), ``read``
(the primary: reads that must see the caller's own writes, and every read of the collectors and
the command line) and ``pages`` (the dashboard's read-only page reads: a PostgreSQL streaming
replica when ``DATABASE_READ_URL`` is set, the primary's ``read`` otherwise). A replica lags:
whoever reads ``pages`` must bound what it shows by what the replica has applied
(`models.replica`); the queue page does (dashboard/pages/queue.py).

A person's own writes: a web request that committed a write records the primary's position after it
(`OwnWrites`, kept by the dashboard in a cookie of its own, dashboard/own_writes.py); while a later
request of theirs carries a position the replica has not replayed, ``pages`` hands out the primary's
sessions, so a reload or another page never shows the state before their action. Without a pending
position ``pages`` costs nothing more; with one, one short query on the replica per request.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config.archive import Retention, Supervision

_WRITE_OPTION = "vigie_write"
_REPLAYED = text("select pg_last_wal_replay_lsn() - '0/0'::pg_lsn")


@dataclass
class OwnWrites:
    """One web request's own-write state (`track_own_writes`): ``wait_for``, the primary position
    the person's last write reached (from their session; None: nothing pending), ``caught_up``
    (None until asked: whether the replica has replayed it), ``wrote`` (this request committed a write)."""

    wait_for: int | None = None
    caught_up: bool | None = None
    wrote: bool = False


_OWN_WRITES: ContextVar[OwnWrites | None] = ContextVar("vigie_own_writes", default=None)


def track_own_writes(wait_for: int | None) -> OwnWrites:
    """Start a web request's own-write tracking (its state is returned, read it at the request's end)."""
    state = OwnWrites(wait_for=wait_for if isinstance(wait_for, int) and not isinstance(wait_for, bool) else None)
    _OWN_WRITES.set(state)
    return state


def current_own_writes() -> OwnWrites | None:
    return _OWN_WRITES.get()


def stop_tracking() -> None:
    _OWN_WRITES.set(None)


def _wrote(_session: Session) -> None:
    state = _OWN_WRITES.get()
    if state is not None:
        state.wrote = True


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


IDLE_PING_SECONDS = 10.0  # a pooled PostgreSQL connection idle this long is pinged before use


def _ping_when_idle(engine: Engine) -> Engine:
    """Ping a pooled connection before use only when it sat idle in the pool for IDLE_PING_SECONDS
    (SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip per session, two per web
    request). An idle connection is the one a server restart or a network device may have dropped;
    a dead one is replaced before use, and the pool's older connections with it. A connection that
    dies while in use (a restart during a busy second) fails that one statement, and SQLAlchemy then
    replaces every pooled connection older than the failure: the next request reconnects."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["vigie_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("vigie_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # new, or back in the pool moments ago
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_conn, None):
                raise  # not a dead connection (as SQLAlchemy's own pre-ping): the pool is kept
            raise exc.InvalidatePoolError(f"a pooled connection is dead: {error}") from error

    return engine


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
    return _ping_when_idle(create_engine(url, pool_size=5, max_overflow=10))


@dataclass(frozen=True)
class Database:
    """The engine and its session factories: ``read`` and ``write`` on the primary, ``pages`` on
    the replica engine when there is one (else ``pages`` is ``read``)."""

    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]
    replica_engine: Engine | None = None
    pages_factory: sessionmaker[Session] | None = None
    lookup_factory: sessionmaker[Session] | None = None

    @property
    def lookup(self) -> sessionmaker[Session]:
        """Sessions for one-statement reads on the primary (the sign-in guard's user of each request):
        on PostgreSQL in autocommit, so a lookup is its one statement, without a BEGIN and a ROLLBACK
        around it (one statement sees one snapshot either way); ``read`` on SQLite."""
        return self.lookup_factory or self.read

    @property
    def pages(self) -> sessionmaker[Session]:
        """Sessions for read-only page reads that tolerate lag: the replica's, or the primary's (no
        replica, or one that has not replayed the reader's own last write yet: `OwnWrites`)."""
        if self.pages_factory is None:
            return self.read
        state = _OWN_WRITES.get()
        if state is None or state.wait_for is None:
            return self.pages_factory
        if state.caught_up is None:  # asked once per request
            state.caught_up = self._replayed(state.wait_for)
        return self.pages_factory if state.caught_up else self.read

    def _replayed(self, lsn: int) -> bool:
        try:
            with self.pages_factory() as session:  # type: ignore[misc]
                # bounded: a hung replica must not add its own wait to every request of whoever wrote
                session.execute(text("SET LOCAL statement_timeout = 1000"))
                replayed = session.execute(_REPLAYED).scalar()
        except Exception:  # the replica unreachable: the primary answers (and /readyz says so)
            return False
        return replayed is not None and int(replayed) >= lsn

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica_engine is not None:
            self.replica_engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def analyze(db: Database) -> None:
    """Refresh the planner's statistics (SQLite has none until asked; without them it may pick
    a poor index on a large queue). Run by `vigie db upgrade` and hourly by the collector."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def open_database(url: str, retention: Retention | None = None, supervision: Supervision | None = None,
                  read_url: str | None = None) -> Database:
    """The database at ``url``. Its write sessions carry ``retention`` and ``supervision``
    (`config.archive`; the defaults when None): the archive writer gives each record its retention
    from the first, and `models.supervision` queues reviews by the second, in the writer's own
    transaction, without every caller between a collector and the store having to pass them on.
    ``read_url``: a streaming replica of ``url`` (``DATABASE_READ_URL``) for ``pages``; not
    connected to until a page reads (a replica down does not stop a start: `/readyz` says so)."""
    engine = make_engine(url)
    replica = (_ping_when_idle(create_engine(read_url, pool_size=5, max_overflow=10,
                                             connect_args={"connect_timeout": 5})) if read_url else None)
    writer = engine.execution_options(**{_WRITE_OPTION: True})
    write = sessionmaker(writer, expire_on_commit=False, info={"retention": retention or Retention(),
                                                               "supervision": supervision or Supervision()})
    if replica is not None:
        event.listen(write, "after_commit", _wrote)  # a web request's own write (`OwnWrites`)
    return Database(
        engine=engine,
        read=sessionmaker(engine, expire_on_commit=False),
        write=write,
        replica_engine=replica,
        pages_factory=sessionmaker(replica, expire_on_commit=False) if replica is not None else None,
        lookup_factory=(None if engine.dialect.name == "sqlite" else
                        sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)),
    )
