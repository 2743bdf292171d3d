"""PostgreSQL pooled connections are pinged before use only after sitting idle (models.db._ping_when_idle):
a connection the server dropped while it was idle is replaced before a request uses it, and a
busy pool costs no round trip per checkout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, exc, text
from sqlalchemy.pool import NullPool

from models import db as db_module
from models.db import Database, open_database
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="VIGIE_TEST_DATABASE_URL not set: PostgreSQL run skipped")


@pytest.fixture
def database() -> Iterator[Database]:
    database = open_database(PG_URL)
    yield database
    database.dispose()


def _pooled_backend(database: Database) -> int:
    """The server process of the one pooled connection (a session's), left back in the pool."""
    with database.read() as session:
        return int(session.execute(text("select pg_backend_pid()")).scalar_one())


def _kill(database: Database, pid: int) -> None:
    """Drop a pooled connection from the server side, as a restart or a firewall would."""
    other = create_engine(PG_URL, poolclass=NullPool)  # a connection of its own, outside the pool
    try:
        with other.connect() as conn:
            # (waits up to 5 s for the server process to be gone, PostgreSQL 14 and later)
            assert conn.execute(text("select pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
    finally:
        other.dispose()


def _pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The pings the dialect sends from now on (SQLAlchemy's pre-ping sends its own through it too)."""
    dialect = database.engine.dialect
    sent: list[object] = []
    real = dialect.do_ping

    def counted(dbapi_conn: object) -> bool:
        sent.append(dbapi_conn)
        return bool(real(dbapi_conn))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


def test_a_connection_dropped_while_idle_is_replaced_before_use(database: Database,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pid = _pooled_backend(database)
    _kill(database, pid)
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle
    with database.read() as session:  # pinged, found dead, replaced: the request does not fail
        assert int(session.execute(text("select pg_backend_pid()")).scalar_one()) != pid


def test_without_the_ping_the_dropped_connection_fails_its_request(database: Database,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The counterpart: the same drop, the connection back in the pool moments ago (no ping), fails
    once; the pool then replaces its connections and the next request succeeds."""
    pid = _pooled_backend(database)
    _kill(database, pid)
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 3600.0)
    with pytest.raises(exc.OperationalError), database.read() as session:
        session.execute(text("select 1")).scalar_one()
    with database.read() as session:
        assert session.execute(text("select 1")).scalar_one() == 1


def test_a_busy_pool_sends_no_ping_and_an_idle_one_does(database: Database,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _pooled_backend(database)
    pings = _pings(database, monkeypatch)
    for _ in range(5):
        with database.read() as session:
            session.execute(text("select 2")).scalar_one()
    assert pings == []
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    with database.read() as session:
        session.execute(text("select 2")).scalar_one()
    assert len(pings) == 1
