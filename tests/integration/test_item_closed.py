"""A closed item's page says when it was closed and whether within its deadline, not a live
countdown ("overdue by 1 min" for an item resolved twelve minutes early, once the deadline had
passed), and an escalation it had is history, not a red alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from config.settings import Settings
from models import actions
from models.db import Database
from models.tables import QueueItem, utcnow
from tests.access import client_for, rendered
from tests.kit import seed_items
from tests.web import make_accounts, plain_strings


def _page_text(web: Any, db: Database, mention_id: int) -> str:
    import json

    body = json.loads(rendered(client_for(web, db, "agent"), f"/mention/{mention_id}"))
    return " ".join(plain_strings(body["response"]["_pages_content"]["children"]))


def test_a_closed_items_deadline_reads_as_kept_or_missed(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    early, late, escalated = seed_items(db, settings, ["@AureliaBank my card is blocked",
                                                       "@AureliaBank my card is still blocked",
                                                       "@AureliaBank card blocked, third time"], prefix="cl")
    now = utcnow()
    with db.write.begin() as s:
        for item_id in (early, late, escalated):
            actions.claim(s, item_id, "agent")
        actions.escalate(s, escalated, "agent", reason="card fraud suspected")
    with db.write.begin() as s:
        for item_id in (early, late, escalated):
            actions.resolve(s, item_id, "agent", note="answered")
    with db.write.begin() as s:  # deadlines: passed 1 min ago, closed 12 min before it; or 25 min after it
        s.execute(update(QueueItem).where(QueueItem.id.in_((early, escalated)))
                  .values(due_at=now - timedelta(minutes=1), resolved_at=now - timedelta(minutes=13)))
        s.execute(update(QueueItem).where(QueueItem.id == late)
                  .values(due_at=now - timedelta(minutes=40), resolved_at=now - timedelta(minutes=15)))
        mentions = {i: s.get(QueueItem, i).mention_id for i in (early, late, escalated)}  # type: ignore[union-attr]
    text = _page_text(web, db, mentions[early])
    assert f" · item {early}" in text  # the number the queue, the messages and the audit trail use
    assert "Closed" in text and "(within its deadline)" in text, text
    assert "overdue" not in text and "Due:" not in text
    text = _page_text(web, db, mentions[late])
    assert "(25 min after its deadline)" in text, text
    text = _page_text(web, db, mentions[escalated])
    assert "It was escalated to the lead: card fraud suspected" in text and "(within its deadline)" in text
    assert "Escalated to the lead:" not in text
