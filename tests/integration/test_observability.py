"""Heartbeats, stale sources, /healthz, /readyz and /metrics against a real database (SQLite, and
PostgreSQL when VIGIE_TEST_DATABASE_URL is set), through the real app and the real scheduler."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from collectors.runner import acquire_lease, sync_sources
from collectors.scheduler import create_scheduler, shutdown
from config.ops import OpsConfig
from config.settings import Settings, SourceConfig
from config.sources import Secret
from dashboard.context import AppContext
from models import heartbeats, replies
from models.db import Database, open_database
from models.migrate import alembic_config
from models.ops_tables import CollectorHeartbeat
from models.replies import Target
from models.reply_tables import Reply
from models.tables import OPEN_STATUSES, Alert, Mention, Notification, QueueItem, SourceRow, utcnow
from tests.conftest import web_settings
from tests.kit import seed_items
from tests.support import free_port
from tests.web import make_accounts, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
TOKEN = "scrape-token-of-some-length-42"
DEMO = SourceConfig("demo", "demo", 60, True, {"seed": 1, "rate_per_minute": 60, "backfill_hours": 0.01,
                                                "page_size": 50})


def _use(web: Any, settings: Settings, db: Database) -> None:
    """The shared app reads ``settings`` (with the scrape token) and ``db`` for this test."""
    ops = replace(settings.ops, metrics_token=Secret(TOKEN))
    web.server.extensions["vigie"] = AppContext(settings=web_settings(replace(settings, ops=ops)), db=db)


def _beat(db: Database, worker: str = "c1", **at: Any) -> None:
    with db.write.begin() as s:
        heartbeats.beat(s, worker, "host-a", 4242, "0.1.0", 15, at.get("now", utcnow()), starting=True)


def test_a_beat_lists_the_leases_held_and_a_stop_is_final_until_a_restart(db: Database, settings: Settings) -> None:
    sync_sources(db, settings)
    assert acquire_lease(db, "demo", "c1", timedelta(minutes=1))
    _beat(db)
    with db.write.begin() as s:
        heartbeats.beat(s, "ancient", "h", 1, "0", 15, utcnow() - timedelta(days=8), starting=True)
    _beat(db)  # forgets collectors gone for more than a week
    with db.read() as s:
        rows = heartbeats.heartbeats(s)
        assert [(r.worker_id, r.sources, r.pid) for r in rows] == [("c1", ["demo"], 4242)]
        assert [r.worker_id for r in heartbeats.live_collectors(s, utcnow())] == ["c1"]
    with db.write.begin() as s:
        heartbeats.mark_stopped(s, "c1", utcnow())
        heartbeats.beat(s, "c1", "host-a", 4242, "0.1.0", 15, utcnow())  # a beat racing the shutdown
    with db.read() as s:
        row = s.get(CollectorHeartbeat, "c1")
        assert row is not None and row.stopped_at is not None and row.sources == ["demo"]
        assert heartbeats.live_collectors(s, utcnow()) == []
        assert "collector c1 stopped" in heartbeats.stale_sources(s, {"demo": 60}, utcnow())["demo"]
    _beat(db)  # the same worker id started again
    with db.read() as s:
        assert [r.worker_id for r in heartbeats.live_collectors(s, utcnow())] == ["c1"]


def test_the_scheduler_beats_with_its_sources_and_a_clean_shutdown_makes_them_stale(
        db: Database, settings: Settings) -> None:
    settings = replace(settings, sources=(DEMO,), worker_id="sched-1", ops=OpsConfig(heartbeat_seconds=1))
    stop = threading.Event()
    scheduler = create_scheduler(settings, db, stop, blocking=False)
    try:
        scheduler.start()
        deadline = time.monotonic() + 30
        listed: list[Any] = []
        while time.monotonic() < deadline and listed != ["demo"]:  # the demo poll leases it, the next beat lists it
            time.sleep(0.2)
            with db.read() as s:
                row = s.get(CollectorHeartbeat, "sched-1")
                listed = list(row.sources) if row is not None else []
        assert listed == ["demo"]
        with db.read() as s:
            assert heartbeats.stale_sources(s, {"demo": 60}, utcnow()) == {}
    finally:
        shutdown(scheduler, stop, settings, db)
    with db.read() as s:
        row = s.get(CollectorHeartbeat, "sched-1")
        assert row is not None and row.stopped_at is not None
        assert s.scalar(select(SourceRow.lease_owner).where(SourceRow.name == "demo")) is None
        assert "collector sched-1 stopped" in heartbeats.stale_sources(s, {"demo": 60}, utcnow())["demo"]


def test_healthz_and_readyz(web: Any, db: Database, settings: Settings) -> None:
    _use(web, settings, db)
    client = web.server.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["checks"]["database"]["ok"] and body["checks"]["schema"]["ok"]
    assert not body["checks"]["collector"]["ok"] and "heartbeat" in body["checks"]["collector"]["detail"]
    _beat(db)
    assert client.get("/readyz").status_code == 200
    _beat(db, now=utcnow() - timedelta(seconds=46))  # silent for three 15 s intervals: gone
    assert client.get("/readyz").status_code == 503
    _beat(db)
    with db.write.begin() as s:
        heartbeats.mark_stopped(s, "c1", utcnow())
    assert client.get("/readyz").status_code == 503


def test_readyz_refuses_an_old_schema_and_an_unreachable_database(web: Any, db: Database,
                                                                   settings: Settings) -> None:
    from alembic import command

    _use(web, settings, db)
    _beat(db)
    client = web.server.test_client()
    assert client.get("/readyz").status_code == 200
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "at revision 0011" in answer.get_json()["checks"]["schema"]["detail"]
    gone = open_database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing-listens-here")
    web.server.extensions["vigie"] = AppContext(settings=web_settings(settings), db=gone)
    answer = client.get("/readyz")
    assert answer.status_code == 503 and not answer.get_json()["checks"]["database"]["ok"]
    assert client.get("/healthz").status_code == 200  # the process is up: no database asked


def test_metrics_need_the_scrape_token_or_an_admin(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    _use(web, settings, db)
    client = web.server.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-of-some-length"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    for who, status in (("operator", 403), ("compliance", 403), ("admin", 200)):
        signed = web.server.test_client()
        assert sign_in(signed, who).status_code == 302
        assert signed.get("/metrics").status_code == status, who
    # With no token configured, a bearer header opens nothing.
    web.server.extensions["vigie"] = AppContext(settings=web_settings(settings), db=db)
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_parse_and_match_the_database(web: Any, db: Database, settings: Settings) -> None:
    _use(web, settings, db)
    ids = seed_items(db, settings, ["@AureliaBank my card got declined again at the shop",
                                    "@AureliaBank I will sue you, my lawyer is on it: class action",
                                    "@AureliaBank love the new app design, well done",
                                    "@AureliaBank the app crashes when I log in"])
    now = utcnow()
    with db.write.begin() as s:
        s.execute(update(QueueItem).where(QueueItem.id == ids[0]).values(due_at=now - timedelta(hours=1)))
        s.execute(update(QueueItem).where(QueueItem.id == ids[2]).values(status="resolved"))
        s.execute(update(SourceRow).where(SourceRow.name == "demo").values(
            last_ok_at=now - timedelta(hours=3), last_run_at=now - timedelta(hours=3), consecutive_failures=0,
            items_last_run=17, lease_owner="c1", lease_until=now - timedelta(hours=2)))
        s.add(Alert(kind="volume_surge", scope="all", scope_key="", opened_at=now, last_seen_at=now, closed_at=None,
                    window_minutes=15, observed=40.0, expected=10.0, z=4.0, peak_observed=40.0, mentions_in_window=40,
                    summary="surge", mention_ids=[]))
        s.add(Notification(created_at=now, event="sla_breach", channel="ops", title="t", body="b", status="pending",
                           attempts=0))
        item = s.get(QueueItem, ids[1])
        mention = s.get(Mention, item.mention_id) if item else None
        assert item is not None and mention is not None
        target = Target("reply", mention.network, "demo", item.team, mention.brand, mention.language, item.id,
                        mention.id)
        replies.compose(s, replies.compile_rules(settings), "agent.cs", target, "We are looking into it, sorry.")
    _beat(db, now=now - timedelta(minutes=5))  # c1 held demo and went silent: demo is stale
    _beat(db, "c2")
    text = web.server.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True)
    got = _samples(text)
    with db.read() as s:
        opened = dict(s.execute(select(QueueItem.team, func.count()).where(QueueItem.status.in_(OPEN_STATUSES))
                                .group_by(QueueItem.team)).all())
        late = dict(s.execute(select(QueueItem.team, func.count()).where(QueueItem.status.in_(OPEN_STATUSES),
                                                                          QueueItem.due_at < utcnow())
                              .group_by(QueueItem.team)).all())
        reply_states = dict(s.execute(select(Reply.status, func.count()).group_by(Reply.status)).all())
        beats = {b.worker_id: b.beat_at for b in s.scalars(select(CollectorHeartbeat))}
    for team in settings.team_keys:
        assert got[("vigie_team_open_items", (("team", team),))] == opened.get(team, 0), team
        assert got[("vigie_team_sla_breaches", (("team", team),))] == late.get(team, 0), team
    assert sum(late.values()) == 1 and sum(opened.values()) == 3
    assert reply_states and all(got[("vigie_replies", (("state", st),))] == n for st, n in reply_states.items())
    assert got[("vigie_notifications", (("state", "pending"),))] == 1
    assert got[("vigie_alerts_open", ())] == 1
    demo = (("source", "demo"),)
    assert got[("vigie_source_items_last_run", demo)] == 17
    assert got[("vigie_source_consecutive_failures", demo)] == 0
    three_hours_ago = (now - timedelta(hours=3)).replace(tzinfo=UTC).timestamp()
    assert abs(got[("vigie_source_last_success_timestamp_seconds", demo)] - three_hours_ago) < 0.01
    assert got[("vigie_source_stale", demo)] == 1
    assert got[("vigie_collector_up", (("worker", "c1"),))] == 0
    assert got[("vigie_collector_up", (("worker", "c2"),))] == 1
    for worker, at in beats.items():
        stamp = got[("vigie_collector_heartbeat_timestamp_seconds", (("hostname", "host-a"), ("worker", worker)))]
        assert abs(stamp - at.replace(tzinfo=UTC).timestamp()) < 0.01


def test_sources_and_overview_pages_show_a_source_whose_collector_died_as_stale_in_red(web: Any, db: Database,
                                                                            settings: Settings) -> None:
    """The issue's case: the last poll succeeded a moment ago, then the collector was killed."""
    from tests.web import dash_post

    make_accounts(db, settings)
    _use(web, settings, db)
    sync_sources(db, settings)
    now = utcnow()
    with db.write.begin() as s:
        s.execute(update(SourceRow).where(SourceRow.name == "demo").values(
            last_ok_at=now - timedelta(seconds=1), last_run_at=now - timedelta(seconds=1), lease_owner="c1",
            lease_until=now + timedelta(minutes=1)))
    client = web.server.test_client()
    assert sign_in(client, "operator").status_code == 302

    def badge(path: str, ident: str) -> tuple[str, str]:
        built = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                           {"id": "_pages_location", "property": "search", "value": ""}])
        assert built.status_code == 200
        found = _find(built.get_json()["response"]["_pages_content"], ident)
        assert found is not None
        return found["children"], found["color"]

    _beat(db)
    assert badge("/sources", "sources-state-demo") == badge("/", "home-state-demo") == ("ok", "success")
    _beat(db, now=now - timedelta(minutes=1))  # no beat for a minute (four 15 s intervals): SIGKILL
    assert badge("/sources", "sources-state-demo") == badge("/", "home-state-demo") == ("stale", "danger")


def _find(node: Any, ident: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and props.get("id") == ident:
            return props
        for value in node.values():
            found = _find(value, ident)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _find(value, ident)
            if found is not None:
                return found
    return None
