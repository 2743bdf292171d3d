"""The issue's judgement, end to end: from the repository, PostgreSQL-backed, as the README's
Deployment section says: `vigie db upgrade`, two `vigie collect` processes (workers a and b, the
demo source), gunicorn with 2 workers behind a real nginx (the shipped site config, on free ports,
TLS from a test CA). Needs VIGIE_TEST_DATABASE_URL and nginx (`make chromium` installs it).

Then /healthz, /readyz turning 503 when the collectors die and 200 when one comes back, and
/metrics parsed by prometheus_client, all through nginx (a trusted proxy: HSTS over its https).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from sqlalchemy import func, select

from models.db import open_database
from models.tables import Mention
from tests.conftest import PG_URL, TEST_SECRET, _reset_postgres
from tests.kit import config_dir, db_upgrade, vigie_env
from tests.support import REPO, VIGIE, free_port

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="VIGIE_TEST_DATABASE_URL not set: PostgreSQL run skipped")]

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
GUNICORN = str(Path(VIGIE).with_name("gunicorn"))
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
METRICS_TOKEN_VAR = "VIGIE_METRICS_TOKEN"
HEARTBEAT_VAR = "VIGIE_HEARTBEAT_SECONDS"  # a collector silent for three of these is gone
METRICS_TOKEN = "metrics-token-of-the-deployment-test"
BOTH = "2 collector(s) with a fresh heartbeat"  # /readyz's detail (models.heartbeats.collectors_ready)


@dataclass
class Stack:
    base: str  # https://127.0.0.1:PORT, nginx
    env: dict[str, str]
    tls: ssl.SSLContext
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], **env: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(cmd, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.logs)

    def collector(self, worker: str) -> None:
        self.start(f"collect-{worker}", [VIGIE, "collect"], VIGIE_WORKER_ID=worker)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def get(self, path: str, headers: dict[str, str] | None = None, data: bytes | None = None
            ) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, headers=headers or {}, data=data)
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.tls) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def wait_for(self, path: str, status: int, timeout: float, headers: dict[str, str] | None = None,
                 saying: str = "") -> float:
        """Seconds until ``path`` answers ``status`` (and a body holding ``saying``) through nginx;
        fails after ``timeout``, with the last answer."""
        start = time.monotonic()
        seen: object = None
        body = ""
        while time.monotonic() - start < timeout:
            try:
                seen, body = self.get(path, headers)
            except OSError as exc:  # not listening yet
                seen = exc
            if seen == status and saying in body:
                return time.monotonic() - start
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"{name} exited {proc.returncode}: {self.log(name)}"
            time.sleep(0.5)
        raise AssertionError(f"{path} did not answer {status} {saying!r} within {timeout} s "
                             f"(last: {seen} {body[:300]})")

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]


def _nginx_conf(tmp: Path, http_port: int, https_port: int, web_port: int, cert: Path) -> Path:
    """The shipped site config on this test's ports and certificate, in a minimal nginx.conf."""
    site = (REPO / "deploy" / "nginx-vigie.conf").read_text()
    site = re.sub(r"\n\s*listen \[::\]:\d+[^\n]*", "", site)  # IPv4 only: the test reaches 127.0.0.1
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = re.sub(r"listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl", site)
    site = site.replace("server 127.0.0.1:8050;", f"server 127.0.0.1:{web_port};")
    site = site.replace("/var/log/nginx/vigie.access.log", str(tmp / "vigie.access.log"))
    site = site.replace("/etc/ssl/vigie/fullchain.pem", str(cert)).replace("/etc/ssl/vigie/privkey.pem", str(cert))
    assert f"127.0.0.1:{https_port} ssl" in site and f"127.0.0.1:{web_port}" in site
    (tmp / "site.conf").write_text(site)
    temp = "".join(f"  {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                       "scgi"))
    conf = tmp / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # (root's workers would run as nobody, locked out of tmp)
    conf.write_text(f"{user}pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
                    f"worker_processes 1;\nevents {{}}\nhttp {{\n  access_log {tmp}/access.log;\n{temp}"
                    f"  include {tmp}/site.conf;\n}}\n")
    return conf


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if NGINX is None:
        pytest.skip("nginx not installed: `make chromium` installs it (apt-get install nginx)")
    _reset_postgres(PG_URL).engine.dispose()
    ca = trustme.CA()
    cert = tmp_path / "site.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert))
    tls = ssl.create_default_context()
    ca.configure_trust(tls)
    http_port, https_port, web_port = free_port(), free_port(), free_port()
    cfg = config_dir(tmp_path, sources={"sources": [{"name": "demo", "kind": "demo", "interval_seconds": 2}]})
    env = vigie_env(PG_URL, config=cfg, log_level="INFO", secret_key=TEST_SECRET,
                    public_url=f"https://127.0.0.1:{https_port}", extra={"HOME": str(tmp_path),
                                                                           METRICS_TOKEN_VAR: METRICS_TOKEN,
                                                                           HEARTBEAT_VAR: "2",
                                                                           "VIGIE_TRUSTED_PROXIES": "127.0.0.1"})
    running = Stack(f"https://127.0.0.1:{https_port}", env, tls, tmp_path)
    try:
        db_upgrade(env)  # the README's step 4
        running.collector("a")
        running.collector("b")
        running.start("web", [GUNICORN, "-c", str(GUNICORN_CONF), "--workers", "2", "--bind", f"127.0.0.1:{web_port}",
                              "dashboard.wsgi:server"])
        running.start("nginx", [NGINX, "-p", str(tmp_path), "-c", str(_nginx_conf(tmp_path, http_port, https_port,
                                                                                   web_port, cert)),
                                "-g", "daemon off;"])
        running.wait_for("/login", 200, timeout=60)
        yield running
    finally:
        for name in list(running.procs):
            proc = running.procs.pop(name)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def test_two_collectors_and_gunicorn_serve_behind_nginx_on_postgresql(stack: Stack) -> None:
    status, page = stack.get("/login")
    assert status == 200 and 'name="password"' in page
    status, _ = stack.get("/queue/legal")  # signed out: the guard sends to the login page, through nginx
    assert status == 200
    db = open_database(PG_URL)
    deadline = time.monotonic() + 60
    try:
        while True:  # the demo source's posts arrive, stored by whichever collector holds its lease
            with db.read() as s:
                stored = s.scalar(select(func.count()).select_from(Mention)) or 0
            if stored > 0:
                break
            assert time.monotonic() < deadline, stack.log("collect-a") + stack.log("collect-b")
            time.sleep(1)
    finally:
        db.engine.dispose()
    # nginx is a trusted proxy: its X-Forwarded-Proto makes the app send HSTS (nginx adds none itself)
    with urllib.request.urlopen(stack.base + "/login", timeout=10, context=stack.tls) as response:
        assert "max-age=" in (response.headers.get("Strict-Transport-Security") or ""), dict(response.headers)
    # a wall link's kiosk token reaches neither nginx's access log nor gunicorn's
    assert stack.get("/wall?kiosk=kiosk-token-never-logged")[0] == 401  # (no such token)
    time.sleep(1)
    logged = (stack.logs / "vigie.access.log").read_text() + stack.log("web")
    assert "GET /wall " in logged and "kiosk-token-never-logged" not in logged, logged[-2000:]
    # nginx refuses a body over its limit before any worker reads it
    status, _ = stack.get("/hooks/demo", headers={"Content-Type": "application/json"}, data=b"x" * (7 * 1024 * 1024))
    assert status == 413
    for name in ("collect-a", "collect-b", "web"):
        assert stack.procs[name].poll() is None, stack.log(name)


def test_readiness_follows_the_collectors_and_metrics_parse(stack: Stack) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    assert stack.get("/healthz")[0] == 200
    # Both heartbeats fresh before a kill: a collector killed before its first beat (it loads the
    # models first) leaves no heartbeat, and /readyz rightly stays ready (two runs failed that way
    # on a loaded machine, the other collector's beat alone making it ready).
    stack.wait_for("/readyz", 200, timeout=60, saying=BOTH)
    stack.kill("collect-a")  # SIGKILL: no clean stop; b still beats and takes over the source
    stack.wait_for("/readyz", 503, timeout=60)  # three 2-second heartbeats missed, and the scrape's slack
    stack.collector("a")  # back under its VIGIE_WORKER_ID
    stack.wait_for("/readyz", 200, timeout=60, saying=BOTH)
    stack.kill("collect-b")
    stack.wait_for("/readyz", 503, timeout=60)
    stack.collector("b")
    stack.wait_for("/readyz", 200, timeout=60, saying=BOTH)
    stack.kill("collect-b")
    stack.wait_for("/readyz", 503, timeout=60)  # the metrics below see b gone, a up
    status, text = stack.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200, text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name in ("vigie_source_stale", "vigie_team_open_items", "vigie_collector_up", "vigie_alerts_open"):
        assert name in families, sorted(families)
    up = {sample.labels["worker"]: sample.value for sample in families["vigie_collector_up"].samples}
    assert up.get("a") == 1.0 and up.get("b") == 0.0, up
