"""Ids from the browser, a URL or the command line that are no ids (10**30, -1, "abc", 1.5): a
clear "no such …" answer, never a 500 nor a database error, and a bulk action that does the valid
items once and reports the others. Through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from config.settings import Settings
from models.db import Database
from models.tables import AuditEvent, QueueItem
from tests.kit import config_dir, seed_items, vigie_env
from tests.support import VIGIE
from tests.web import dash_post, make_accounts, plain_strings, sign_in, spec_inputs

ROUTER = ".._pages_content.children..._pages_store.data.."
HUGE = 10**30
TEXTS = ["@AureliaBank my card got declined again at the shop", "@AureliaBank my card was blocked at the ATM, help",
         "@AureliaBank I was charged twice for my card fee"]  # all three routed to customer service


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _status(db: Database) -> dict[int, tuple[str, int]]:
    """Each item's status and how many audit events it has."""
    with db.read() as s:
        counted = select(AuditEvent.queue_item_id, func.count()).group_by(AuditEvent.queue_item_id)
        events = {item_id: int(n) for item_id, n in s.execute(counted)}
        return {i.id: (i.status, events.get(i.id, 0)) for i in s.scalars(select(QueueItem))}


def test_a_bulk_action_does_the_valid_items_once_and_reports_the_others(web: Any, db: Database,
                                                                       settings: Settings) -> None:
    make_accounts(db, settings)
    first, second, untouched = seed_items(db, settings, TEXTS, prefix="ids-")
    before = _status(db)
    bulk = next(k for k in web.callback_map if k.startswith("..triage-alert.children"))
    entry = web.callback_map[bulk]
    selected = [{"id": first}, {"id": HUGE}, {"id": -1}, {"id": "abc"}, {"id": 1.5}, {"id": second}, {"id": first},
                {"id": str(second)}, {"id": True}, {"id": 2**40}]  # 2**40: beyond PostgreSQL's INTEGER
    values = {"triage-grid.selectedRows": selected, "triage-reason.value": "answered by phone"}
    response = dash_post(_client(web, "lead"), bulk, spec_inputs(entry["inputs"], values),
                         spec_inputs(entry["state"], values), changed="triage-resolve.n_clicks")
    assert response.status_code == 200, response.data[:300]
    alert = response.get_json()["response"]["triage-alert"]
    assert alert["color"] == "warning"
    assert alert["children"] == ("Resolved 2 items. no such item: 100000000000000000000.... no such item: -1. "
                                 "no such item: 'abc'. no such item: 1.5. no such item: True. (+1 more)")
    after = _status(db)
    assert after[first] == ("resolved", before[first][1] + 1) and after[second] == ("resolved", before[second][1] + 1)
    assert after[untouched] == before[untouched]  # 1.5 is not item 1, True is not item 1


def test_pages_callbacks_and_routes_answer_no_such_item(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    seed_items(db, settings, TEXTS[:1], prefix="ids-")
    before = _status(db)
    agent, compliance = _client(web, "agent"), _client(web, "compliance")
    for bad in (str(HUGE), str(2**40), "-1", "abc", "1.5"):  # /mention/<id>
        page = dash_post(agent, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": f"/mention/{bad}"},
                                         {"id": "_pages_location", "property": "search", "value": ""}])
        assert page.status_code == 200, (bad, page.data[:300])
        shown = plain_strings(page.get_json()["response"]["_pages_content"]["children"])
        assert any(t.startswith("No such mention: ") for t in shown) or f"Mention {bad} does not exist." in shown
    # the item page's tick with a forged item id: nothing read, nothing written
    tick = next(k for k in web.callback_map if k.startswith("..mention-presence.children"))
    for bad in (HUGE, 2**40, -1, "abc", 1.5):
        state = [{"id": "mention-item", "property": "data", "value": {"id": bad, "changed": ""}}]
        assert dash_post(agent, tick, [{"id": "mention-tick", "property": "n_intervals", "value": 1}], state
                         ).status_code == 204
    # a reply id in a button's pattern id (approvals)
    key = next(k for k in web.callback_map if k.startswith("..approvals-marker.data"))
    for bad in (HUGE, 2**40, -1, "abc", 1.5):
        button = {"type": "approvals-approve", "reply": bad}
        inputs = [{"id": "approvals-tick", "property": "n_intervals", "value": None},
                  [{"id": button, "property": "n_clicks", "value": 1}],
                  [{"id": {**button, "type": "approvals-reject"}, "property": "n_clicks", "value": None}]]
        state = [[{"id": {"type": "approvals-reason", "reply": bad}, "property": "value", "value": None}],
                 [{"id": {"type": "approvals-sha", "reply": bad}, "property": "data", "value": "x"}],
                 {"id": "approvals-marker", "property": "data", "value": ""}]
        answer = dash_post(compliance, key, inputs, state,
                           changed=json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks")
        assert answer.status_code == 200, (bad, answer.data[:300])
        assert answer.get_json()["response"]["approvals-alert"]["children"].startswith("no such reply: ")
    # the audit export's ?item=
    for bad in (str(HUGE), str(2**40), "-1", "abc", "1.5"):
        export = compliance.get(f"/audit/export.csv?item={bad}")
        assert export.status_code == 400 and b"item: no such item: " in export.data, (bad, export.data[:300])
    assert _status(db) == before


def test_command_line_ids_are_bounded(tmp_path: Path) -> None:
    env = vigie_env(tmp_path / "vigie.db", config=config_dir(tmp_path, "cfg"))
    for args in (["audit", "export", "--item", str(HUGE)], ["archive", "export", "--item", "-1", "--out", "x"],
                 ["archive", "hold", "release", str(2**40), "--reason", "r", "--actor", "a"],
                 ["archive", "hold", "place", "--matter", "m", "--reason", "r", "--actor", "a", "--item", "1.5"]):
        done = subprocess.run([VIGIE, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr[-500:])
        assert "no such " in done.stderr and "an id is a whole number from 1 to" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
