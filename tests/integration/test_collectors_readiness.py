"""/readyz and the collectors: one killed (silent without a clean stop) makes it unready even while
another beats, until it beats again or an operator forgets it (`vigie collectors forget`); a clean
stop does not. SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from click.testing import CliRunner

from config.settings import Settings
from models import heartbeats
from models.db import Database
from models.tables import utcnow
from vigie.cli_collectors import collectors


def _beat(db: Database, worker: str, seconds_ago: float = 0) -> None:
    with db.write.begin() as s:
        heartbeats.beat(s, worker, f"host-{worker}", 4242, "0.1.0", 15, utcnow() - timedelta(seconds=seconds_ago),
                        starting=True)


def test_one_killed_collector_makes_readyz_unready_until_it_beats_or_is_forgotten(
        web: Any, db: Database, settings: Settings) -> None:
    client = web.server.test_client()
    env = {"DATABASE_URL": settings.database_url}
    _beat(db, "a")
    _beat(db, "b")
    assert client.get("/readyz").status_code == 200
    _beat(db, "b", seconds_ago=46)  # b silent for three 15 s intervals: killed or hung, while a beats
    answer = client.get("/readyz")
    assert answer.status_code == 503, answer.get_json()
    detail = answer.get_json()["checks"]["collector"]["detail"]
    assert detail.startswith("1 collector(s) silent") and "b" not in detail.split(";")[0]  # public: no names
    _beat(db, "b")  # b comes back
    assert client.get("/readyz").status_code == 200
    _beat(db, "c")
    with db.write.begin() as s:
        heartbeats.mark_stopped(s, "c", utcnow())  # a clean stop is not a failure
    assert client.get("/readyz").status_code == 200
    _beat(db, "b", seconds_ago=46)
    listed = CliRunner().invoke(collectors, ["list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "collector b silent since" in listed.output and "readiness: not ready" in listed.output
    missing = CliRunner().invoke(collectors, ["forget", "nobody"], env=env)
    assert missing.exit_code == 1 and "no collector named 'nobody'" in missing.output
    forgot = CliRunner().invoke(collectors, ["forget", "b"], env=env)
    assert forgot.exit_code == 0, forgot.output
    assert client.get("/readyz").status_code == 200
    assert "readiness: ok" in CliRunner().invoke(collectors, ["list"], env=env).output


def test_the_readiness_rule_counts_every_silent_collector() -> None:
    now = utcnow()

    class Beat:
        def __init__(self, worker: str, seconds_ago: float, stopped: bool = False, host: str = "h1",
                     started_ago: float = 3600) -> None:
            self.worker_id, self.interval_seconds, self.hostname = worker, 15, host
            self.pid = int(worker.partition(":")[2] or 0)
            self.beat_at = now - timedelta(seconds=seconds_ago)
            self.started_at = now - timedelta(seconds=started_ago)
            self.stopped_at = self.beat_at if stopped else None

    assert heartbeats.collectors_ready([], now) == (False, "no collector heartbeat within three of its intervals")
    assert heartbeats.collectors_ready([Beat("a", 1), Beat("z", 9999, stopped=True)], now)[0]
    ok, detail = heartbeats.collectors_ready([Beat("a", 1), Beat("b", 46, host="h2"), Beat("c", 50, host="h3")], now)
    assert not ok and detail.startswith("2 collector(s) silent")
    # restarted without a fixed VIGIE_WORKER_ID (hostname:pid): a new id on the same host replaces it
    assert heartbeats.collectors_ready([Beat("h2:99", 1, host="h2", started_ago=5), Beat("h2:42", 46, host="h2")],
                                       now)[0]
    # an older collector of the same host does not, nor a new one when the ids are fixed (two collectors
    # of one host, one killed just after the other started)
    assert not heartbeats.collectors_ready([Beat("h2:99", 1, host="h2", started_ago=3600),
                                            Beat("h2:42", 46, host="h2")], now)[0]
    assert not heartbeats.collectors_ready([Beat("a", 1, host="h2", started_ago=5), Beat("b", 46, host="h2")],
                                           now)[0]
    assert not heartbeats.collectors_ready([Beat("z", 10, stopped=True)], now)[0]
