"""`vigie bench dashboard`: server time of the live-update callbacks over a large database.

A scratch database (``--database-url``, by default ``var/bench-dashboard.db``, emptied
first; refused if it holds data the benchmarks did not create: `models.scratch`) is seeded
with N enriched mentions spread over the last ``--days`` days (`vigie.bench_seed`: distinct copies
of enriched demo posts, inserted in bulk; ``--reuse`` keeps a database seeded so already), and each round
a few new items arrive, as in the live room. The live ticks (queue, wall, triage, sources, an
open item's page) are then posted to Dash's real endpoint through Flask's test client and
timed end to end on the server."""

from __future__ import annotations

import json
import secrets
import statistics
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import click

from collectors.ingest import RunReport, ingest
from collectors.pipeline import Enricher
from collectors.types import Parsed
from config.settings import Settings
from models.db import Database
from models.tables import utcnow
from vigie.bench import demo_posts
from vigie.bench_seed import SEED_SOURCE, seeded_database


def callback_payload(app: Any, output_part: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]]) -> Any:
    for key, spec in app.callback_map.items():
        if output_part in key and any(i["id"] == inputs[0]["id"] for i in spec["inputs"]):
            outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]
            return {"output": key, "outputs": outputs, "inputs": inputs, "state": state,
                    "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    raise RuntimeError(f"no callback with output {output_part}")


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000
    return f"p50 {p50:7.1f} ms   p95 {p95:7.1f} ms"


def run_dashboard(settings: Settings, count: int, rounds: int, url: str, days: int = 7,
                  reuse: bool = False) -> None:
    from dashboard.app import create_app, settle

    db, source_id = seeded_database(settings, count, days, url, reuse)
    app = create_app(replace(settings, database_url=url), db)
    settle(app)  # as a server process does (dashboard/wsgi.py)
    team = settings.teams[0].key
    client = _signed_in_client(app, db, settings, team, "agent")  # timed through the login guard, as users are
    lead = _signed_in_client(app, db, settings, team, "lead")
    operator = _signed_in_client(app, db, settings, team, "operator")  # the wall is not an agent's page
    enricher = Enricher(settings)
    # New posts each run, also on a reused database: the same ids would be known already (nothing
    # stored, no marker moved: "3 new items" would time nothing new), the same author and text a
    # repost (a copy, no queue item).
    run = secrets.token_hex(4)
    live = [replace(p, external_id=f"{p.external_id}-{run}", author_handle=f"{p.author_handle or '@b'}{run}")
            for p in demo_posts((rounds + 1) * 3 + 10, seed=99)]
    with db.read() as session:
        from models import queries

        known = [r["id"] for r in queries.open_queue(session, team)]
    timings: dict[str, list[float]] = {"queue tick, 3 new items": [], "queue tick, nothing new": [],
                                       "wall tick, 3 new items": [], "wall tick, nothing new": [],
                                       "wall tick, all recomputed": [],
                                       "triage tick, re-read": [], "sources tick": [],
                                       "item page tick": []}
    # One round more than asked, the first not counted: a running worker has served its screens
    # before (the wall's 24-hour panels already drawn, the triage lists read once), which round 0 of a
    # new process has not: its "3 new items" wall tick computed every panel, as "all recomputed" times.
    for n in range(rounds + 1):
        with db.read() as session:
            before = queries.newest_change(session)
        ingest(db, source_id, enricher, Parsed(live[n * 3 : n * 3 + 3]), utcnow(), RunReport(SEED_SOURCE),
               chunk_size=None)
        with db.read() as session:
            after = queries.newest_change(session)
        if after == before:
            raise RuntimeError("a round stored no new item: the ticks timed 'with new items' would time nothing new")
        # The page's position: just before this round's items, or already past them (a tick
        # that finds nothing new, but still re-checks the last seconds for late commits).
        for label, key in (("queue tick, 3 new items", before), ("queue tick, nothing new", after)):
            state = {"team": team, "key": list(key), "known": known, "floor": before[0]}
            body = callback_payload(app, "queue-state.data", [{"id": "queue-tick", "property": "n_intervals",
                                     "value": n + 1}], [{"id": "queue-state", "property": "data", "value": state}])
            timings[label].append(_post(client, body))
        # The wall: its live panels recomputed after new items (the 24-hour panels still current),
        # every panel recomputed (the first screen after the 15 s step; the other screens of the
        # worker then share it), and nothing new. The first wall call after the write reads cold pages.
        _clear_of_step(_wall_module().CLOCK_SECONDS)
        current_markers = _wall_markers(app, db)
        for label, markers in (("wall tick, 3 new items", ("stale", current_markers[1])),
                               ("wall tick, all recomputed", ("stale", "stale")),
                               ("wall tick, nothing new", current_markers)):
            # Each timed tick reads the markers itself (the first screen of its second, not one of
            # those that share what it read: `dashboard.pages.wall.MARKER_SECONDS`).
            _wall_module()._markers_now.forget()
            if label != "wall tick, nothing new":
                _clear_wall_cache(everything=label == "wall tick, all recomputed")
            body = callback_payload(app, "wall-marker.data", [{"id": "wall-tick", "property": "n_intervals",
                                     "value": n + 1}, {"id": "wall-scale", "property": "data", "value": 1.0}],
                                    [{"id": "wall-marker", "property": "data", "value": markers[0]},
                                                        {"id": "wall-slow-marker", "property": "data",
                                                         "value": markers[1]}])
            timings[label].append(_post(operator, body))
        # The lead's triage page when its marker moved (an item changed, or 5 s passed): it re-reads
        # its bounded lists (escalated, at risk or breached, unassigned) and the workload. What
        # another lead screen of the worker read for that marker is forgotten: a re-read, timed.
        _page_module("/triage")._cache.forget()
        body = callback_payload(app, "triage-known.data", [{"id": "triage-tick", "property": "n_intervals",
                                 "value": n + 1}], [{"id": "triage-known", "property": "data",
                                                     "value": {"rows": {}, "load": ""}}])
        timings["triage tick, re-read"].append(_post(lead, body))
        # The sources page (its marker from the previous round: a new poll moved it) and an open
        # item's page (presence noted, the item re-read when it changed).
        body = callback_payload(app, "sources-marker.data", [{"id": "sources-tick", "property": "n_intervals",
                                 "value": n + 1}], [{"id": "sources-marker", "property": "data", "value": ""}])
        timings["sources tick"].append(_post(operator, body))
        item = {"id": known[n % len(known)] if known else 1, "changed": ""}
        body = callback_payload(app, "mention-presence.children", [{"id": "mention-tick", "property": "n_intervals",
                                 "value": n + 1}], [{"id": "mention-item", "property": "data", "value": item}])
        timings["item page tick"].append(_post(client, body))
    first = {label: samples.pop(0) for label, samples in timings.items()}  # the warm-up round
    click.echo(f"dashboard benchmark: {count:,} mentions over {days} days, {rounds} rounds after one untimed, "
               f"{db.engine.dialect.name}, 3 new items per round (targets: ticks p95 <= 100 ms, "
               f"wall all recomputed <= 300 ms)")
    for label, samples in timings.items():
        click.echo(f"  {label:<26} {_percentiles(samples)}")
    click.echo("  the untimed round (a new process's first screens): " + "; ".join(
        f"{label}: {seconds * 1000:.1f} ms" for label, seconds in first.items()))
    _jobs(db, settings, count, days)


def _jobs(db: Database, settings: Settings, count: int, days: int = 7) -> None:
    """The collector's reporting jobs over the same database: a spike-watch run (the last
    ``(baseline_windows + 1) x window_minutes``), the summary's fold (the whole history once, then a
    run with nothing new), and a whole day's summary (with its 7 days before) from the running
    counts, its PDF (the first in the process apart: fpdf2 imported, fonts parsed), the same summary
    read item by item (the path before the counts), and today's so far (its 7 days before compared
    up to the same time of day from their hourly counts: `summary_counts.core_until`), and, since that
    depends on the time of day, the day before as it stood at 00:30, 13:30 and 23:54 (SO_FAR_HOURS)."""
    from collectors.jobs.spike_watch import run_spike_watch
    from models.summary import compute_summary, compute_summary_exact, day_bounds, local_day
    from models.summary_counts import compute_summary_stored
    from models.summary_export import summary_pdf
    from models.summary_fold import fold

    timings: dict[str, list[float]] = {"spike watch run": [], "summary fold, nothing new": [],
                                       "daily summary, one day": [],
                                       "summary PDF, first": [],  # in the process: fpdf2 imported, fonts parsed
                                       "summary PDF": [],
                                       "daily summary, item by item": [], "daily summary, today": [],
                                       "daily summary, so far": []}
    for _ in range(10):
        start = time.perf_counter()
        run_spike_watch(db, settings)
        timings["spike watch run"].append(time.perf_counter() - start)
    zone = settings.reporting.timezone
    start = time.perf_counter()
    report = fold(db, zone)
    history = time.perf_counter() - start
    day = local_day(utcnow(), zone) - timedelta(days=1)
    for n in range(5):
        start = time.perf_counter()
        fold(db, zone)
        timings["summary fold, nothing new"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with db.read() as session:
            figures = compute_summary(session, settings, day)
        timings["daily summary, one day"].append(time.perf_counter() - start)
        start = time.perf_counter()
        summary_pdf(figures)
        timings["summary PDF" if n else "summary PDF, first"].append(time.perf_counter() - start)
        if n < 2:  # slow: twice is enough to compare
            start = time.perf_counter()
            with db.read() as session:
                compute_summary_exact(session, settings, day)
            timings["daily summary, item by item"].append(time.perf_counter() - start)
            start = time.perf_counter()
            with db.read() as session:  # its 7 days before up to the same time: grouped counts of those hours
                compute_summary(session, settings, day + timedelta(days=1))
            timings["daily summary, today"].append(time.perf_counter() - start)
            # Today's cost depends on the time of day (the partial hour, the day's first hour): the
            # day before as it stood at three times of its day, from its counts, whenever this runs.
            for hours in SO_FAR_HOURS:
                as_then = day_bounds(day, zone)[0] + timedelta(hours=hours)
                start = time.perf_counter()
                with db.read() as session:
                    compute_summary_stored(session, settings, day, as_then)
                timings["daily summary, so far"].append(time.perf_counter() - start)
    click.echo(f"collector jobs: {count:,} mentions over {days} days ({count // days:,} a day)")
    click.echo(f"  {'summary fold, history':<26} {history:7.2f} s once ({report.items:,} items, "
               f"{report.mentions:,} posts)")
    for label, samples in timings.items():
        click.echo(f"  {label:<26} {_percentiles(samples)}")
    click.echo(f"  {figures['volume']['mentions']:,} posts and {figures['sla']['overall']['items']:,} items that day;"
               " target for the summary: p95 < 1 s")


def _signed_in_client(app: Any, db: Database, settings: Settings, team: str, role: str) -> Any:
    """A test client signed in through the login form with ``role`` (of ``team`` for an agent or a
    lead), an account made in the scratch database."""
    import re

    from models.users import add_user

    password = secrets.token_urlsafe(16)
    name = f"bench.{role}.{secrets.token_hex(3)}"  # a reused database keeps the accounts of earlier runs
    with db.write.begin() as session:
        teams = [team] if role in ("agent", "lead") else []
        add_user(session, name, role, teams, password, settings.team_keys, actor="bench")
    client = app.server.test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    answer = client.post("/login", data={"csrf": csrf.group(1), "name": name, "password": password})
    if answer.status_code != 302:
        raise RuntimeError("the benchmark could not sign in")
    client.get("/")  # let Dash set up its routes
    return client


def _page_module(path: str) -> Any:
    """A page's module as Dash imported it (Dash Pages names modules after their path: a plain
    `import dashboard.pages.wall` would load a second copy, with a cache of its own)."""
    import sys

    import dash

    return sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == path)]


def _wall_module() -> Any:
    return _page_module("/wall")


def _wall_markers(app: Any, db: Database) -> tuple[str, str]:
    with app.server.app_context(), db.read() as session:  # the marker reads the configured sources
        markers: tuple[str, str] = _wall_module()._markers(session, utcnow())
        return markers


SO_FAR_HOURS = (0.5, 13.5, 23.9)  # "daily summary, so far": 00:30, 13:30 and 23:54 of the day before
STEP_MARGIN = 1.5  # seconds: more than the three wall ticks of a round take


def _clear_of_step(seconds: int) -> None:
    """Wait past the wall's next clock step when it is less than STEP_MARGIN away. A tick crossing
    one recomputes what moves with time (the 24-hour panels at every third step): "3 new items"
    and "nothing new" then time what they say, and the recomputing of everything is timed apart."""
    left = seconds - time.time() % seconds
    if left < STEP_MARGIN:
        time.sleep(left + 0.05)


def _clear_wall_cache(everything: bool) -> None:
    """Forget what the wall computed (the live panels, or all), so that the next tick computes it."""
    _wall_module()._cache.forget("" if everything else "live")
    _wall_module()._markers_now.forget()


def _post(client: Any, body: dict[str, Any]) -> float:
    start = time.perf_counter()
    response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    elapsed = time.perf_counter() - start
    if response.status_code not in (200, 204):
        raise RuntimeError(f"callback answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed
