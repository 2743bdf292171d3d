"""Pages on a lagging replica (DATABASE_READ_URL), against a real primary + streaming replica made
for this module (tests/pg_pair.py): the wall, the admin's home and /sources judge collectors and
sources on the primary (a replica's old heartbeats are not silence); a person's own write shows on
their next page even while the replica has not replayed it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import text

from models import heartbeats, queries, replica
from models.ops_queries import readiness
from models.tables import utcnow
from tests.integration.test_replica import TEAM, _add, _caught_up, _replay, live, pg, prepared  # noqa: F401
from tests.web import dash_post, plain_strings, sign_in
from vigie.bench_dashboard import callback_payload

pytestmark = pytest.mark.slow  # a cluster and its replica made for the module

ROUTER = ".._pages_content.children..._pages_store.data.."


def _page(client: Any, path: str) -> list[str]:
    """The strings of the page at ``path`` as Dash's router builds it for ``client``."""
    built = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                       {"id": "_pages_location", "property": "search", "value": ""}])
    assert built.status_code == 200, built.get_data(as_text=True)[:300]
    return plain_strings(built.get_json()["response"]["_pages_content"])


def _beat(db: Any, worker: str) -> None:
    with db.write.begin() as s:
        heartbeats.beat(s, worker, "host-t", 1, "test", 1, utcnow())  # every second


def test_collectors_beating_on_the_primary_are_not_silent_on_a_lagging_replica(
    live: dict[str, Any],  # noqa: F811
) -> None:
    db = live["db"]
    admin = live["app"].server.test_client()
    assert sign_in(admin, "admin").status_code == 302
    _beat(db, "w-dead")  # beats once, then never again (killed)
    _beat(db, "w-live")  # beats on: the replica has its row, then only old beats of it
    _caught_up(db)
    _replay(db, paused=True)
    try:
        until = time.monotonic() + 4  # more than three of its 1 s intervals behind on the replica
        while time.monotonic() < until:
            _beat(db, "w-live")
            time.sleep(0.3)
        wall = _page(admin, "/wall")
        assert "COLLECTOR SILENT · w-dead" in wall  # the page still judges: a dead one is named
        assert "COLLECTOR SILENT · w-live" not in wall
        home = _page(admin, "/")
        states = {home[i]: next(w for w in home[i:] if w in ("alive", "silent", "stopped"))
                  for i, s in enumerate(home) if s in ("w-live", "w-dead")}
        assert states == {"w-live": "alive", "w-dead": "silent"}
    finally:
        _replay(db, paused=False)
        with db.write.begin() as s:
            heartbeats.forget(s, "w-dead")
            heartbeats.forget(s, "w-live")


def _claim(live: dict[str, Any], item: int) -> dict[str, Any]:  # noqa: F811
    inputs = [{"id": i, "property": "n_clicks", "value": 1 if i == "queue-claim" else None}
              for i in ("queue-claim", "queue-release", "queue-resolve", "queue-modal-confirm")]
    state = [{"id": "queue-grid", "property": "selectedRows", "value": [{"id": item}]},
             {"id": "queue-pending", "property": "data", "value": None},
             {"id": "queue-reroute-team", "property": "value", "value": None},
             {"id": "queue-reason", "property": "value", "value": None},
             {"id": "queue-state", "property": "data", "value": {"team": TEAM, "lsn": None}}]
    body = callback_payload(live["app"], "queue-alert.children", inputs, state)
    response = live["client"].post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return dict(json.loads(response.get_data(as_text=True))["response"])


def test_after_a_claim_the_agents_next_page_shows_it_while_the_replica_lags(
    live: dict[str, Any],  # noqa: F811
) -> None:
    db, settings, agent = live["db"], live["settings"], live["client"]
    _add(db, settings, range(500, 501))
    _caught_up(db)
    assert "You hold no item. Claim one from your queue." in _page(agent, "/")
    with db.read() as s:
        [item] = [r["id"] for r in queries.open_queue(s, TEAM) if r["text"].endswith("number 500")]
    _replay(db, paused=True)
    try:
        sent = _claim(live, item)
        assert sent["queue-alert"]["color"] == "success", sent
        held = _page(agent, "/")  # home_agent, read from db.pages: the replica has not the claim
        assert "You hold no item. Claim one from your queue." not in held
        assert any(s.endswith("number 500") for s in held)
        # the primary's position after the claim, in a cookie of its own that only a response to a
        # write sets: the page's later requests (which rewrite the session cookie) leave it alone
        cookie = agent.get_cookie("vigie_own_lsn")
        assert cookie is not None and cookie.value.isdigit()
        assert any(s.endswith("number 500") for s in _page(agent, "/"))
        assert agent.get_cookie("vigie_own_lsn").value == cookie.value
    finally:
        _replay(db, paused=False)
    _caught_up(db)
    assert any(s.endswith("number 500") for s in _page(agent, "/"))


def test_readyz_gives_up_on_a_replica_that_does_not_answer(live: dict[str, Any],  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The position query made slow (one patched point: its SQL sleeps 10 s): `/readyz`'s replica
    check answers within its statement timeout, the replica not usable."""
    slow = text("select pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn,"
                " pg_last_xact_replay_timestamp() from pg_sleep(10)")
    monkeypatch.setattr(replica, "_POSITION", slow)
    started = time.monotonic()
    checked = readiness(live["db"], utcnow())["replica"]
    assert time.monotonic() - started < 5  # (its statement timeout: 2 s, models.replica.READYZ_TIMEOUT_MS)
    assert checked == {"ok": False, "detail": "replica unreachable (OperationalError)"}
