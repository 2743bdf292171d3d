"""The load test's users speak Dash's protocol from `/_dash-dependencies` alone (benchmarks/load/
dash_protocol.py): the bodies they build are answered by the real app as a browser's are."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from benchmarks.load import dash_protocol as dp
from collectors.types import RawPost
from config.settings import Settings
from models.db import Database
from models.library_file import seed_demo_library
from models.users import create_kiosk_token
from tests.kit import store_posts
from tests.web import make_accounts, sign_in


def _post(client: Any, deps: list[dict[str, Any]], output: str, trigger: str, values: dict[str, Any]) -> Any:
    payload = dp.body(dp.find(deps, output, trigger), trigger, values)
    answer = client.post("/_dash-update-component", data=dp.dumps(payload), content_type="application/json")
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:500]
    return answer.get_json() if answer.status_code == 200 else None


def test_an_agents_round_through_the_dependencies(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    with db.write.begin() as session:
        seed_demo_library(session, settings.team_keys)
    store_posts(db, settings, [RawPost(f"load{n}", "x", f"@AureliaBank my card got declined again, {n}",
                                       datetime.now(UTC)) for n in range(3)])
    client = web.server.test_client()
    assert sign_in(client, "agent").status_code == 302
    deps = json.loads(client.get("/_dash-dependencies").get_data(as_text=True))

    page = dp.response_value(_post(client, deps, "_pages_content.children", "_pages_location.pathname",
                                   {"_pages_location.pathname": "/queue/customer_service",
                                    "_pages_location.search": ""}), "_pages_content", "children")
    state = dp.prop_of(page, "queue-state", "data")
    rows = dp.prop_of(page, "queue-grid", "rowData")
    assert state["team"] == "customer_service" and len(rows) == 3

    _post(client, deps, "queue-state.data", "queue-tick.n_intervals",
          {"queue-tick.n_intervals": 1, "queue-state.data": state})
    claimed = _post(client, deps, "queue-alert.children", "queue-claim.n_clicks",
                    {"queue-claim.n_clicks": 1, "queue-grid.selectedRows": [rows[0]], "queue-state.data": state})
    assert dp.response_value(claimed, "queue-alert", "color") == "success"
    item_page = dp.response_value(_post(client, deps, "_pages_content.children", "_pages_location.pathname",
                                        {"_pages_location.pathname": f"/mention/{rows[0]['mention_id']}",
                                         "_pages_location.search": ""}), "_pages_content", "children")
    _post(client, deps, "mention-item.data", "mention-tick.n_intervals",
          {"mention-tick.n_intervals": 1, "mention-item.data": dp.prop_of(item_page, "mention-item", "data")})
    # the reply panel: the first suggested template, loaded with its placeholders (pattern-matching
    # inputs, sent back as lists), then Send: an approved template as it is goes out at once
    compose = dp.prop_of(item_page, "compose-item", "data")
    version = dp.prop_of(item_page, "compose-template", "options")[0]["value"]
    chosen = _post(client, deps, "compose-text.value", "compose-template.value",
                   {"compose-template.value": version, "compose-item.data": compose})
    inputs = dp.with_type(dp.response_value(chosen, "compose-values", "children"), "compose-value")
    dp.fill_blanks(inputs, random.Random(1))  # what the agent types in the empty ones (case_ref...)
    assert inputs and all(i["props"]["value"] for i in inputs)
    sent = _post(client, deps, "compose-alert.children", "compose-send.n_clicks",
                 {"compose-send.n_clicks": 1, "compose-text.value": dp.response_value(chosen, "compose-text", "value"),
                  "compose-template.value": version, "compose-resolve.value": False, "compose-item.data": compose,
                  "compose-value[ALL].value": dp.matched(inputs, "value"),
                  "compose-value[ALL].id": dp.matched(inputs, "id")})
    assert dp.response_value(sent, "compose-alert", "color") == "success", sent
    resolved = _post(client, deps, "queue-alert.children", "queue-resolve.n_clicks",
                     {"queue-resolve.n_clicks": 1, "queue-grid.selectedRows": [rows[0]], "queue-state.data": state})
    assert dp.response_value(resolved, "queue-alert", "color") == "success"


def test_a_wall_screen_through_its_kiosk_link(web: Any, db: Database, settings: Settings) -> None:
    with db.write.begin() as session:
        token = create_kiosk_token(session, "load-wall-1", actor="test")
    screen = web.server.test_client()
    assert screen.get(f"/wall?kiosk={token}").status_code == 200
    deps = json.loads(screen.get("/_dash-dependencies").get_data(as_text=True))
    page = dp.response_value(_post(screen, deps, "_pages_content.children", "_pages_location.pathname",
                                   {"_pages_location.pathname": "/wall", "_pages_location.search": ""}),
                             "_pages_content", "children")
    markers = {"wall-marker.data": dp.prop_of(page, "wall-marker", "data"),
               "wall-slow-marker.data": dp.prop_of(page, "wall-slow-marker", "data")}
    assert all(markers.values())
    # a tick carrying the page's markers is answered (the live marker also moves with the clock, so
    # whether it finds something new is not asserted); with stale markers it sends the panels again
    tick = {"wall-tick.n_intervals": 1, "wall-scale.data": 1.0}
    _post(screen, deps, "wall-marker.data", "wall-tick.n_intervals", {**tick, **markers})
    fresh = _post(screen, deps, "wall-marker.data", "wall-tick.n_intervals",
                  {**tick, "wall-marker.data": "stale", "wall-slow-marker.data": "stale"})
    assert dp.response_value(fresh, "wall-marker", "data") and dp.response_value(fresh, "wall-kpis", "children")
