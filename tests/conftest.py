"""Shared fixtures: real settings, a real SQLite file, and PostgreSQL when asked for.

Set VIGIE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
to run every `db` test against PostgreSQL as well; `.ci/run` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from config.settings import Settings, load_settings
from models.db import Database, open_database
from models.migrate import upgrade
from models.tables import Base
from tests.replay import ReplayServer

PG_URL = os.environ.get("VIGIE_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return load_settings(env={})


def _reset_postgres(url: str) -> Database:
    db = open_database(url)
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("DROP TABLE IF EXISTS vigie_bench_floor"))
        conn.execute(text("DROP TABLE IF EXISTS vigie_scratch"))  # models.scratch's marker
    return db


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("VIGIE_TEST_DATABASE_URL not set: PostgreSQL run skipped")
        _reset_postgres(PG_URL).engine.dispose()
        return PG_URL
    return f"sqlite:///{tmp_path / 'vigie.db'}"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    upgrade(database.engine)
    yield database
    database.engine.dispose()


@pytest.fixture
def settings(base_settings: Settings, db_url: str) -> Settings:
    return replace(base_settings, database_url=db_url, worker_id="test-worker")


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'vigie.db'}")
    upgrade(database.engine)
    yield database
    database.engine.dispose()


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """A local HTTP server replaying recorded platform payloads (see tests/replay.py)."""
    server = ReplayServer()
    yield server
    server.close()


# --- the web app -----------------------------------------------------------------------------
# Dash registers page callbacks globally and hands them to the first app that serves a request,
# so the whole test run shares one app; each test points it at its own database and settings.

TEST_SECRET = "test-secret-key-of-at-least-32-characters"


def web_settings(settings: Settings, **auth_changes: object) -> Settings:
    from config.auth import parse_auth

    auth = parse_auth({"VIGIE_SECRET_KEY": TEST_SECRET}, "127.0.0.1", 8050)
    return replace(settings, auth=replace(auth, **auth_changes))


@pytest.fixture(scope="session")
def web_app(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from dashboard.app import create_app

    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('web') / 'vigie.db'}")
    upgrade(database.engine)
    app = create_app(web_settings(base_settings), database)
    app.server.test_client().get("/_dash-dependencies")  # Dash sets itself up on its first request
    return app


@pytest.fixture
def web(web_app, db: Database, settings: Settings):  # type: ignore[no-untyped-def]
    """The shared app, reading and writing this test's database (SQLite and PostgreSQL). The days'
    figures a worker keeps a minute (`dashboard.exports._computed`, per process: one database in
    production) are forgotten, so that no test reads another's."""
    from dashboard import exports
    from dashboard.context import AppContext

    exports._computed.clear()
    before = web_app.server.extensions["vigie"]
    web_app.server.extensions["vigie"] = AppContext(settings=web_settings(settings), db=db)
    yield web_app
    web_app.server.extensions["vigie"] = before
