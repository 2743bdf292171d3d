"""What live pages read: keyset paging of changes, and the queue tick through Dash's real endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from collectors.runner import sync_sources
from collectors.store import Lease, LeaseLost
from collectors.types import RawPost
from config.settings import Settings
from models import actions, queries
from models.db import Database, open_database
from models.migrate import upgrade
from models.tables import Mention, QueueItem, SourceRow
from tests.kit import store_posts
from vigie.bench_dashboard import callback_payload

COMPLAINT = "@AureliaBank my card got declined again, number {n}"


def _add(db: Database, settings: Settings, count: int, start: int = 0, per_batch: int = 200) -> None:
    for first in range(start, start + count, per_batch):
        posts = [RawPost(f"p{n}", "x", COMPLAINT.format(n=n), datetime.now(UTC))
                 for n in range(first, min(start + count, first + per_batch))]
        store_posts(db, settings, posts)


def test_changes_are_paged_without_getting_stuck(db: Database, settings: Settings) -> None:
    start = ("2000-01-01T00:00:00", 0)
    _add(db, settings, 1200, per_batch=600)  # 600 rows share each timestamp
    seen: list[int] = []
    key = start
    for _ in range(10):
        with db.read() as s:
            page = queries.changes_after(s, key, limit=250)
        if not page:
            break
        seen.extend(r["id"] for r in page)
        key = (page[-1]["updated_at"], page[-1]["id"])
    assert len(seen) == 1200 and len(set(seen)) == 1200
    with db.read() as s:
        assert queries.newest_change(s) == key
        assert queries.changes_after(s, key) == []


def test_a_copy_stored_after_a_claim_keeps_the_claims_stamp_and_the_page_sees_it(
        db: Database, settings: Settings) -> None:
    """A batch stamped before an agent's claim but writing after it adds a copy to the claimed
    item: its change time stays the claim's (never moved back behind it), and the live queue's
    tick, positioned at the claim, reads the new copy count in its recheck of the seconds behind."""
    text = "Aurelia Bank froze my savings account without any notice and nobody answers the phone"
    store_posts(db, settings, [RawPost("x1", "x", text, datetime.now(UTC), None, "@zoe", "Zoe", 50)])
    # On PostgreSQL a batch reads its clock when its transaction starts; a claim stamped after that
    # and committed first (the batch then waits for the row's lock) is later than the batch's stamp:
    # the claim here is stamped 30 s ahead of the batch that follows.
    with db.write.begin() as s:
        item_id = s.scalars(select(QueueItem.id)).one()
        claimed_at = actions.claim(s, item_id, "alice", at=datetime.now(UTC).replace(tzinfo=None)
                                   + timedelta(seconds=30)).updated_at
    with db.read() as s:  # the page, after the claim: positioned at it
        key = queries.newest_change(s)
    assert key == (claimed_at.isoformat(), item_id)
    store_posts(db, settings, [RawPost("m1", "mastodon", text, datetime.now(UTC), None, "zoe@social.example",
                                       "Zoe", 50)])
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None and item.copy_count == 1
        assert item.updated_at == claimed_at  # not moved back to the batch's start
        at = datetime.fromisoformat(key[0])
        overlap = timedelta(seconds=5)  # the queue page's OVERLAP (dashboard/pages/queue.py)
        seen = queries.changes_after(s, key) + queries.changes_between(s, at - overlap, at)
    assert [(r["id"], r["copies"], r["status"]) for r in seen] == [(item_id, 1, "claimed")]


def test_lost_lease_stores_nothing(db: Database, settings: Settings) -> None:
    sync_sources(db, settings)
    with db.write.begin() as s:
        row = s.scalars(select(SourceRow).where(SourceRow.name == "demo")).one()
        row.lease_owner, row.cursor = "collector-b", "b-cursor"
        sid = row.id
    post = RawPost("x1", "x", "Aurelia Bank fees again", datetime.now(UTC))
    with pytest.raises(LeaseLost, match="another collector took it over"):
        store_posts(db, settings, [post], cursor="a-cursor", lease=Lease("collector-a", timedelta(seconds=60)))
    with db.read() as s:
        assert s.scalars(select(Mention)).all() == []
        assert s.scalar(select(SourceRow.cursor).where(SourceRow.id == sid)) == "b-cursor"


@pytest.fixture
def live(web_app: Any, tmp_path: Path, base_settings: Settings) -> Iterator[dict[str, Any]]:
    """The shared app (Dash registers page callbacks globally) on this test's database, signed
    in as an agent of customer service."""
    from dashboard.context import AppContext
    from tests.conftest import web_settings
    from tests.web import make_accounts, sign_in

    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    db = open_database(url)
    upgrade(db.engine)
    settings = replace(base_settings, database_url=url)
    before = web_app.server.extensions["vigie"]
    web_app.server.extensions["vigie"] = AppContext(settings=web_settings(settings), db=db)
    make_accounts(db, settings)
    client = web_app.server.test_client()
    assert sign_in(client, "agent").status_code == 302
    assert client.get("/").status_code == 200
    yield {"app": web_app, "client": client, "db": db, "settings": settings}
    web_app.server.extensions["vigie"] = before
    db.engine.dispose()


def _tick(live: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    app, client = live["app"], live["client"]
    body = callback_payload(app, "queue-state.data", [{"id": "queue-tick", "property": "n_intervals", "value": 1}],
                            [{"id": "queue-state", "property": "data", "value": state}])
    response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    if response.status_code == 204:
        return {}
    assert response.status_code == 200, response.get_data(as_text=True)
    sent = json.loads(response.get_data(as_text=True))["response"]
    if not sent:
        return {}
    return {**sent.get("queue-grid", {}), "state": sent["queue-state"]["data"]}


def test_queue_tick_adds_updates_removes_and_survives_a_burst(live: dict[str, Any], tmp_path: Path) -> None:
    db, settings, team = live["db"], live["settings"], "customer_service"
    with db.read() as s:
        key = queries.newest_change(s)
    state = {"team": team, "key": list(key), "known": [], "floor": key[0]}
    assert _tick(live, state) == {}  # nothing changed: 204, nothing sent

    _add(db, settings, 3)
    out = _tick(live, state)
    assert [r["text"] for r in out["rowTransaction"]["add"]] == [COMPLAINT.format(n=n) for n in range(3)]
    state = out["state"]
    assert len(state["known"]) == 3

    with db.read() as s:
        first = s.scalars(select(QueueItem.id).order_by(QueueItem.id)).first()
    with db.write.begin() as s:
        actions.claim(s, first, "alice")
    out = _tick(live, state)
    assert [(r["id"], r["status"], r["assignee"]) for r in out["rowTransaction"]["update"]
            if r["id"] == first] == [(first, "claimed", "alice")]
    state = out["state"]
    with db.write.begin() as s:
        actions.resolve(s, first, "alice")
    out = _tick(live, state)
    assert out["rowTransaction"]["remove"] == [{"id": first}]
    state = out["state"]
    assert first not in state["known"]

    _add(db, settings, 1500, start=100, per_batch=750)  # a burst bigger than a page
    out = _tick(live, state)
    assert "rowTransaction" not in out and len(out["rowData"]) == queries.QUEUE_LIMIT
    assert out["rowData"][0]["priority"] in ("critical", "high")
    state = out["state"]
    _add(db, settings, 2, start=5000)
    out = _tick(live, state)
    assert {r["text"] for r in out["rowTransaction"]["add"]} == {COMPLAINT.format(n=n) for n in (5000, 5001)}
