"""Real processes: a `vigie collect` whose heartbeat appears and, killed with SIGKILL, turns its
source stale and `/readyz` unready; a gunicorn started with deploy/gunicorn.conf.py whose own logs
and the `vigie.*` messages all come out as JSON lines when VIGIE_LOG_FORMAT=json."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from config.settings import Settings
from models.db import Database
from models.ops_tables import CollectorHeartbeat
from models.tables import SourceRow
from tests.integration.test_observability import TOKEN, _use
from tests.kit import config_dir, vigie_env
from tests.support import REPO, VIGIE, free_port, wait_for_http

SOURCE = {"name": "demo", "kind": "demo", "interval_seconds": 1, "enabled": True, "seed": 3, "rate_per_minute": 60,
          "backfill_hours": 0.05, "page_size": 50}


def _until(what: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, why
        time.sleep(0.2)


def _stale(client: Any) -> float:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "vigie_source_stale" and s.labels == {"source": "demo"})


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"a stderr line that is not JSON: {line[:300]!r}") from None
    return parsed


@pytest.mark.slow
def test_a_killed_collector_turns_its_source_stale_and_readyz_unready(
        web: Any, db: Database, db_url: str, settings: Settings, tmp_path: Path) -> None:
    env = vigie_env(db_url if not db_url.startswith("sqlite") else Path(db_url.removeprefix("sqlite:///")),
                    config=config_dir(tmp_path, sources={"sources": [SOURCE]}), worker_id="collector-1",
                    heartbeat_seconds=1, log_format="json", log_level="INFO")
    _use(web, settings, db)
    client = web.server.test_client()
    assert client.get("/readyz").status_code == 503  # no collector yet
    proc = subprocess.Popen([VIGIE, "collect"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def listed() -> bool:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            with db.read() as s:
                row = s.get(CollectorHeartbeat, "collector-1")
                # listed from the lease, taken when its first poll starts: killed before that poll ends,
                # the collector has logged no "source demo:" line yet (a loaded machine's slow first poll)
                polled = s.scalar(select(SourceRow.last_run_at).where(SourceRow.name == "demo")) is not None
                return row is not None and row.sources == ["demo"] and polled

        _until(listed, 60, "the collector's heartbeat never listed its source, or its first poll never ended")
        time.sleep(0.5)  # the poll's log line follows its commit
        assert client.get("/readyz").status_code == 200
        assert _stale(client) == 0
    finally:
        proc.send_signal(signal.SIGKILL)
        _out, err = proc.communicate(timeout=10)
    # No clean shutdown: the row still says alive and the lease is held, but no beat comes any more.
    _until(lambda: client.get("/readyz").status_code == 503, 15, "/readyz stayed ready after the SIGKILL")
    body = client.get("/readyz").get_json()
    assert body["checks"]["collector"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert _stale(client) == 1
    logged = _json_lines(err)  # VIGIE_LOG_FORMAT=json: every line the collector wrote is a JSON object
    assert any(e["logger"] == "vigie.collect" and e["message"].startswith("source demo:") for e in logged), err[:500]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in logged)


@pytest.mark.slow
def test_gunicorn_with_the_shipped_config_logs_json_lines_from_itself_and_vigie(tmp_path: Path) -> None:
    port = free_port()
    env = vigie_env(tmp_path / "vigie.db", host="127.0.0.1", port=port, web_workers=2, log_format="json",
                    log_level="INFO", secret_key="s" * 40, metrics_token=TOKEN)
    subprocess.run([VIGIE, "init-db"], env=env, check=True, capture_output=True, cwd=tmp_path)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen([gunicorn, "-c", str(REPO / "deploy" / "gunicorn.conf.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        with pytest.raises(urllib.error.HTTPError) as refused:  # no collector runs: not ready
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert refused.value.code == 503
        request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            names = {f.name for f in text_string_to_metric_families(answer.read().decode())}
        assert {"vigie_source_stale", "vigie_collector_up", "vigie_team_open_items"} <= names
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    logged = _json_lines(err)
    loggers = {e["logger"] for e in logged}
    assert {"gunicorn.error", "gunicorn.access", "vigie.web"} <= loggers, loggers
    assert any(e["logger"] == "vigie.web" and "not ready" in e["message"] for e in logged)
    assert any(e["logger"] == "gunicorn.access" and "/readyz" in e["message"] for e in logged)
    assert sum("Booting worker" in e["message"] for e in logged) == 2  # VIGIE_WEB_WORKERS
    assert out == ""
