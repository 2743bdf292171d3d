"""`make load`: the scale-out load test, on PostgreSQL, with real processes and a real load tool.

What runs (each a real process, on this machine):
- gunicorn with the deployment's settings (`deploy/gunicorn.conf.py`: 4 gthread workers of 2 threads) serving
  `dashboard.wsgi:server`;
- two `vigie collect` processes (``--collectors``) sharing the sources by their lease rows, fed the
  demo stream at ten times its rate (``--rate-multiplier``): one demo source per collector, each
  with its share of 10 x 90 posts a minute, so both ingest;
- Locust (benchmarks/load/locustfile.py), headless: ``--walls`` wall screens signed in with kiosk
  links and ``--agents`` agents signed in through the login form, each claiming, replying and
  resolving, all through Dash's own `/_dash-update-component` protocol;
- a real Chromium (selenium) signed in on one team's queue page, noting when each new row shows.

It prints errors, p50/p95 per callback, the largest resident memory of each server process and
the time from a mention being stored (`collected_at`) to its row showing in Chromium, then exits 1
when a target is missed: zero errors, callback p95 <= 300 ms, each process < 300 MB, store->row
p95 <= 3 s. The database given is emptied first: only an empty one, or one this test made
(`models.scratch`), is accepted.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import UTC
from pathlib import Path
from typing import Any

import click
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.load import browser, figures, processes  # noqa: E402

PURPOSE = "vigie load"
DEMO_RATE = 90  # posts a minute of the shipped demo source
WATCHER = "load.watch"


def _create_if_missing(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` when the server has none by that name (a new
    machine: `make load` works without a `createdb` first)."""
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    if target.get_backend_name() != "postgresql" or not target.database:
        return
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": target.database}).first() is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{target.database.replace(chr(34), "")}"')
                print(f"created the database {target.database}")
    finally:
        server.dispose()


def postmaster(db: Any) -> int | None:
    """The PostgreSQL server's postmaster on this machine (the parent of a backend of ours), for the
    `cpu` line; None for another database or a server elsewhere."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql" or db.engine.url.host not in ("127.0.0.1", "localhost", None):
        return None
    with db.engine.connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return processes.parent_of(int(backend))


def fresh_database(url: str) -> Any:
    """The database emptied and migrated (refused unless empty or this test's own)."""
    from models.db import open_database
    from models.migrate import upgrade
    from models.tables import Base
    from vigie.common import claim_scratch

    _create_if_missing(url)
    db = open_database(url)
    claim_scratch(db, PURPOSE)
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(db.engine)
    return db


def write_config(workdir: Path, collectors: int, multiplier: float) -> Path:
    """The shipped configuration, its demo source replaced by one per collector at the chosen rate (the
    first keeps the name `demo`, which outbound.yaml's account for the demo network names)."""
    import config

    target = workdir / "config"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(Path(config.__file__).parent, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    sources = yaml.safe_load((target / "sources.yaml").read_text())
    demo = next(s for s in sources["sources"] if s["kind"] == "demo")
    rate = DEMO_RATE * multiplier / collectors
    sources["sources"] = [{**demo, "name": "demo" if n == 0 else f"demo-{n + 1}", "seed": 7 + n,
                           "rate_per_minute": rate, "backfill_hours": 0,
                           "network_path": str(workdir / f"demo-network-{n + 1}.jsonl")}
                          for n in range(collectors)]
    (target / "sources.yaml").write_text(yaml.safe_dump(sources, sort_keys=False))
    return target


def make_accounts(db: Any, env: dict[str, str], walls: int, agents: int, password: str) -> dict[str, Any]:
    from config.settings import load_settings
    from models.library_file import seed_demo_library
    from models.users import add_user, create_kiosk_token

    settings = load_settings(env=env)
    teams = list(settings.team_keys)
    plan: dict[str, Any] = {"agents": [], "kiosks": [], "watch_team": teams[0]}
    with db.write.begin() as session:
        for n in range(agents):
            team = teams[n % len(teams)]
            add_user(session, f"load.agent{n + 1}", "agent", [team], password, teams, actor="load")
            plan["agents"].append({"name": f"load.agent{n + 1}", "password": password, "team": team})
        add_user(session, WATCHER, "agent", [teams[0]], password, teams, actor="load")
        for n in range(walls):
            plan["kiosks"].append(create_kiosk_token(session, f"load-wall-{n + 1}", actor="load"))
        seed_demo_library(session, teams)  # the demo's templates, approved: agents reply with them
    return plan


def wait_ready(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # one request at a time: a worker's first request sets Dash up, and Dash 4 does that unlocked
            # (two first requests at once can fail with "dictionary changed size during iteration")
            with urllib.request.urlopen(f"{base}/readyz", timeout=60) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise click.ClickException(f"{base}/readyz did not answer 200 within {timeout:.0f} s: see the logs")


def store_to_row(db: Any, seen: dict[int, float], team: str, since: float, until: float,
                 out: Path) -> tuple[list[float], int]:
    """Seconds from each new item's mention being stored to its row showing, and the open items of
    ``team`` stored in [since, until] that never showed (the grid keeps its top rows only); each
    pair is written to ``out`` (CSV: item, stored, shown, seconds)."""
    from sqlalchemy import select

    from models.tables import OPEN_STATUSES, Mention, QueueItem

    latencies, missed, lines = [], 0, ["item,stored_epoch,shown_epoch,seconds"]
    with db.read() as session:
        rows = session.execute(select(QueueItem.id, QueueItem.status, Mention.collected_at)
                               .join(Mention, Mention.id == QueueItem.mention_id)
                               .where(QueueItem.team == team).limit(200_000)).all()
    for item_id, status, collected in rows:
        stored = collected.replace(tzinfo=UTC).timestamp()
        if not since <= stored <= until:
            continue
        if item_id in seen:
            latencies.append(seen[item_id] - stored)
            lines.append(f"{item_id},{stored:.3f},{seen[item_id]:.3f},{seen[item_id] - stored:.3f}")
        elif status in OPEN_STATUSES:
            missed += 1
    out.write_text("\n".join(lines) + "\n")
    return latencies, missed


def reply_states(db: Any) -> str:
    """The agents' replies by outbox state (sent: the demo network took them)."""
    from sqlalchemy import func, select

    from models.reply_tables import Reply

    with db.read() as session:
        rows = session.execute(select(Reply.status, func.count()).group_by(Reply.status).limit(50)).all()
    return ", ".join(f"{status} {count}" for status, count in sorted(rows)) or "none"


@click.command()
@click.option("--minutes", default=10.0, show_default=True, help="How long the users run.")
@click.option("--walls", default=50, show_default=True, help="Wall screens (kiosk sessions).")
@click.option("--agents", default=20, show_default=True, help="Agents claiming, replying and resolving.")
@click.option("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/vigie_load",
              show_default=True, help="Emptied first: only an empty database or this test's own.")
@click.option("--collectors", default=2, show_default=True)
@click.option("--rate-multiplier", default=10.0, show_default=True, help="Times the demo stream's 90 posts/min.")
@click.option("--work-seconds", default=20.0, show_default=True, help="Each agent works one item about this often.")
@click.option("--port", default=8071, show_default=True)
@click.option("--workdir", default="var/load", show_default=True, type=click.Path(path_type=Path))
def main(minutes: float, walls: int, agents: int, database_url: str, collectors: int, rate_multiplier: float,
         work_seconds: float, port: int, workdir: Path) -> None:
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    # The previous run's files: logs, the archive's anchor file (var/: it names the old database's
    # chain, which the emptied database no longer has) and the demo network's accepted replies.
    for old in [*workdir.glob("*.log"), *workdir.glob("demo-network-*.jsonl")]:
        old.unlink()
    shutil.rmtree(workdir / "var", ignore_errors=True)
    password = secrets.token_urlsafe(16)
    base = f"http://127.0.0.1:{port}"
    env = processes.clean_environment({
        "DATABASE_URL": database_url, "VIGIE_CONFIG": str(write_config(workdir, collectors, rate_multiplier)),
        "VIGIE_SECRET_KEY": secrets.token_urlsafe(48), "VIGIE_HOST": "127.0.0.1", "VIGIE_PORT": str(port),
        "VIGIE_WEB_WORKERS": "4", "VIGIE_LOG_LEVEL": "WARNING", "VIGIE_PUBLIC_URL": base})
    db = fresh_database(database_url)
    plan = make_accounts(db, env, walls, agents, password)
    plan.update(wall_count=walls, agent_count=agents, work_seconds=work_seconds, refresh_ms=2000)
    (workdir / "plan.json").write_text(json.dumps(plan))
    (workdir / "plan.json").chmod(0o600)
    click.echo(f"load test: {walls} walls, {agents} agents, {minutes:g} min, {collectors} collectors at "
               f"{rate_multiplier:g}x the demo rate ({DEMO_RATE * rate_multiplier:.0f} posts/min), gunicorn 4 workers, "
               f"{db.engine.dialect.name}; logs in {workdir}")
    web = processes.start("web", [str(processes.BIN / "gunicorn"), "-c",
                                  str(processes.REPO / "deploy" / "gunicorn.conf.py")], env, workdir)
    collects = [processes.start(f"collect-{n + 1}", [str(processes.BIN / "vigie"), "collect"],
                                {**env, "VIGIE_WORKER_ID": f"load-{n + 1}"}, workdir) for n in range(collectors)]
    servers = [web, *collects]
    sampler = processes.RssSampler({"web master": web.pid, **{f"collect-{n + 1}": p.pid
                                                               for n, p in enumerate(collects)}},
                                   {"web worker": web.pid}, postmaster=postmaster(db))
    driver = None
    try:
        wait_ready(base)
        sampler.start()
        driver = browser.open_queue(base, WATCHER, password, plan["watch_team"], workdir / "chromium")
        since = time.time() + 2
        click.echo(f"servers ready; Chromium on /queue/{plan['watch_team']}; Locust starting")
        locust = subprocess.run(
            [str(processes.BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
             "-u", str(walls + agents), "-r", "5", "-t", f"{int(minutes * 60)}s", "--host", base,
             "--csv", str(workdir / "locust"), "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"],
            env={**processes.clean_environment({}), "LOAD_PLAN": str(workdir / "plan.json")}, cwd=workdir,
            stdout=(workdir / "locust.log").open("wb"), stderr=subprocess.STDOUT)
        until = time.time() - 10  # rows stored in the last seconds may not have had their refresh yet
        seen = browser.seen(driver)
        sampler.sample()
        names = ["web", *[f"collect-{n + 1}" for n in range(collectors)]]
        down = [name for name, p in zip(names, servers, strict=True) if p.poll() is not None]
    finally:
        sampler.halt()
        if driver is not None:
            driver.quit()
        processes.stop(servers)
    latencies, missed = store_to_row(db, seen, plan["watch_team"], since, until,
                                   workdir / "store_to_row.csv")
    logged = processes.logged_errors(workdir, names)
    stats = figures.read_locust_stats(workdir / "locust_stats.csv")
    lines, verdict = figures.judge(stats, figures.read_locust_errors(workdir / "locust_exceptions.csv"),
                                   len(logged) + len(down), sampler.maximum, latencies, missed)
    click.echo(f"Locust exit {locust.returncode}; {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    for line in lines:
        click.echo(line)
    click.echo(figures.cpu_line(sampler.cpu()))
    click.echo(f"replies by outbox state: {reply_states(db)}")
    for line in logged[:20]:
        click.echo(f"  logged: {line[:300]}")
    if down:
        click.echo(f"  servers that stopped during the run: {down}")
    if verdict.missed:
        click.echo(f"targets NOT met: {', '.join(verdict.missed)}")
        sys.exit(1)
    click.echo("all targets met")


if __name__ == "__main__":
    main()
