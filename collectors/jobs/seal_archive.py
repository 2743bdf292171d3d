"""The sealer (the collector's ``archive:seal`` job, every ``archive.yaml: seal_every_seconds``,
60 by default): the archive records written since the last run, by any collector or dashboard
worker, sealed in id order into hash-chained segments (`models.archive_seal`), a segment of at
most `SEAL_LIMIT` records per transaction until none waits. Before sealing, it records any change
of the settings files a regulator may ask about (`models.archive_config`)."""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from models.archive_config import record_config_changes
from models.archive_seal import seal
from models.db import Database

MAX_SEGMENTS = 200  # per run: a backlog is worked through over a few runs, never one endless run


@dataclass
class SealReport:
    segments: int = 0
    records: int = 0
    config_changes: int = 0
    head_seq: int | None = None
    head_hash: str | None = None


def log_line(report: SealReport) -> str | None:
    if not report.segments and not report.config_changes:
        return None
    return (f"archive sealed {report.records} record(s) into {report.segments} segment(s); head "
            f"{report.head_seq} {report.head_hash}; {report.config_changes} settings change(s) recorded")


def run_seal_archive(db: Database, settings: Settings) -> SealReport:
    report = SealReport()
    with db.write.begin() as session:
        report.config_changes = record_config_changes(session, settings.config_dir)
    for _ in range(MAX_SEGMENTS):
        with db.write.begin() as session:
            segment = seal(session, settings.worker_id)
            if segment is None:
                break
            report.segments += 1
            report.records += segment.count
            report.head_seq, report.head_hash = segment.seq, segment.hash
    return report
