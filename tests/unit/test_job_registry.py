"""The scheduled-jobs table (collectors/jobs/__init__.py) is what the scheduler schedules: a real
APScheduler, not started, built against a temp SQLite file; and the one wrapper every job runs in."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.base import BaseScheduler

import collectors.jobs
from collectors.jobs import JOBS, Job
from collectors.scheduler import create_scheduler, run_job
from config.settings import Settings
from models.db import Database

IDS = ["maintenance:analyze", "sla:watch", "alerts:detect", "summary:daily", "summary:fold", "queue:counts",
       "notify:send", "replies:send",
       "archive:seal", "archive:purge", "archive:anchor", "sentiment:rescore", "demo:desk"]


def _built(settings: Settings, db: Database, demo_desk: bool) -> tuple[BaseScheduler, datetime, datetime]:
    before = datetime.now(UTC)
    scheduler = create_scheduler(settings, db, threading.Event(), blocking=False, demo_desk=demo_desk)
    return scheduler, before, datetime.now(UTC)


@pytest.mark.parametrize("demo_desk", [False, True])
def test_the_scheduler_schedules_the_table(base_settings: Settings, sqlite_db: Database, demo_desk: bool) -> None:
    detector = replace(base_settings.reporting.detector, every_seconds=45)  # an interval read from the settings
    settings = replace(base_settings, sources=(), worker_id="test-worker",
                       reporting=replace(base_settings.reporting, detector=detector))
    scheduler, before, after = _built(settings, sqlite_db, demo_desk)
    scheduled = {job.id: job for job in scheduler.get_jobs()}
    heartbeat = scheduled.pop("heartbeat")  # the process's own (collectors/heartbeat.py), not a row of JOBS
    assert heartbeat.trigger.interval == timedelta(seconds=settings.ops.heartbeat_seconds)
    assert heartbeat.executor == "heartbeat"  # never waits behind long polls in the default pool
    wanted = [job for job in JOBS if demo_desk or not job.demo_only]
    assert sorted(scheduled) == sorted(job.id for job in wanted)
    assert ("demo:desk" in scheduled) is demo_desk
    for job in wanted:
        every = timedelta(seconds=job.every_seconds(settings))
        first = timedelta(seconds=job.first_seconds(settings))
        assert scheduled[job.id].name == job.name
        assert scheduled[job.id].trigger.interval == every, job.id
        assert before + first <= scheduled[job.id].next_run_time <= after + first, job.id
    assert scheduled["alerts:detect"].trigger.interval == timedelta(seconds=45)
    assert JOBS[IDS.index("alerts:detect")].first_seconds(settings) == 15


def test_the_ids_and_the_first_runs_are_kept(base_settings: Settings) -> None:
    assert [job.id for job in JOBS] == IDS
    assert [job.first_seconds(base_settings) for job in JOBS] == [120, 5, 15, 20, 15, 5, 10, 5, 10, 300, 30, 20, 10]
    assert [job.every_seconds(base_settings) for job in JOBS] == [3600, 30, 30, 300, 60, 10, 10, 5, 60, 3600, 600, 30,
                                                                  10]
    assert [job.id for job in JOBS if job.demo_only] == ["demo:desk"]


def test_every_job_file_is_registered_and_documented() -> None:
    registered = {job.function().__module__ for job in JOBS}
    modules = {f"collectors.jobs.{m.name}" for m in pkgutil.iter_modules(collectors.jobs.__path__)}
    assert modules == registered
    for name in modules:
        doc = importlib.import_module(name).__doc__ or ""
        assert "every" in doc.lower() and any(job.id in doc for job in JOBS), name


def _job(run: Any, log_line: Any = None) -> Job[Any]:
    return Job("test:job", "a test job", every=60, first=1, run=run, log_line=log_line)


def test_a_failing_job_is_logged_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken(db: Any, settings: Any) -> None:
        raise RuntimeError("the database is gone")

    with caplog.at_level(logging.INFO, logger="vigie.collect"):
        run_job(_job(broken), None, None)  # type: ignore[arg-type]
    [record] = caplog.records
    assert record.levelno == logging.ERROR and "test:job" in record.getMessage()
    assert record.exc_info is not None and "the database is gone" in caplog.text


def test_a_report_is_logged_only_when_it_has_something_to_say(caplog: pytest.LogCaptureFixture) -> None:
    def line(report: int) -> str | None:
        return f"test job: {report} done" if report else None

    with caplog.at_level(logging.INFO, logger="vigie.collect"):
        run_job(_job(lambda db, settings: 0, line), None, None)  # type: ignore[arg-type]
        run_job(_job(lambda db, settings: 3, line), None, None)  # type: ignore[arg-type]
        run_job(_job(lambda db, settings: 3), None, None)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == ["test job: 3 done"]


OUTGOING = ("replies:send", "notify:send", "queue:counts")


def test_the_outgoing_jobs_run_while_long_jobs_hold_every_jobs_thread(base_settings: Settings,
                                                                       sqlite_db: Database) -> None:
    """A real scheduler, started: four long jobs (a first summary fold over a big history, a seal…)
    hold every thread of the "jobs" executor; replies, notifications and the queue's counts still run."""
    settings = replace(base_settings, sources=(), worker_id="test-worker")
    scheduler = create_scheduler(settings, sqlite_db, threading.Event(), blocking=False)
    release, ran = threading.Event(), {name: threading.Event() for name in OUTGOING}
    hogs_started = threading.Semaphore(0)

    def hog() -> None:
        hogs_started.release()
        release.wait(30)

    now = datetime.now(UTC)
    for k in range(4):
        scheduler.add_job(hog, "interval", seconds=3600, id=f"hog:{k}", executor="jobs", next_run_time=now)
    later = now + timedelta(seconds=1)  # once the hogs have the threads
    for name in OUTGOING:
        scheduler.modify_job(name, func=ran[name].set, args=(), next_run_time=later)
    for job in scheduler.get_jobs():
        if job.id not in OUTGOING and not job.id.startswith("hog:"):
            scheduler.remove_job(job.id)  # the heartbeat and the other jobs: not this test's subject
    scheduler.start()
    try:
        assert all(hogs_started.acquire(timeout=10) for _ in range(4)), "the long jobs did not start"
        late = [name for name, event in ran.items() if not event.wait(10)]
        assert not late, f"waited behind the long jobs: {late}"
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert [job.id for job in JOBS if job.outgoing] == ["queue:counts", "notify:send", "replies:send"]
