"""Pages read a real streaming replica (DATABASE_READ_URL): a write on the primary reaches the queue
through it; with its replay paused the queue's tick misses nothing and shows nothing twice once
replay resumes, a late commit included; a tick on a replica behind the page waits; `/readyz`
reports it and its lag. The primary and the replica are made for this module (tests/pg_pair.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from collectors.types import RawPost
from config.settings import Settings
from models import actions, queries, replica
from models.db import Database, open_database
from models.migrate import upgrade
from models.ops_queries import readiness
from models.tables import utcnow
from tests import pg_pair
from tests.kit import store_posts
from vigie.bench_dashboard import callback_payload

pytestmark = pytest.mark.slow  # a cluster and its replica made for the module: about 10 s, schema included

TEAM = "customer_service"
COMPLAINT = "@AureliaBank my card got declined again, number {n}"


@pytest.fixture(scope="module")
def pg() -> Iterator[pg_pair.Pair]:
    try:
        with pg_pair.pair() as made:
            yield made
    except pg_pair.Unavailable as exc:
        pytest.skip(str(exc))


def _caught_up(db: Database, timeout: float = 20) -> None:
    """Wait until the replica has applied everything the primary has written."""
    with db.read() as s:
        target = s.execute(text("select pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar_one()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.replica_engine.connect() as conn:  # type: ignore[union-attr]
            if conn.execute(text("select pg_last_wal_replay_lsn() - '0/0'::pg_lsn")).scalar_one() >= target:
                return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def _replay(db: Database, paused: bool) -> None:
    with db.replica_engine.connect() as conn:  # type: ignore[union-attr]
        conn.execute(text("select pg_wal_replay_pause()" if paused else "select pg_wal_replay_resume()"))
        conn.commit()


@pytest.fixture(scope="module")
def prepared(pg: pg_pair.Pair, base_settings: Settings) -> Iterator[tuple[Database, Settings]]:
    """The schema and the accounts, once for the module, on the primary; the pages on the replica."""
    from tests.web import make_accounts

    db = open_database(pg.primary_url, read_url=pg.replica_url)
    upgrade(db.engine)
    settings = replace(base_settings, database_url=pg.primary_url, database_read_url=pg.replica_url)
    make_accounts(db, settings)
    yield db, settings
    db.dispose()


@pytest.fixture
def live(prepared: tuple[Database, Settings], web_app: Any) -> Iterator[dict[str, Any]]:
    """The shared app on the primary with the pages on the replica, signed in as an agent (the items of
    the module's earlier tests stay: the archive refuses TRUNCATE; each test counts its own)."""
    from dashboard.context import AppContext
    from tests.conftest import web_settings
    from tests.web import sign_in

    db, settings = prepared
    before = web_app.server.extensions["vigie"]
    web_app.server.extensions["vigie"] = AppContext(settings=web_settings(settings), db=db)
    client = web_app.server.test_client()
    assert sign_in(client, "agent").status_code == 302
    _caught_up(db)
    yield {"app": web_app, "client": client, "db": db, "settings": settings}
    _replay(db, paused=False)
    web_app.server.extensions["vigie"] = before


def _add(db: Database, settings: Settings, numbers: range) -> None:
    store_posts(db, settings, [RawPost(f"p{n}", "x", COMPLAINT.format(n=n), datetime.now(UTC)) for n in numbers])


def _tick(live: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    body = callback_payload(live["app"], "queue-state.data", [{"id": "queue-tick", "property": "n_intervals",
                                                               "value": 1}],
                            [{"id": "queue-state", "property": "data", "value": state}])
    response = live["client"].post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    if response.status_code == 204:
        return {}
    assert response.status_code == 200, response.get_data(as_text=True)
    sent = json.loads(response.get_data(as_text=True))["response"]
    return {**sent.get("queue-grid", {}), "state": sent["queue-state"]["data"]} if sent else {}


class Grid:
    """What the browser's grid holds, from the transactions the ticks sent; each row added once."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows: dict[int, dict[str, Any]] = {r["id"]: r for r in rows}
        self.added: list[int] = []

    def apply(self, out: dict[str, Any]) -> None:
        tx = out.get("rowTransaction") or {}
        for row in tx.get("add", []):
            assert row["id"] not in self.rows, f"item {row['id']} added twice"
            self.rows[row["id"]] = row
            self.added.append(row["id"])
        for row in tx.get("update", []):
            assert row["id"] in self.rows, f"item {row['id']} updated before it was added"
            self.rows[row["id"]] = row
        for row in tx.get("remove", []):
            self.rows.pop(row["id"])

    def shown(self) -> dict[int, tuple[str, str]]:
        return {i: (r["status"], r["assignee"]) for i, r in self.rows.items()}


def _start(live: dict[str, Any]) -> tuple[dict[str, Any], Grid]:
    """A page opened now, as `layout()` leaves its state and grid (read on the replica)."""
    db = live["db"]
    with db.pages() as s:
        at = replica.snapshot(db, s)
        key = queries.newest_change(s)
        rows = queries.open_queue(s, TEAM)
        lsn = replica.position(db, s)
    assert at.standby
    state = {"team": TEAM, "key": list(key), "known": [r["id"] for r in rows], "floor": key[0], "lsn": lsn,
             "seen": at.clock.isoformat()}
    return state, Grid(rows)


def _on_primary(db: Database) -> dict[int, tuple[str, str]]:
    with db.read() as s:
        return {r["id"]: (r["status"], r["assignee"]) for r in queries.open_queue(s, TEAM)}


def test_a_write_on_the_primary_reaches_the_queue_through_the_replica(live: dict[str, Any]) -> None:
    db, settings = live["db"], live["settings"]
    state, grid = _start(live)
    _replay(db, paused=True)
    _add(db, settings, range(3))
    out = _tick(live, state)  # the replica has not applied the posts: the page reads it, not the primary
    assert "rowTransaction" not in out
    state = out.get("state", state)
    _replay(db, paused=False)
    _caught_up(db)
    out = _tick(live, state)
    grid.apply(out)
    assert sorted(grid.rows[i]["text"] for i in grid.added) == [COMPLAINT.format(n=n) for n in range(3)]
    assert grid.shown() == _on_primary(db)


def test_with_replay_paused_the_tick_misses_nothing_and_shows_nothing_twice(
    live: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.pages import queue as page

    monkeypatch.setattr(page, "RECHECK_FOR", timedelta(seconds=2))  # the pause below outlasts it
    db, settings = live["db"], live["settings"]
    state, grid = _start(live)
    _add(db, settings, range(20, 24))
    _caught_up(db)
    out = _tick(live, state)
    grid.apply(out)
    state = out["state"]
    first, second, third, fourth = sorted(grid.added)

    # A transaction stamped first commits last: `late` claims `first` at t, `second` is claimed at t+0.3 s
    # and committed at once; the page reads that (its cursor moves to t+0.3 s), then replay pauses.
    late = db.write()
    late.begin()
    actions.claim(late, first, "alice", at=utcnow())
    late.flush()
    time.sleep(0.3)
    with db.write.begin() as s:
        actions.claim(s, second, "bob")
    _caught_up(db)
    out = _tick(live, state)
    grid.apply(out)
    state = out["state"]
    assert grid.shown()[second] == ("claimed", "bob")
    _replay(db, paused=True)
    late.commit()
    late.close()
    with db.write.begin() as s:
        actions.resolve(s, third, "carol")  # removed from the open queue
    _add(db, settings, range(30, 32))  # and two new items, while the replica stands still

    for _ in range(3):  # the pause outlasts the recheck span on this worker's clock
        out = _tick(live, state)
        tx = out.get("rowTransaction") or {"add": [], "update": [], "remove": []}
        assert not tx["add"] and not tx["remove"]  # (the seconds behind the cursor are asked again: as they were)
        assert all(grid.rows[r["id"]] == r for r in tx["update"])
        state = out.get("state", state)
        time.sleep(1.1)
    _replay(db, paused=False)
    _caught_up(db)
    for _ in range(2):
        out = _tick(live, state)
        grid.apply(out)
        state = out.get("state", state)
    assert grid.shown() == _on_primary(db)
    assert grid.shown()[first] == ("claimed", "alice")  # the late commit: found once replayed
    assert third not in grid.rows and fourth in grid.rows
    assert len(grid.added) == len(set(grid.added)) == 6  # 4 + 2 new ones, each added once


def test_a_tick_on_a_replica_behind_the_page_waits(live: dict[str, Any]) -> None:
    """After an action the page's position is the primary's: a replica that has not applied it
    yet sends nothing (no row as it was before the action), and the tick goes on once it has."""
    db, settings = live["db"], live["settings"]
    state, grid = _start(live)
    _add(db, settings, range(40, 42))
    _caught_up(db)
    out = _tick(live, state)
    grid.apply(out)
    state = out["state"]
    _replay(db, paused=True)
    item = min(grid.added)
    with db.write.begin() as s:
        actions.claim(s, item, "agent")
    state = {**state, "lsn": replica.primary_position(db)}  # as the queue's action callback leaves it
    assert _tick(live, state) == {}  # 204: the replica is behind what the page has seen
    _replay(db, paused=False)
    _caught_up(db)
    out = _tick(live, state)
    grid.apply(out)
    assert grid.shown()[item] == ("claimed", "agent")


def test_readyz_reports_the_replica_and_its_lag(live: dict[str, Any], pg: pg_pair.Pair) -> None:
    db = live["db"]
    checks = readiness(db, utcnow())
    assert checks["replica"]["ok"] and checks["replica"]["lag_bytes"] == 0
    assert checks["replica"]["detail"] == "standby, 0 bytes and 0 s behind the primary"
    _replay(db, paused=True)
    time.sleep(1.1)
    _add(db, live["settings"], range(100, 103))
    lagging = readiness(db, utcnow())["replica"]
    assert lagging["ok"] and lagging["lag_bytes"] > 0 and lagging["lag_seconds"] >= 1
    _replay(db, paused=False)
    wrong = open_database(pg.primary_url, read_url=pg.primary_url)  # the primary is no standby
    assert readiness(wrong, utcnow())["replica"] == {
        "ok": False, "detail": "DATABASE_READ_URL is not a standby (promoted, or the primary itself)"}
    wrong.dispose()
    down = open_database(pg.primary_url, read_url="postgresql+psycopg://postgres@127.0.0.1:9/none")
    assert readiness(down, utcnow())["replica"] == {"ok": False, "detail": "replica unreachable (OperationalError)"}
    down.dispose()
