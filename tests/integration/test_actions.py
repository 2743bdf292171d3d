"""Claim, resolve, reroute: atomic, audited, refused with a clear message when they can't be done."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from collectors.pipeline import Enricher
from collectors.runner import sync_sources
from collectors.store import store_batch
from collectors.types import RawPost
from config.settings import Settings
from models import actions
from models.db import Database
from models.tables import AuditEvent, QueueItem, SourceRow, utcnow


def _item(db: Database, settings: Settings, text: str = "@AureliaBank my card got declined again") -> int:
    sync_sources(db, settings)
    with db.write.begin() as s:
        sid = s.scalars(select(SourceRow.id).where(SourceRow.name == "demo")).one()
        post = RawPost("p1", "x", text, datetime.now(UTC), None, "@a", "A", 10)
        store_batch(s, sid, [Enricher(settings).enrich(post, utcnow())], None)
    with db.read() as s:
        return int(s.scalars(select(QueueItem.id)).one())


def test_claim_then_resolve_writes_two_audit_events(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    with db.write.begin() as s:
        assert actions.claim(s, item_id, "alice").status == "claimed"
    with db.write.begin() as s:
        assert actions.resolve(s, item_id, "alice", "called the customer back").status == "resolved"
    with db.read() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action) for e in events] == [("alice", "claim"), ("alice", "resolve")]
    assert events[0].before["status"] == "new" and events[0].after == {**events[0].before, "status": "claimed",
                                                                        "assignee": "alice"}
    assert events[1].after["status"] == "resolved" and events[1].reason == "called the customer back"


def test_second_claim_is_told_who_has_it(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    with db.write.begin() as s:
        actions.claim(s, item_id, "alice")
    with pytest.raises(actions.ActionError, match=f"item {item_id} is already claimed by alice"):
        with db.write.begin() as s:
            actions.claim(s, item_id, "bob")


def test_concurrent_claims_have_exactly_one_winner(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def agent(name: str) -> None:
        barrier.wait()
        try:
            with db.write.begin() as s:
                actions.claim(s, item_id, name)
            outcomes.append(f"won:{name}")
        except actions.ActionError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=agent, args=(f"agent{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(winners) == 1, outcomes
    winner = winners[0].removeprefix("won:")
    assert sorted(o for o in outcomes if not o.startswith("won:")) == [
        f"item {item_id} is already claimed by {winner}"] * 3
    with db.read() as s:
        assert len(s.scalars(select(AuditEvent)).all()) == 1


def test_reroute_needs_a_reason_and_resets_the_item(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    sla = {t.key: t.sla_minutes for t in settings.teams}
    with pytest.raises(actions.ActionError, match="a reason is required"):
        with db.write.begin() as s:
            actions.reroute(s, item_id, "lead", "legal", "   ", sla)
    with pytest.raises(actions.ActionError, match="unknown team 'sales'"):
        with db.write.begin() as s:
            actions.reroute(s, item_id, "lead", "sales", "why not", sla)
    with db.write.begin() as s:
        actions.claim(s, item_id, "alice")
    with db.write.begin() as s:
        item = actions.reroute(s, item_id, "lead", "legal", "customer mentions a lawsuit in a reply", sla)
        assert (item.team, item.status, item.assignee) == ("legal", "new", None)
    with db.read() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None
    assert (last.action, last.before["team"], last.after["team"]) == ("reroute", "customer_service", "legal")
    assert last.reason == "customer mentions a lawsuit in a reply"


def test_resolved_items_cannot_be_claimed_or_resolved_again(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    with db.write.begin() as s:
        actions.resolve(s, item_id, "alice")
    with pytest.raises(actions.ActionError, match="is resolved, not new"):
        with db.write.begin() as s:
            actions.claim(s, item_id, "bob")
    with pytest.raises(actions.ActionError, match="only new or claimed items can be resolved"):
        with db.write.begin() as s:
            actions.resolve(s, item_id, "bob")
    with pytest.raises(actions.ActionError, match="an actor name is required"):
        with db.write.begin() as s:
            actions.claim(s, item_id, " ")
