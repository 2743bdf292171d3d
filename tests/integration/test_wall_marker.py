"""The wall's change marker: what makes the screens recompute their live panels."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

import dash

from models.db import Database
from models.tables import Alert


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
