"""The wall's data: the change marker that makes the screens recompute their live panels, and its figures."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

import dash
from sqlalchemy import update

from config.settings import Settings
from models.db import Database
from models.kpis import first_responses
from models.tables import Alert, Mention, QueueItem
from tests.streams import inject


def _wall_module() -> Any:  # as Dash Pages imported it (named after its path)
    return sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == "/wall")]


def test_the_live_marker_moves_when_an_alert_closes_and_with_the_clock(web: Any, db: Database) -> None:
    wall = _wall_module()
    now = datetime(2026, 11, 25, 12, 0, 1)
    with db.write.begin() as s:
        alert = Alert(kind="volume_surge", scope="all", scope_key="", opened_at=now - timedelta(minutes=5),
                      last_seen_at=now - timedelta(minutes=1), window_minutes=10, observed=50, expected=10, z=9,
                      peak_observed=50, mentions_in_window=50, summary="Volume surge · all mentions", mention_ids=[])
        s.add(alert)
    with web.server.app_context():
        def live(at: datetime) -> str:
            with db.read() as s:
                return str(wall._markers(s, at)[0])

        before = live(now)
        assert live(now + timedelta(seconds=2)) == before  # same clock slot, nothing changed: nothing to send
        with db.write.begin() as s:  # closed after its quiet minutes: nothing else moves
            s.get(Alert, alert.id).closed_at = now
        assert live(now) != before
        closed = live(now)
        # time alone (an item falling due, a source's wait ending) moves it within CLOCK_SECONDS
        assert live(now + timedelta(seconds=wall.CLOCK_SECONDS)) != closed


def test_first_responses_of_a_busy_day_are_the_newest(db: Database, settings: Settings) -> None:
    start = datetime(2026, 11, 25, 8, 0)
    ids = inject(db, settings, [f"Aurelia Bank card blocked, case {i}" for i in range(5)], start, 300)
    with db.write.begin() as s:
        for i, external_id in enumerate(ids):  # claimed 10, 20 … 50 minutes after queueing, one per hour
            mention = s.query(Mention.id).filter(Mention.external_id == external_id).scalar_subquery()
            s.execute(update(QueueItem).where(QueueItem.mention_id == mention).values(
                created_at=start + timedelta(hours=i), claimed_at=start + timedelta(hours=i, minutes=10 * (i + 1))))
    with db.read() as s:
        every = first_responses(s, start, start + timedelta(days=1))
        newest = first_responses(s, start, start + timedelta(days=1), limit=2)
    assert sorted(m for _, m in every) == [10, 20, 30, 40, 50]
    assert sorted(m for _, m in newest) == [40, 50]  # past the sample's size, the latest claims count

