"""One poll of one source: lease, fetch pages, and hand each to the ingest entry point
(`collectors.ingest`: enrich, store with its cursor), then record the source's health.

A failing source records `last_error` and `consecutive_failures` on its row and
returns; the other sources go on. Several collector processes may run against one
database: each source is polled only by the process holding its lease row, which
expires by itself if that process dies.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from collectors.http import RateLimited
from collectors.ingest import RunReport, ingest, record_health, same_item_by_reason
from collectors.pipeline import Enricher
from collectors.sources import build_polled_source
from collectors.store import Lease, LeaseLost
from collectors.types import CollectorError, Source
from config.ops import lease_floor
from config.settings import Settings, SourceConfig
from models.db import Database
from models.tables import SourceRow, utcnow

log = logging.getLogger("vigie.collect")
MAX_PAGES_PER_RUN = 100
MAX_BACKOFF_SECONDS = 3600.0


def sync_sources(db: Database, settings: Settings) -> None:
    """Make sure every configured source has its row (cursor and health live there). Collectors
    started together on a new database race to add the rows: the loser reads them and goes on."""
    try:
        _sync_sources(db, settings)
    except IntegrityError:  # another collector added a row first (sources.name is unique)
        log.info("another collector added the source rows first; reading them again")
        _sync_sources(db, settings)


def _sync_sources(db: Database, settings: Settings) -> None:
    with db.write.begin() as session:
        existing = {r.name: r for r in session.scalars(select(SourceRow))}
        for cfg in settings.sources:
            row = existing.get(cfg.name)
            if row is None:
                session.add(SourceRow(name=cfg.name, kind=cfg.kind, consecutive_failures=0, items_last_run=0))
            elif row.kind != cfg.kind:
                row.kind, row.cursor, row.not_before = cfg.kind, None, None


def acquire_lease(db: Database, name: str, owner: str, ttl: timedelta) -> bool:
    now = utcnow()
    with db.write.begin() as session:
        result = session.execute(
            update(SourceRow)
            .where(
                SourceRow.name == name,
                or_(SourceRow.lease_owner.is_(None), SourceRow.lease_owner == owner, SourceRow.lease_until < now),
            )
            .values(lease_owner=owner, lease_until=now + ttl)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release_leases(db: Database, owner: str) -> None:
    with db.write.begin() as session:
        session.execute(
            update(SourceRow).where(SourceRow.lease_owner == owner).values(lease_owner=None, lease_until=None)
        )


def lease_ttl(settings: Settings, cfg: SourceConfig) -> timedelta:
    """How long a lease on ``cfg`` lasts past its holder's last write: ``VIGIE_LEASE_SECONDS``, or
    the larger of 60 s and three of the source's intervals, and never under the floor of two
    heartbeat intervals (`config.ops.lease_floor`; a long ``VIGIE_HEARTBEAT_SECONDS`` raises it)."""
    if settings.ops.lease_seconds is not None:
        return timedelta(seconds=settings.ops.lease_seconds)  # checked against the floor at start
    return timedelta(seconds=max(60.0, cfg.interval_seconds * 3, lease_floor(settings.ops.heartbeat_seconds)))


def failure_backoff(interval: float, failures: int, permanent: bool) -> datetime | None:
    """When a failing source may be asked again. The first failure keeps the normal schedule;
    then the wait doubles (interval x 2, x 4, …, jittered by 10 %) up to an hour, and a
    permanent error (bad credentials or config) waits the hour at once."""
    if permanent:
        seconds = MAX_BACKOFF_SECONDS
    elif failures <= 1:
        return None
    else:
        seconds = min(MAX_BACKOFF_SECONDS, interval * 2 ** (failures - 1))
    return datetime.now(UTC) + timedelta(seconds=seconds * random.uniform(0.9, 1.0))


def poll_source(
    db: Database,
    settings: Settings,
    enricher: Enricher,
    cfg: SourceConfig,
    owner: str | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Poll ``cfg`` until it has nothing more due (or MAX_PAGES_PER_RUN). Never raises: every
    failure, the source's or the database's, ends up in the report and, when the database
    answers, on the source's row."""
    report = RunReport(cfg.name)
    failures = 0
    lease = Lease(owner or settings.worker_id, lease_ttl(settings, cfg))
    try:
        if not acquire_lease(db, cfg.name, lease.owner, lease.ttl):
            report.leased = False
            return report
        with db.read() as session:
            row = session.scalars(select(SourceRow).where(SourceRow.name == cfg.name)).one()
            source_id, cursor = row.id, row.cursor
            not_before, failures = row.not_before, row.consecutive_failures
        if not_before is not None and not_before > utcnow():  # no request before the wait is over
            report.waiting_until = not_before.replace(tzinfo=UTC)
            return report
        source = build_polled_source(cfg)
        try:
            _poll_pages(db, settings, enricher, source, source_id, cursor, lease, report, stop)
        finally:
            close = getattr(source, "close", None)  # sources holding an HTTP client release it
            if close is not None:
                close()
    except RateLimited as exc:
        report.error, report.retry_at = exc.message, exc.retry_at
        log.warning("source %s rate limited: %s", cfg.name, exc.message)
    except CollectorError as exc:
        report.error = exc.message
        report.retry_at = failure_backoff(cfg.interval_seconds, failures + 1, exc.permanent)
        log.warning("source %s failed: %s", cfg.name, exc.message)
    except LeaseLost as exc:
        report.error = str(exc)
        log.warning("source %s: %s", cfg.name, exc)
    except Exception as exc:  # a bug in one source, or the database, must not stop the others
        report.error = f"{type(exc).__name__}: {exc}"
        report.retry_at = failure_backoff(cfg.interval_seconds, failures + 1, False)
        log.exception("source %s crashed", cfg.name)
    if report.waiting_until is not None:
        log.info("source %s: waiting until %s before its next request", cfg.name, report.waiting_until)
        return report
    try:
        record_health(db, cfg.name, report)
    except Exception:
        log.exception("source %s: could not record its health", cfg.name)
    if report.problems:
        log.warning("source %s: %d item(s) rejected: %s", cfg.name, len(report.problems), report.problems[:3])
    return report


def _poll_pages(
    db: Database,
    settings: Settings,
    enricher: Enricher,
    source: Source,
    source_id: int,
    cursor: str | None,
    lease: Lease,
    report: RunReport,
    stop: threading.Event | None,
) -> None:
    for _ in range(MAX_PAGES_PER_RUN):
        if stop is not None and stop.is_set():  # shutting down: the pages left wait for the next run
            break
        page = source.fetch(cursor, datetime.now(UTC))
        parsed = same_item_by_reason(source.parse(page.payload))
        ingest(db, source_id, enricher, parsed, utcnow(), report, chunk_size=settings.batch_size,
               cursor=cursor, next_cursor=page.next_cursor, lease=lease)
        cursor = page.next_cursor
        report.pages += 1
        if page.wait_until is not None:  # quota used up: the page is stored, the rest waits for the reset
            report.retry_at = page.wait_until
            log.info("source %s: quota used up, next request after %s", report.source, page.wait_until)
            break
        if not page.has_more:
            break
