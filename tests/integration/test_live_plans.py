"""The plans of the live ticks on PostgreSQL: no live callback reads `mentions` or `queue_items`
by a sequential scan, nor reads thousands of their rows from the table.

A PostgreSQL database is filled in bulk (a week of mentions and their queue items, 40 % of the
items open, as `vigie bench dashboard` seeds them), vacuumed and analysed; each live callback
(wall, triage, queue, sources, an item's page; the wall's 24-hour panels from the rollups of
``summary:fold``, run once after the fill, and a few posts stored since) is then posted to Dash's real endpoint through
the test client while every statement it sends is captured (``before_cursor_execute``), and
each captured SELECT is explained (``EXPLAIN (FORMAT JSON)``, with its own parameters). At a
million mentions a sequential scan of either table is seconds, not the 100 ms a tick may take;
and a day's window read row by row from the table (a bitmap heap scan of 140,000 rows) is most
of a second: such reads must come from an index alone, or stop early under a small LIMIT.
Skipped without VIGIE_TEST_DATABASE_URL (CI sets it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event, text

from collectors.runner import sync_sources
from config.settings import Settings
from models import queue_counts, summary_fold
from models.db import Database, open_database
from models.migrate import upgrade
from tests.conftest import PG_URL, _reset_postgres, web_settings
from vigie.bench_dashboard import _clear_wall_cache, callback_payload

pytestmark = pytest.mark.skipif(not PG_URL, reason="VIGIE_TEST_DATABASE_URL not set: PostgreSQL run skipped")

ROWS = 150_000  # enough for the planner to prefer an index wherever one serves
HOT_TABLES = {"mentions", "queue_items"}
LIMIT_ROWS = 2000  # a LIMIT this small stops an ordered index walk early (the wall reads 2,000 texts)
HEAP_ROWS = ROWS // 100  # more table rows than this on one tick: an index-only scan or a bound is missing
INDEX_ROWS = ROWS // 4  # more index entries than this (a day is a seventh): counting the whole queue

_MENTIONS = """
INSERT INTO mentions (source_id, external_id, network, text, language, created_at, collected_at,
                      sentiment_score, sentiment_label, brand, is_competitor, risk_flags, risk_terms,
                      priority, cluster_key, author_handle)
SELECT :source, 'plan-' || g, (ARRAY['x', 'mastodon', 'reddit', 'bluesky'])[1 + g % 4],
       'Aurelia Bank fees, post number ' || g || ' #fees', 'en', at, at,
       ((g % 7) - 3) / 3.0, (ARRAY['negative', 'neutral', 'positive'])[1 + g % 3],
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'Aurelia Bank' END, false, '[]', '{}',
       (ARRAY['critical', 'high', 'normal', 'low'])[1 + g % 4], 'plan-' || g, '@author' || (g % 500)
FROM (SELECT g, timezone('utc', now()) - make_interval(secs => random() * 7 * 86400) AS at
      FROM generate_series(1, :rows) AS g) AS s
"""
_ITEMS = """
INSERT INTO queue_items (mention_id, team, status, priority_rank, assignee, due_at, rule_id, explanation,
                         created_at, updated_at, resolved_at, copy_count, at_risk_at, claimed_at, escalated_at)
SELECT id, (CAST(:teams AS text[]))[1 + id % cardinality(CAST(:teams AS text[]))], st, id % 4,
       CASE WHEN st = 'new' THEN NULL ELSE 'agent' || (id % 20) END,
       created_at + interval '4 hours', 'rule-' || (id % 9), 'the rule matched', created_at,
       created_at + interval '10 minutes', CASE WHEN st = 'resolved' THEN created_at + interval '1 hour' END, 0,
       created_at + interval '3 hours', CASE WHEN st <> 'new' THEN created_at + interval '5 minutes' END,
       CASE WHEN id % 50 = 0 THEN created_at + interval '2 hours' END
FROM (SELECT id, created_at, (ARRAY['new', 'new', 'new', 'claimed', 'resolved', 'resolved', 'resolved',
                                     'resolved', 'resolved', 'resolved'])[1 + id % 10] AS st
      FROM mentions) AS m
"""


def _fill(db: Database, settings: Settings) -> None:
    sync_sources(db, settings)
    with db.engine.begin() as conn:
        source = conn.execute(text("SELECT min(id) FROM sources")).scalar_one()
        conn.execute(text(_MENTIONS), {"source": source, "rows": ROWS})
        conn.execute(text(_ITEMS), {"teams": list(settings.team_keys)})
    with db.write.begin() as session:  # as the collector's queue:counts job does
        queue_counts.fold(session)
    summary_fold.fold(db, settings.reporting.timezone)  # and summary:fold (the wall's hourly rollups)
    with db.engine.begin() as conn:  # a few posts stored since the fold: read past its mark
        source = conn.execute(text("SELECT min(id) FROM sources")).scalar_one()
        conn.execute(text(_MENTIONS.replace("'plan-'", "'late-'")), {"source": source, "rows": 5})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")  # statistics and the visibility map, as autovacuum keeps them


@pytest.fixture(scope="module")
def filled(base_settings: Settings) -> Iterator[tuple[Database, Settings]]:
    _reset_postgres(PG_URL).engine.dispose()
    db = open_database(PG_URL)
    upgrade(db.engine)
    settings = replace(base_settings, database_url=PG_URL, worker_id="test-worker")
    _fill(db, settings)
    yield db, settings
    db.engine.dispose()


@pytest.fixture
def captured(web_app: Any, filled: tuple[Database, Settings]) -> Iterator[dict[str, Any]]:
    """Signed-in clients of the shared app on the filled database, and the statements sent."""
    from dashboard.context import AppContext
    from tests.web import make_accounts, sign_in

    db, settings = filled
    before = web_app.server.extensions["vigie"]
    web_app.server.extensions["vigie"] = AppContext(settings=web_settings(settings), db=db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))
    make_accounts(db, settings)
    clients = {}
    for name in ("operator", "lead", "agent"):
        clients[name] = web_app.server.test_client()
        assert sign_in(clients[name], name).status_code == 302
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    yield {"app": web_app, "clients": clients, "db": db, "statements": statements}
    event.remove(db.engine, "before_cursor_execute", keep)
    web_app.server.extensions["vigie"] = before


def _post(client: Any, body: dict[str, Any]) -> None:
    response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:500]


def _tick(app: Any, output: str, tick: str, state: list[tuple[str, Any]], inputs: list[tuple[str, str, Any]] = ()
          ) -> dict[str, Any]:
    return callback_payload(app, output, [{"id": tick, "property": "n_intervals", "value": 1},
                                          *({"id": i, "property": p, "value": v} for i, p, v in inputs)],
                            [{"id": i.split(".")[0], "property": i.split(".")[1], "value": v} for i, v in state])


def _unbounded_reads(plan: Any, bounded: bool = False) -> list[str]:
    """The plan's sequential scans of `mentions` or `queue_items`, its reads of their rows (index or
    bitmap heap scans, not index-only) expected to return more than ``HEAP_ROWS`` rows, and its
    index-only walks of more than ``INDEX_ROWS`` entries, where no small LIMIT above (without a sort
    or an aggregate in between) stops them early."""
    found: list[str] = []
    if isinstance(plan, list):
        for part in plan:
            found.extend(_unbounded_reads(part, bounded))
        return found
    if not isinstance(plan, dict):
        return found
    if "Plan" in plan:
        return _unbounded_reads(plan["Plan"], bounded)
    kind, relation, rows = plan.get("Node Type"), plan.get("Relation Name"), plan.get("Plan Rows", 0)
    if kind == "Limit":
        bounded = rows <= LIMIT_ROWS
    elif kind in ("Sort", "Aggregate", "Hash", "Materialize", "Gather Merge"):
        bounded = False
    if relation in HOT_TABLES:
        if kind == "Seq Scan":
            found.append(f"Seq Scan on {relation}")
        elif kind in ("Index Scan", "Bitmap Heap Scan") and not bounded and rows > HEAP_ROWS:
            found.append(f"{kind} on {relation} reading ~{rows} rows from the table")
        elif kind == "Index Only Scan" and not bounded and rows > INDEX_ROWS:
            found.append(f"{kind} on {relation} walking ~{rows} index entries")
    for child in plan.get("Plans", []):
        found.extend(_unbounded_reads(child, bounded))
    return found


def test_live_ticks_read_mentions_and_queue_items_by_index(captured: dict[str, Any]) -> None:
    app, clients, db = captured["app"], captured["clients"], captured["db"]
    with db.engine.connect() as conn:
        at, item = conn.execute(text("SELECT updated_at, id FROM queue_items ORDER BY updated_at DESC, id DESC "
                                     "OFFSET 50 LIMIT 1")).one()
        known = [r for (r,) in conn.execute(text("SELECT id FROM queue_items WHERE status = 'new' LIMIT 20"))]
    team = "customer_service"
    captured["statements"].clear()  # the ticks' statements only
    _clear_wall_cache(everything=True)
    _post(clients["operator"], _tick(app, "wall-marker.data", "wall-tick",
                                     [("wall-marker.data", "stale"), ("wall-slow-marker.data", "stale")],
                                     [("wall-scale", "data", 1.0)]))
    _post(clients["lead"], _tick(app, "triage-known.data", "triage-tick", [("triage-known.data", {"rows": {},
                                                                                                 "load": ""})]))
    _post(clients["agent"], _tick(app, "queue-state.data", "queue-tick", [("queue-state.data", {
        "team": team, "key": [at.isoformat(), item], "known": known, "floor": at.isoformat()})]))
    _post(clients["operator"], _tick(app, "sources-marker.data", "sources-tick", [("sources-marker.data", "")]))
    _post(clients["agent"], _tick(app, "mention-presence.children", "mention-tick",
                                  [("mention-item.data", {"id": known[0], "changed": ""})]))
    statements = captured["statements"]
    hot = [(s, p) for s, p in statements if any(t in s for t in HOT_TABLES)]
    assert len(hot) >= 15, [s for s, _ in statements]  # the wall's panels, triage's lists, the queue, the item
    scanned = []
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in hot:
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            if os.environ.get("PLANS_DUMP"):
                with open(os.environ["PLANS_DUMP"], "a") as out:
                    out.write(json.dumps({"sql": statement, "plan": plan}) + "\n")
            for problem in _unbounded_reads(plan):
                scanned.append(f"{problem}: " + " ".join(statement.split())[:300])
        raw.rollback()
    finally:
        raw.close()
    assert scanned == [], "unbounded reads on the live path:\n" + "\n".join(scanned)
