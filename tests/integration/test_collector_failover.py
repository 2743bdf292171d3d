"""Three `vigie collect` processes on PostgreSQL; one is SIGKILLed at a random moment of its work,
20 times: the others take its sources over within the lease (plus a poll interval), nothing is
lost or stored twice, and the wall's health data names the dead collector.

Four X recent searches, each served as X documents it by a stream that keeps growing (newest
first, ``since_id``, ``next_token`` pages of 10: the strictest cursor of the connectors), at
``/s<k>/2/tweets/search/recent``. ``VIGIE_LEASE_SECONDS=10`` (the shortest accepted) and ``VIGIE_HEARTBEAT_SECONDS=1``
keep a trial to seconds. Each trial kills one of the collectors holding leases (seeded random
pick) a random moment after the server received one of its sources' page requests (while it
fetches, enriches, or stores the small batches of that page), then watches:

* the wall's stale data (`models.heartbeats.stale_sources`: the rule `heartbeats.health` gives the wall)
  names the killed collector for each of its sources once it missed three heartbeats, and the
  wall's silent collectors (`models.heartbeats.silent`) still name it after the takeover;
* each of its sources is asked again by a survivor within the lease plus one poll interval;
* afterwards a fresh collector (a new ``VIGIE_WORKER_ID``) replaces it, so three keep running.

At the end the streams stop growing, the collectors catch up and stop: every post the server
published (each one served) is stored exactly once, each original with one queue item.
``pytest -s`` prints the summary line quoted in the README (Benchmarks: collector failover).
"""

from __future__ import annotations

import random
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from config.settings import load_settings
from dashboard.components.health import polled_intervals
from models import heartbeats
from models.db import Database, open_database
from models.tables import Mention, QueueItem, SourceRow, utcnow
from tests.conftest import PG_URL, _reset_postgres
from tests.kit import config_dir, db_upgrade, vigie_env
from tests.replay import ReplayServer, Reply, Request, x_recent_page
from tests.support import VIGIE

TRIALS = 20
SOURCES = 4
INTERVAL = 1.0  # each source's poll interval, seconds
LEASE = 10  # VIGIE_LEASE_SECONDS: the floor (10 s, and twice the heartbeat: config.ops.lease_floor)
HEARTBEAT = 1  # VIGIE_HEARTBEAT_SECONDS: gone after three, before the lease runs out
SLACK = 5.0  # seconds of scheduling noise allowed (measured up to 3.9 s at a load average of 20 on 2 cores)
STARTUP = 180.0  # seconds a collector may take to start (and the last ones to catch up) on a busy machine
PATH = "/2/tweets/search/recent"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="VIGIE_TEST_DATABASE_URL not set: PostgreSQL run skipped")]


class Stream:
    """One X recent search over a stream publishing 3 posts per request served (up to ``limit``),
    keeping the time of each request and the ids it served (as `test_sigkill_http.GrowingSearch`)."""

    def __init__(self, name: str, limit: int) -> None:
        self.name, self.limit, self.published = name, limit, 0
        self.lock = threading.Lock()
        self.served: list[tuple[float, list[int]]] = []

    def __call__(self, req: Request) -> Reply:
        with self.lock:
            self.published = newest = min(self.limit, self.published + 3)
        words = f"@AureliaBank {self.name}: my card was declined again, ticket " + "{n}"
        reply, ids = x_recent_page(req, newest, words)
        with self.lock:
            self.served.append((time.time(), ids))
        return reply

    def asked_since(self, moment: float) -> float | None:
        """When this stream was first asked for a page after ``moment`` (time.time()), if it was."""
        with self.lock:
            return next((at for at, _ in self.served if at > moment), None)

    def served_ids(self) -> set[str]:
        with self.lock:
            return {str(n) for _, ids in self.served for n in ids}


@dataclass
class Fleet:
    """The running collectors, by worker id, each with its stderr file."""

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    files: list[IO[bytes]] = field(default_factory=list)
    started: int = 0

    def start(self) -> str:
        self.started += 1
        worker = f"collector-{self.started}"
        err = (self.logs / f"{worker}.log").open("wb")
        self.files.append(err)
        self.procs[worker] = subprocess.Popen([VIGIE, "collect"], env={**self.env, "VIGIE_WORKER_ID": worker},
                                              stdout=subprocess.DEVNULL, stderr=err)
        return worker

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for f in self.files:
            f.close()


def _leases(db: Database) -> dict[str, str | None]:
    with db.read() as s:
        return {name: owner for name, owner in s.execute(select(SourceRow.name, SourceRow.lease_owner))}


def _expiries(db: Database, names: list[str]) -> dict[str, float]:
    """{source: when its lease runs out, as time.time()}."""
    with db.read() as s:
        rows = s.execute(select(SourceRow.name, SourceRow.lease_until).where(SourceRow.name.in_(names)))
        return {name: until.replace(tzinfo=UTC).timestamp() for name, until in rows}


def _beating(db: Database) -> set[str]:
    """Collectors whose scheduler runs: beaten since their first beat, and not stopped."""
    with db.read() as s:
        return {b.worker_id for b in heartbeats.heartbeats(s) if b.stopped_at is None and b.beat_at > b.started_at}


def _stored(db: Database) -> dict[str, list[str]]:
    with db.read() as s:
        rows = s.execute(select(SourceRow.name, Mention.external_id).join(Mention, Mention.source_id == SourceRow.id))
        out: dict[str, list[str]] = {}
        for name, external_id in rows:
            out.setdefault(name, []).append(external_id)
        return out


def _until(timeout: float, step: float = 0.05) -> Iterator[float]:
    """Seconds elapsed, every ``step``, until ``timeout``."""
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < timeout:
        yield elapsed
        time.sleep(step)


def test_three_collectors_take_over_a_killed_ones_sources_over_20_trials(tmp_path: Path, replay: ReplayServer) -> None:
    _reset_postgres(PG_URL).engine.dispose()
    streams = {f"search-{k}": Stream(f"search-{k}", limit=100_000) for k in range(SOURCES)}
    for k, stream in enumerate(streams.values()):
        replay.route(f"/s{k}{PATH}", stream)
    sources = [{"name": name, "kind": "x", "query": "@AureliaBank", "interval_seconds": INTERVAL, "max_results": 10,
                "api_url": f"{replay.url}/s{k}", "bearer_token_env": "TEST_X_TOKEN"}
               for k, name in enumerate(streams)]
    env = vigie_env(PG_URL, config=config_dir(tmp_path, sources={"sources": sources}), batch_size=4,
                    log_level="WARNING", heartbeat_seconds=HEARTBEAT, lease_seconds=LEASE,
                    extra={"TEST_X_TOKEN": "token-for-tests"})
    db_upgrade(env)
    settings = load_settings(env)
    intervals = polled_intervals(settings)  # what the wall passes to stale_sources
    db = open_database(PG_URL)
    (tmp_path / "logs").mkdir()
    fleet = Fleet(env, tmp_path / "logs")
    rng = random.Random(20261204)
    takeovers: list[float] = []
    mid_batch = 0
    try:
        for _ in range(3):
            fleet.start()
        for _elapsed in _until(STARTUP):  # every source leased and polled
            if all(_leases(db).values()) and all(s.served for s in streams.values()):
                break
        for trial in range(TRIALS):
            dead = {w: p.returncode for w, p in fleet.procs.items() if p.poll() is not None}
            assert not dead, f"trial {trial}: died by themselves: {dead} (see {fleet.logs})"
            for _elapsed in _until(STARTUP):  # the last replacement may still be starting: two up at least
                if len(_beating(db) & set(fleet.procs)) >= 2:
                    break
            leases = _leases(db)
            holders = sorted({o for o in leases.values() if o is not None and o in fleet.procs})
            assert holders, f"trial {trial}: no running collector holds a lease: {leases}"
            victim = rng.choice(holders)
            theirs = [name for name, owner in leases.items() if owner == victim]
            mark = time.time()
            for _elapsed in _until(10, 0.005):  # until the server receives one of its page requests
                if any(streams[n].asked_since(mark) for n in theirs):
                    break
            # then a random moment of its work: a page of 10 posts is fetched, scored and stored in
            # about a tenth of a second here, so most kills fall inside it (0.3 s let 4 of 20 do, once)
            time.sleep(rng.uniform(0.0, 0.12))
            proc = fleet.procs.pop(victim)
            assert proc.poll() is None, f"trial {trial}: {victim} died by itself (see {fleet.logs})"
            proc.send_signal(signal.SIGKILL)
            killed = time.time()
            proc.wait(timeout=10)
            stored, expiry = _stored(db), _expiries(db, theirs)
            if any(streams[n].served_ids() - set(stored.get(n, [])) for n in theirs):
                mid_batch += 1  # served to it, not stored yet: it died inside a page
            fleet.start()  # a fresh collector replaces it (it starts while the others take over)
            shown_dead: set[str] = set()
            taken: dict[str, float] = {}
            for _elapsed in _until(LEASE + INTERVAL + SLACK + 10, 0.1):
                with db.read() as s:
                    stale = heartbeats.stale_sources(s, intervals, utcnow())
                shown_dead |= {n for n in theirs if f"collector {victim} silent" in stale.get(n, "")}
                for n in theirs:
                    # (a request the server logs just after the kill may be the victim's last: a
                    # survivor can only ask once the lease ran out, checked by nothing stored twice)
                    if n not in taken and (at := streams[n].asked_since(max(killed, expiry[n] - 1))) is not None:
                        taken[n] = at
                if len(taken) == len(theirs) and shown_dead == set(theirs):
                    break
            assert set(taken) == set(theirs), f"trial {trial}: {victim}'s sources not taken over: {taken}"
            late = {n: round(at - expiry[n], 2) for n, at in taken.items() if at - expiry[n] > INTERVAL + SLACK}
            assert not late, f"trial {trial}: taken over this long after the lease ran out: {late}"
            assert shown_dead == set(theirs), f"trial {trial}: the wall never named {victim} for {theirs}"
            with db.read() as s:
                beat = next(b for b in heartbeats.heartbeats(s) if b.worker_id == victim)
                assert heartbeats.collector_gone(beat, utcnow()) is not None
                # its sources taken over, the wall's strip still names it (`heartbeats.silent`, as the wall reads it)
                assert victim in [worker for worker, _why in heartbeats.silent(s, utcnow())]
            assert {o for n, o in _leases(db).items() if n in theirs} <= set(fleet.procs)
            takeovers += [at - killed for at in taken.values()]
        for stream in streams.values():  # the streams stop growing: the collectors catch up
            stream.limit = stream.published
        for _elapsed in _until(STARTUP, 0.5):
            stored = _stored(db)
            if all(len(stored.get(n, [])) >= s.published for n, s in streams.items()):
                break
    finally:
        fleet.stop_all()
    stored = _stored(db)
    with db.read() as s:
        queued = s.scalar(select(func.count(func.distinct(QueueItem.mention_id))))
        originals = s.scalar(select(func.count()).select_from(Mention).where(Mention.duplicate_of_id.is_(None)))
        items = s.scalar(select(func.count()).select_from(QueueItem))
    db.engine.dispose()
    for name, stream in streams.items():
        ids = stored.get(name, [])
        assert len(ids) == len(set(ids)), f"{name}: a post was stored twice"
        published = {str(n) for n in range(1, stream.published + 1)}
        assert stream.served_ids() == published
        assert set(ids) == published, f"{name}: lost {sorted(published - set(ids), key=int)[:5]}"
    assert queued == items == originals, "one queue item per original mention"
    p50, worst = statistics.median(takeovers), max(takeovers)
    print(f"\nfailover: {TRIALS} trials, {mid_batch} kills mid-batch, {len(takeovers)} sources taken over, "
          f"takeover p50 {p50:.2f} s max {worst:.2f} s (lease {LEASE} s, interval {INTERVAL} s), "
          f"{sum(len(v) for v in stored.values())} posts stored once each")
    assert mid_batch >= TRIALS // 4  # the kills did fall inside pages
