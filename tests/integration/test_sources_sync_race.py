"""Collectors started together on a new PostgreSQL database race to add the source rows
(`collectors.runner.sync_sources`): the loser must read them and start, not die on the unique name."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from collectors.runner import sync_sources
from config.settings import Settings
from models.db import Database
from models.tables import SourceRow


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_collector_losing_the_race_to_add_source_rows_starts_anyway(db: Database, settings: Settings) -> None:
    names = [cfg.name for cfg in settings.sources]
    assert names
    other = db.engine.connect()  # another collector, one step ahead: its rows added, not committed yet
    tx = other.begin()
    for cfg in settings.sources:
        other.execute(text("INSERT INTO sources (name, kind, consecutive_failures, items_last_run) "
                           "VALUES (:name, :kind, 0, 0)"), {"name": cfg.name, "kind": cfg.kind})
    errors: list[BaseException] = []

    def start() -> None:
        try:
            sync_sources(db, settings)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join(timeout=1.0)  # it waits on the other's uncommitted names
    assert thread.is_alive()
    tx.commit()
    other.close()
    thread.join(timeout=30)
    assert not errors, errors
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SourceRow)) == len(names)
