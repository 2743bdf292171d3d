"""The daily summary's test days (tests/integration/test_summary*.py): the demo stream replayed over
90 hours ending `END` (2026-10-25 among them, 25 hours long in Paris), then items claimed, resolved
and dismissed at chosen times."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from config.settings import Settings
from models.db import Database
from tests.streams import replay_demo

ZONE = "Europe/Paris"
END = datetime(2026, 10, 27, 6, 0)  # naive UTC; the seeded days include 2026-10-25, 25 hours long in Paris
DAYS = [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)]


def as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def seed_days(db: Database, settings: Settings) -> Settings:
    """The settings in Paris time, the days seeded into ``db``."""
    settings = replace(settings, reporting=replace(settings.reporting, timezone=ZONE))
    replay_demo(db, settings, END, hours=90, rate_per_minute=1.2, seed=31, lag=timedelta(minutes=2))
    # Work done on the items, by their id: some claimed and resolved in time, some resolved late,
    # some claimed only, some dismissed by a person; the rest left open.
    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT id, created_at, due_at FROM queue_items WHERE status = 'new'")).all()
        for item_id, created, due in rows:
            created, due = as_datetime(created), as_datetime(due)
            if item_id % 3 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'resolved', claimed_at = :c, resolved_at = :r "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=item_id % 17 + 1),
                                                     "r": created + timedelta(minutes=item_id % 29 + 20), "i": item_id})
            elif item_id % 7 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'resolved', claimed_at = :c, resolved_at = :r "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=45),
                                                     "r": due + timedelta(hours=1), "i": item_id})
            elif item_id % 5 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'claimed', claimed_at = :c, assignee = 'a' "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=item_id % 13 + 2), "i": item_id})
            elif item_id % 11 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'dismissed', claimed_at = :c, resolved_at = :c "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=5), "i": item_id})
    return settings
