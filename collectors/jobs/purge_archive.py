"""The purge (the collector's ``archive:purge`` job, every ``archive.yaml: purge_every_minutes``,
60 by default; ``vigie archive purge`` runs it once): the content of archive records past their
retention and on no standing legal hold is deleted, a batch of at most `models.retention.BATCH`
records per transaction, each batch leaving one "purge" record that names the tombstones
(`models.retention`). Then the data-protection requests whose author has no record content
left are marked erased, with their outcome recorded (`models.erasure.settle_erasures`).

This and `models.retention.purge` are the only code that deletes archive content."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from config.archive import Retention
from config.settings import Settings
from models.db import Database
from models.erasure import settle_erasures
from models.retention import BATCH, PURGE_ACTOR, purge
from models.tables import utcnow

MAX_BATCHES = 200  # per run: a backlog is worked through over a few runs, never one endless run
# Where the last run of this process stopped, per database: the next run goes on from there and
# starts again from the oldest once it has reached the end. Without it every run began at the
# oldest records, and records kept there (held, or kept longer by the settings) could fill every
# run's batches: nothing after them was ever purged.
_RESUME: dict[str, tuple[datetime, int]] = {}


@dataclass
class PurgeRun:
    scanned: int = 0
    purged: int = 0
    held: int = 0
    kept: int = 0
    batches: int = 0  # purge records written
    erased: list[int] = field(default_factory=list)  # erasure requests completed


def log_line(report: PurgeRun) -> str | None:
    if not report.purged and not report.erased:
        return None
    return (f"archive purge: {report.purged} record(s) past retention now tombstones ({report.batches} purge "
            f"record(s)); {report.held} kept by legal holds; {len(report.erased)} erasure request(s) completed")


def run_purge(db: Database, retention: Retention, now: datetime | None = None, actor: str = PURGE_ACTOR,
              batch: int = BATCH) -> PurgeRun:
    """Purge batches, each in its own transaction, until none is due; then settle erasure requests."""
    now = now or utcnow()
    run = PurgeRun()
    key = str(db.engine.url)
    after = _RESUME.pop(key, None)
    for _ in range(MAX_BATCHES):
        with db.write.begin() as session:
            batch_report = purge(session, retention, now, limit=batch, after=after, actor=actor)
        run.scanned += batch_report.scanned
        run.purged += len(batch_report.purged)
        run.held += batch_report.held
        run.kept += batch_report.kept
        run.batches += batch_report.record_id is not None
        after = batch_report.next_after
        if after is None:
            break
    if after is not None:  # stopped by MAX_BATCHES: the next run goes on from here
        _RESUME[key] = after
    with db.write.begin() as session:
        run.erased = settle_erasures(session, actor, now)
    return run


def run_purge_archive(db: Database, settings: Settings) -> PurgeRun:
    return run_purge(db, settings.archive.retention)
