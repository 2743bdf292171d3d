"""The collector process: one APScheduler job per enabled source.

APScheduler runs only here (`vigie collect`, or inside `vigie demo`), never in the
dashboard's workers. Jobs have explicit ids, `replace_existing`, `coalesce` and
`max_instances=1`, and an in-memory job store: several collector processes never
share a job store; they split sources through the lease rows in the database.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from collectors.pipeline import Enricher
from collectors.runner import RunReport, poll_source, release_leases, sync_sources
from collectors.sources import REGISTRY
from config.settings import Settings, SourceConfig
from models.db import Database, analyze

log = logging.getLogger("vigie.collect")


def polled_sources(settings: Settings) -> list[SourceConfig]:
    """Enabled sources the scheduler polls: push sources (webhooks) are fed by their senders."""
    return [c for c in settings.sources if c.enabled and not getattr(REGISTRY.get(c.kind), "push", False)]


def _job(db: Database, settings: Settings, enricher: Enricher, cfg: SourceConfig, stop: threading.Event) -> None:
    report = poll_source(db, settings, enricher, cfg, stop=stop)
    if report.stored or report.error:
        log.info(
            "source %s: %d stored (%d queued, %d copies), %d already had%s",
            cfg.name,
            report.stored,
            report.queued,
            report.copies,
            report.skipped,
            f", error: {report.error}" if report.error else "",
        )


def create_scheduler(settings: Settings, db: Database, stop: threading.Event, blocking: bool = True) -> BaseScheduler:
    """A scheduler with one job per enabled source, each first run right away. Running polls
    stop between pages once ``stop`` is set (by `shutdown`)."""
    sync_sources(db, settings)
    enricher = Enricher(settings)
    executors = {"default": ThreadPoolExecutor(max_workers=4)}
    defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler: BaseScheduler = cls(executors=executors, job_defaults=defaults, timezone=UTC)
    for cfg in polled_sources(settings):
        scheduler.add_job(
            _job,
            "interval",
            seconds=cfg.interval_seconds,
            id=f"source:{cfg.name}",
            name=f"poll {cfg.name} ({cfg.kind})",
            replace_existing=True,
            args=(db, settings, enricher, cfg, stop),
            next_run_time=datetime.now(UTC),
        )
    scheduler.add_job(
        _analyze,
        "interval",
        hours=1,
        id="maintenance:analyze",
        name="refresh query planner statistics",
        replace_existing=True,
        args=(db,),
        next_run_time=datetime.now(UTC) + timedelta(minutes=2),
    )
    return scheduler


def _analyze(db: Database) -> None:
    try:
        analyze(db)
    except Exception:  # statistics are an optimisation: never let them stop collection
        log.exception("ANALYZE failed")


def shutdown(scheduler: BaseScheduler, stop: threading.Event, settings: Settings, db: Database) -> None:
    """Stop taking jobs, let the running ones finish their current page, free our leases."""
    stop.set()
    if scheduler.running:
        scheduler.shutdown(wait=True)
    release_leases(db, settings.worker_id)


def collect_once(settings: Settings, db: Database) -> list[RunReport]:
    """Poll every enabled source once, one after the other (`vigie collect --once`)."""
    sync_sources(db, settings)
    enricher = Enricher(settings)
    reports = [poll_source(db, settings, enricher, cfg) for cfg in polled_sources(settings)]
    release_leases(db, settings.worker_id)
    return reports
