"""An item's audit trail includes the replies written on it: their events name the reply
("reply:<id>") and carry its state, so they stay out of the item's chain, but a compliance officer
asking for an item's trail (the /audit page, its CSV and JSONL exports, `vigie audit export
--item`) gets them, with the item they were written on."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from config.settings import Settings
from models import actions, replies
from models.audit import check_chain, iter_events
from models.audit_log import of_item
from models.db import Database
from models.queries import newest_audit_events
from models.tables import AuditEvent, QueueItem
from tests.kit import seed_items
from tests.web import dash_post, make_accounts, plain_strings, sign_in
from vigie.cli_audit import audit


def _replied(db: Database, settings: Settings) -> tuple[int, int, int]:
    """Two items, the first claimed, a reply composed and approved on it, another composed on the second:
    (first item, its reply, the other item)."""
    first, other = seed_items(db, settings, ["@AureliaBank my card is blocked, please help",
                                             "@AureliaBank still no answer about my card"], prefix="ar")
    rules = replies.compile_rules(settings)
    made = []
    with db.write.begin() as s:
        actions.claim(s, first, "agent")  # an event of the item's own
    with db.write.begin() as s:
        for item_id in (first, other):
            item = s.get(QueueItem, item_id)
            assert item is not None
            target = replies.Target("reply", "x", "demo", item.team, None, "en", item.id, item.mention_id)
            made.append(replies.compose(s, rules, "agent", target, f"We are on it (item {item_id})."))
    with db.write.begin() as s:
        reply = made[0]
        if reply.status == "pending":
            replies.approve(s, reply.id, "compliance")
    return first, made[0].id, other


def test_an_items_trail_holds_its_replies_events_and_its_chain_stays_whole(db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    first, reply_id, other = _replied(db, settings)
    with db.read() as s:
        own = [e.action for e in iter_events(s, item_id=first)]
        whole = list(iter_events(s, item_id=first, replies=True))
        newest = newest_audit_events(s, item_id=first)
        assert check_chain(s, first) == []  # the reply's events are not links of the item's chain
    subjects = {e.subject for e in whole if e.action.startswith("reply.")}
    assert subjects == {f"reply:{reply_id}"}, subjects  # the other item's reply is not there
    assert own == ["claim"]
    assert {e.id for e in newest} == {e.id for e in whole}
    assert [e.id for e in whole] == sorted(e.id for e in whole)
    with db.read() as s:
        assert not any(e.subject == f"reply:{reply_id}" for e in iter_events(s, item_id=other, replies=True))


def _export(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(audit, ["export", *args], env={"DATABASE_URL": settings.database_url},
                              catch_exceptions=False)


def test_the_cli_export_of_an_item_lists_its_replies_with_their_subject(db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    first, reply_id, _other = _replied(db, settings)
    result = _export(settings, "--format", "csv", "--item", str(first))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output.lstrip("\ufeff"))))
    replied = [r for r in rows if r["action"].startswith("reply.")]
    assert replied and {r["subject"] for r in replied} == {f"reply:{reply_id}"}
    assert all(r["item"] == "" for r in replied) and any(r["item"] == str(first) for r in rows)
    result = _export(settings, "--format", "jsonl", "--item", str(first))
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert {line["subject"] for line in lines if line["action"].startswith("reply.")} == {f"reply:{reply_id}"}


def test_the_audit_page_shows_a_replys_event_with_its_item(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    first, reply_id, _other = _replied(db, settings)
    client = web.server.test_client()
    assert sign_in(client, "compliance").status_code == 302
    key = next(k for k in web.callback_map if k.startswith("..audit-links.children"))
    inputs = [{"id": f"audit-{name}", "property": "value", "value": value}
              for name, value in (("since", None), ("until", None), ("item", first), ("actor", None))]
    response = dash_post(client, key, inputs)
    assert response.status_code == 200, response.data[:300]
    texts = plain_strings(response.get_json()["response"]["audit-table"]["children"])
    assert f"{first} (reply {reply_id})" in texts, texts
    assert str(first) in texts  # the item's own events
    csv_text = client.get(f"/audit/export.csv?item={first}").get_data(as_text=True)
    assert f"reply:{reply_id}" in csv_text and csv_text.splitlines()[0].lstrip("\ufeff").endswith(",subject")


def _read_rows(plan: dict[str, Any]) -> int:
    """Rows the plan's nodes read and threw away, over the whole tree (EXPLAIN ANALYZE's JSON)."""
    return int(plan.get("Rows Removed by Filter", 0)) + sum(_read_rows(p) for p in plan.get("Plans", []))


def test_an_items_trail_is_read_by_index_among_many_events(db: Database, settings: Settings) -> None:
    """On PostgreSQL, the item's events OR its replies' events combine two indexes; a subquery in the
    OR made it walk the whole table from the newest event (199,993 of 200,000 rows thrown away)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan of PostgreSQL")
    make_accounts(db, settings)
    first, _reply_id, _other = _replied(db, settings)
    with db.engine.begin() as conn:  # 60,000 events of other replies, newer than the item's
        conn.execute(text("INSERT INTO audit_events (at, actor, action, queue_item_id, before, after, subject) "
                          "SELECT now(), 'x', 'reply.sent', NULL, '{}', '{}', 'reply:' || (100000 + g) "
                          "FROM generate_series(1, 60000) AS g"))
        conn.execute(text("ANALYZE audit_events"))
    with db.read() as s:
        statement = select(AuditEvent).where(of_item(s, first)).order_by(AuditEvent.id.desc()).limit(100)
        compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        (plan,), = s.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}")).one()
        assert len(newest_audit_events(s, item_id=first)) == len(list(iter_events(s, item_id=first, replies=True)))
    assert _read_rows(plan["Plan"]) < 100, json.dumps(plan)[:3000]
