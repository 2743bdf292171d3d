"""Claim, resolve, reroute: atomic, audited, refused with a clear message when they can't be done."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from config.settings import Settings
from models import actions
from models.db import Database
from models.sla import SlaClock
from models.tables import AuditEvent, utcnow
from models.users import add_user
from tests.kit import claim_at_once, seed_items


def _item(db: Database, settings: Settings, text: str = "@AureliaBank my card got declined again") -> int:
    (item_id,) = seed_items(db, settings, [text])
    return item_id


def test_claim_then_resolve_writes_two_audit_events(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    with db.write.begin() as s:
        assert actions.claim(s, item_id, "alice").status == "claimed"
    with db.write.begin() as s:
        assert actions.resolve(s, item_id, "alice", "called the customer back").status == "resolved"
    with db.read() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action) for e in events] == [("alice", "claim"), ("alice", "resolve")]
    assert events[0].before["status"] == "new" and events[0].after == {
        **events[0].before, "status": "claimed", "assignee": "alice", "claimed_at": events[0].after["claimed_at"]}
    assert events[0].after["claimed_at"] is not None
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
    outcomes = claim_at_once(db, item_id, [f"agent{i}" for i in range(4)])
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(winners) == 1, outcomes
    winner = winners[0].removeprefix("won:")
    assert sorted(o for o in outcomes if not o.startswith("won:")) == [
        f"item {item_id} is already claimed by {winner}"] * 3
    with db.read() as s:
        assert len(s.scalars(select(AuditEvent)).all()) == 1


def test_reroute_needs_a_reason_and_resets_the_item(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    sla = SlaClock.from_settings(settings)
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


def test_lifecycle_release_dismiss_reopen_escalate(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    clock = SlaClock.from_settings(settings)
    with db.write.begin() as s:
        actions.claim(s, item_id, "alice")
    with db.write.begin() as s:
        item = actions.release(s, item_id, "alice")
        assert (item.status, item.assignee) == ("new", None) and item.claimed_at is not None  # first response kept
    with pytest.raises(actions.ActionError, match="only a claimed item can be released"):
        with db.write.begin() as s:
            actions.release(s, item_id, "alice")
    with pytest.raises(actions.ActionError, match="a reason is required to escalate"):
        with db.write.begin() as s:
            actions.escalate(s, item_id, "alice", "")
    with db.write.begin() as s:
        assert actions.escalate(s, item_id, "alice", "journalist asking").escalated_at is not None
    with pytest.raises(actions.ActionError, match="already escalated"):
        with db.write.begin() as s:
            actions.escalate(s, item_id, "bob", "again")
    with db.write.begin() as s:
        assert actions.dismiss(s, item_id, "alice", "spam").status == "dismissed"
    with pytest.raises(actions.ActionError, match="a reason is required to reopen"):
        with db.write.begin() as s:
            actions.reopen(s, item_id, "bob", " ", clock)
    with db.write.begin() as s:
        item = actions.reopen(s, item_id, "bob", "customer wrote again", clock)
        assert (item.status, item.resolved_at, item.escalated_at) == ("new", None, None)
        assert item.due_at > utcnow()  # the SLA starts again
    with db.read() as s:
        trail = [(e.action, e.before["status"], e.after["status"]) for e in actions.history(s, item_id)]
    assert trail == [("claim", "new", "claimed"), ("release", "claimed", "new"), ("escalate", "new", "new"),
                     ("dismiss", "new", "dismissed"), ("reopen", "dismissed", "new")]


def test_assign_only_to_an_active_member_of_the_items_team(db: Database, settings: Settings) -> None:
    item_id = _item(db, settings)
    with db.write.begin() as s:
        add_user(s, "carol", "agent", ["customer_service"], None, settings.team_keys)
        add_user(s, "dan", "agent", ["legal"], None, settings.team_keys)
        add_user(s, "erin", "manager", [], None, settings.team_keys)
    for who, message in (("dan", "dan does not work for team customer_service"),
                         ("erin", "erin does not work for team customer_service"),
                         ("nobody", "no active user called 'nobody'")):
        with pytest.raises(actions.ActionError, match=message):
            with db.write.begin() as s:
                actions.assign(s, item_id, "lead", who)
    with db.write.begin() as s:
        item = actions.assign(s, item_id, "lead", "carol")
        assert (item.status, item.assignee) == ("claimed", "carol")
