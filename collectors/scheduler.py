"""The collector process: one APScheduler job per enabled source (``source:<name>``), the
collector's heartbeat (`collectors.heartbeat`), and the scheduled jobs of the `collectors.jobs.JOBS`
table (the SLA watch, the spike watch, the daily summary, the notification sender, ANALYZE, and the
demo's desk in `vigie demo`).

APScheduler runs only here (`vigie collect`, or inside `vigie demo`), never in the
dashboard's workers. Jobs have explicit ids, `replace_existing`, `coalesce` and
`max_instances=1`, and an in-memory job store: several collector processes never
share a job store; they split sources through the lease rows in the database.
"""

from __future__ import annotations

import functools
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from collectors.heartbeat import beat_once, heartbeat_job, mark_stopped
from collectors.ingest import RunReport
from collectors.jobs import JOBS, Job
from collectors.pipeline import Enricher
from collectors.runner import poll_source, release_leases, sync_sources
from collectors.sources import REGISTRY
from config.settings import Settings, SourceConfig
from models.db import Database

log = logging.getLogger("vigie.collect")
SOURCE_THREADS = 4  # polls running at once in one collector


def polled_sources(settings: Settings) -> list[SourceConfig]:
    """Enabled sources the scheduler polls: push sources (webhooks) are fed by their senders."""
    return [c for c in settings.sources if c.enabled and not getattr(REGISTRY.get(c.kind), "push", False)]


def _poll(db: Database, settings: Settings, enricher: Enricher, cfg: SourceConfig, stop: threading.Event) -> None:
    report = poll_source(db, settings, enricher, cfg, stop=stop)
    if report.stored or report.rejected or report.error:
        log.info(
            "source %s: %d stored (%d queued, %d copies), %d already stored, %d rejected%s",
            cfg.name,
            report.stored,
            report.queued,
            report.copies,
            report.skipped,
            report.rejected,
            f", error: {report.error}" if report.error else "",
        )


def scheduled_jobs(demo_desk: bool = False) -> list[Job[Any]]:
    """The rows of `JOBS` this collector runs: the demo's only in `vigie demo` (``demo_desk``)."""
    return [job for job in JOBS if demo_desk or not job.demo_only]


def run_job(job: Job[Any], db: Database, settings: Settings, stop: threading.Event | None = None) -> None:
    """One run of a scheduled job: a failure is logged, never raised into the scheduler (the job
    runs again at its next interval), and the report is logged when it has something to say."""
    try:
        run = job.function()
        report = run(db, settings, stop=stop) if job.heeds_stop else run(db, settings)
    except Exception:
        log.exception("job %s (%s) failed; it runs again in %g s", job.id, job.name, job.every_seconds(settings))
        return
    log_line = job.report_line()
    line = log_line(report) if log_line is not None else None
    if line:
        log.info("%s", line)


def create_scheduler(settings: Settings, db: Database, stop: threading.Event, blocking: bool = True,
                     demo_desk: bool = False) -> BaseScheduler:
    """A scheduler with one job per enabled source, each first run right away, and the jobs of
    `collectors.jobs.JOBS`. Running polls (and the demo desk) stop once ``stop`` is set (by
    `shutdown`). ``demo_desk`` (`vigie demo` only) adds the demo's simulated agents."""
    sync_sources(db, settings)
    enricher = Enricher(settings)
    enricher.warm_up()  # before the first beat: a collector that beats can take sources over at once
    beat_once(db, settings, starting=True)  # a database that refuses the heartbeat fails the start
    # Polls have their pool, the scheduled jobs theirs: a long daily summary or seal never holds up
    # a poll, nor the takeover of a dead collector's sources. The short outgoing jobs (replies,
    # notifications, queue counts: `Job.outgoing`) have a thread each, so a first summary fold over a
    # long history on all four "jobs" threads never delays them past their grace time.
    jobs = scheduled_jobs(demo_desk)
    executors = {"default": ThreadPoolExecutor(max_workers=SOURCE_THREADS), "jobs": ThreadPoolExecutor(max_workers=4),
                 "outgoing": ThreadPoolExecutor(max_workers=max(1, sum(job.outgoing for job in jobs))),
                 "heartbeat": ThreadPoolExecutor(max_workers=1)}
    defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler: BaseScheduler = cls(executors=executors, job_defaults=defaults, timezone=UTC)
    now = datetime.now(UTC)
    scheduler.add_job(heartbeat_job, "interval", seconds=settings.ops.heartbeat_seconds, id="heartbeat",
                      name="collector heartbeat", replace_existing=True, args=(db, settings), executor="heartbeat",
                      next_run_time=now + timedelta(seconds=settings.ops.heartbeat_seconds))
    for cfg in polled_sources(settings):
        scheduler.add_job(
            _poll,
            "interval",
            seconds=cfg.interval_seconds,
            id=f"source:{cfg.name}",
            name=f"poll {cfg.name} ({cfg.kind})",
            replace_existing=True,
            args=(db, settings, enricher, cfg, stop),
            next_run_time=now,
        )
    for job in jobs:
        job.function(), job.report_line()  # a misnamed function fails here, at start, not at each run
        scheduler.add_job(
            functools.partial(run_job, job),  # called (db, settings, stop), or by hand (db, settings)
            "interval",
            seconds=job.every_seconds(settings),
            id=job.id,
            name=job.name,
            replace_existing=True,
            args=(db, settings, stop),
            executor="outgoing" if job.outgoing else "jobs",
            next_run_time=now + timedelta(seconds=job.first_seconds(settings)),
        )
    return scheduler


def shutdown(scheduler: BaseScheduler, stop: threading.Event, settings: Settings, db: Database) -> None:
    """Stop taking jobs, let the running ones finish their current page, free our leases, and mark
    the heartbeat stopped (this collector's sources turn stale until another collector takes them)."""
    stop.set()
    if scheduler.running:
        scheduler.shutdown(wait=True)
    release_leases(db, settings.worker_id)
    mark_stopped(db, settings)


def collect_once(settings: Settings, db: Database) -> list[RunReport]:
    """Poll every enabled source once, one after the other (`vigie collect --once`)."""
    sync_sources(db, settings)
    enricher = Enricher(settings)
    reports = [poll_source(db, settings, enricher, cfg) for cfg in polled_sources(settings)]
    release_leases(db, settings.worker_id)
    return reports
