"""The collector process: one APScheduler job per enabled source, plus the SLA watch
(``sla:watch``, every 30 s) and the notification sender (``notify:send``, every 10 s).

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

from collectors.demo_desk import RUN_SECONDS, run_demo_desk
from collectors.notify import deliver_pending
from collectors.pipeline import Enricher
from collectors.runner import RunReport, poll_source, release_leases, sync_sources
from collectors.sla_watch import run_sla_watch
from collectors.sources import REGISTRY
from collectors.spike_watch import run_spike_watch
from collectors.summary_job import run_daily_summary
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


def create_scheduler(settings: Settings, db: Database, stop: threading.Event, blocking: bool = True,
                     demo_desk: bool = False) -> BaseScheduler:
    """A scheduler with one job per enabled source, each first run right away. Running polls
    stop between pages once ``stop`` is set (by `shutdown`). ``demo_desk`` (`vigie demo` only)
    adds the demo's simulated agents (collectors/demo_desk.py)."""
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
    _add_alert_jobs(scheduler, settings, db)
    if demo_desk:
        scheduler.add_job(
            _demo_desk,
            "interval",
            seconds=RUN_SECONDS,
            id="demo:desk",
            name="the demo's simulated agents claim and close items",
            replace_existing=True,
            args=(db, settings, stop),
            next_run_time=datetime.now(UTC) + timedelta(seconds=RUN_SECONDS),
        )
    return scheduler


# --- SLA watch and notifications -------------------------------------------------------------


def _add_alert_jobs(scheduler: BaseScheduler, settings: Settings, db: Database) -> None:
    """The SLA watch escalates breached and critical items, the spike watch raises alerts, and the sender
    delivers the notification outbox."""
    scheduler.add_job(
        _sla_watch,
        "interval",
        seconds=30,
        id="sla:watch",
        name="escalate breached and critical items",
        replace_existing=True,
        args=(db, settings),
        next_run_time=datetime.now(UTC) + timedelta(seconds=5),
    )
    every = settings.reporting.detector.every_seconds
    scheduler.add_job(
        _spike_watch,
        "interval",
        seconds=every,
        id="alerts:detect",
        name="detect volume surges and sentiment drops",
        replace_existing=True,
        args=(db, settings),
        next_run_time=datetime.now(UTC) + timedelta(seconds=min(every, 15)),
    )
    scheduler.add_job(
        _daily_summary,
        "interval",
        minutes=5,
        id="summary:daily",
        name="compute, store and send yesterday's summary",
        replace_existing=True,
        args=(db, settings),
        next_run_time=datetime.now(UTC) + timedelta(seconds=20),
    )
    scheduler.add_job(
        _send_notifications,
        "interval",
        seconds=10,
        id="notify:send",
        name="send pending notifications",
        replace_existing=True,
        args=(db, settings),
        next_run_time=datetime.now(UTC) + timedelta(seconds=10),
    )


def _sla_watch(db: Database, settings: Settings) -> None:
    try:
        report = run_sla_watch(db, settings)
    except Exception:  # the watch runs again in 30 s: never let it stop the scheduler
        log.exception("SLA watch failed")
        return
    if report.breached or report.critical or report.errors:
        log.info("SLA watch: %d breached and %d critical items escalated, %d notifications queued%s",
                 report.breached, report.critical, report.notifications,
                 f", {len(report.errors)} errors" if report.errors else "")


def _spike_watch(db: Database, settings: Settings) -> None:
    try:
        report = run_spike_watch(db, settings)
    except Exception:  # the detector runs again at its next interval
        log.exception("spike watch failed")
        return
    if report.opened or report.closed:
        log.info("spike watch: %d alerts opened, %d closed, %d notifications queued",
                 len(report.opened), report.closed, report.notifications)


def _daily_summary(db: Database, settings: Settings) -> None:
    try:
        run_daily_summary(db, settings)
    except Exception:  # tried again in 5 minutes
        log.exception("daily summary failed")


def _send_notifications(db: Database, settings: Settings) -> None:
    try:
        report = deliver_pending(db, settings)
    except Exception:  # the sender runs again in 10 s
        log.exception("sending notifications failed")
        return
    if report.sent or report.retrying or report.failed or report.errors:
        log.info("notifications: %d sent, %d to retry, %d given up", report.sent, report.retrying, report.failed)


def _demo_desk(db: Database, settings: Settings, stop: threading.Event) -> None:
    try:
        report = run_demo_desk(db, settings, stop=stop)
    except Exception:  # the desk works again at its next round
        log.exception("demo desk failed")
        return
    if report.claimed or report.resolved or report.dismissed:
        log.info("demo desk: %d claimed, %d resolved, %d dismissed", report.claimed, report.resolved,
                 report.dismissed)


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
