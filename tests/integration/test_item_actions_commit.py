"""A bulk item action whose commit fails (dashboard/components/item_actions.py): the item is reported
failed, not done, and the others are done."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from config.settings import Settings
from dashboard.auth.policy import Principal
from dashboard.components.item_actions import perform
from dashboard.context import AppContext
from models.db import Database
from models.tables import QueueItem
from tests.kit import seed_items


def test_an_item_whose_commit_fails_is_reported_failed_not_done(db: Database, settings: Settings) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs a check PostgreSQL runs at commit (a deferred constraint trigger)")
    first, refused, last = seed_items(db, settings, ["one", "two", "three"])
    # A real check the database runs only when the transaction commits, refusing any change to one item.
    with db.engine.begin() as conn:
        conn.execute(text("CREATE OR REPLACE FUNCTION vigie_test_refuse() RETURNS trigger AS $$ "
                          "BEGIN RAISE EXCEPTION 'refused at commit'; END $$ LANGUAGE plpgsql"))
        conn.execute(text("CREATE CONSTRAINT TRIGGER vigie_test_refuse AFTER UPDATE ON queue_items "
                          "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                          f"WHEN (NEW.id = {refused}) EXECUTE FUNCTION vigie_test_refuse()"))
    outcome = perform(AppContext(settings=settings, db=db), Principal("boss", "admin"), "claim",
                      [first, refused, last])
    assert [d["id"] for d in outcome.done] == [first, last]
    assert outcome.errors == [f"item {refused} could not be changed (error logged)."]
    with db.read() as s:
        assert s.get(QueueItem, refused).assignee is None  # type: ignore[union-attr]  # rolled back
        assert s.get(QueueItem, first).assignee == "boss"  # type: ignore[union-attr]
