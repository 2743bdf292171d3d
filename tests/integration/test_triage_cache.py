"""The triage page's lists, read once per marker for all the lead screens of a worker with the
same teams (`dashboard.pages.triage._cache`), through Dash's real endpoint: a second lead's tick
on the same marker reads no list again, and a change shows on every lead's next tick."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from config.settings import Settings
from models import actions
from models.db import Database
from models.users import add_user
from tests.kit import seed_items
from tests.web import PASSWORD, make_accounts, sign_in
from vigie.bench_dashboard import callback_payload

TEXTS = ["@AureliaBank my card got declined again at the shop", "@AureliaBank my card was blocked at the ATM, help"]


@pytest.fixture()
def list_reads(db: Database) -> Iterator[list[str]]:
    """The statements that read the triage lists (their UNION ALL of bounded index walks)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "UNION ALL" in statement and " AS list" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def _tick(web: Any, client: Any, state: dict[str, Any]) -> dict[str, Any]:
    body = callback_payload(web, "triage-known.data", [{"id": "triage-tick", "property": "n_intervals", "value": 1}],
                            [{"id": "triage-known", "property": "data", "value": state}])
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.get_json()["response"]  # type: ignore[no-any-return]


def test_leads_of_one_team_share_a_read_and_see_a_change_on_the_next_tick(
        web: Any, db: Database, settings: Settings, list_reads: list[str]) -> None:
    make_accounts(db, settings)
    with db.write.begin() as s:
        add_user(s, "lead2", "lead", ["customer_service"], PASSWORD, settings.team_keys, actor="test")
    first, second = seed_items(db, settings, TEXTS, prefix="cache-")
    leads = []
    for name in ("lead", "lead2"):
        client = web.server.test_client()
        assert sign_in(client, name).status_code == 302
        leads.append(client)
    for _attempt in range(3):  # both ticks on one marker (it also moves every 5 seconds)
        one = _tick(web, leads[0], {"rows": {}, "load": ""})
        reads = len(list_reads)
        two = _tick(web, leads[1], {"rows": {}, "load": ""})
        if one["triage-known"]["data"]["marker"] == two["triage-known"]["data"]["marker"]:
            break
    assert one["triage-known"]["data"]["marker"] == two["triage-known"]["data"]["marker"]
    assert len(list_reads) == reads  # the second lead's tick, on the same marker, read no list again
    for answer in (one, two):
        added = {r["id"]: r for r in answer["triage-grid"]["rowTransaction"]["add"]}
        assert set(added) == {first, second} and added[first]["status"] == "new"
    assert one["triage-grid"]["rowTransaction"] == two["triage-grid"]["rowTransaction"]
    state, reads = two["triage-known"]["data"], len(list_reads)

    with db.write.begin() as s:
        actions.claim(s, first, "agent")
    for client in leads:  # the change, on each lead's next tick
        answer = _tick(web, client, state)
        # claimed, it is no longer unassigned: it leaves the lists, and shows in the agent's workload
        assert answer["triage-grid"]["rowTransaction"]["remove"] == [{"id": first}]
        workload = str(answer["triage-workload-box"]["children"])
        assert "'agent'" in workload
    assert len(list_reads) > reads  # read again for the new marker
