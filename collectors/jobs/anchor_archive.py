"""The daily anchor (the collector's ``archive:anchor`` job, every 10 minutes): once per UTC day,
at or after ``archive.yaml: anchor_hour``, the archive's head is appended to the anchor file,
recorded, and sent to the channels subscribed to ``archive_head`` (`models.archive_anchor`).
The day's "anchor" record keeps a second collector, or the next run, from anchoring it again; a
collector that was down at the hour anchors the missed day when it starts. An anchor file that
no longer matches the chain is refused and logged as an error at every run until someone looks
(`vigie archive verify`). `vigie archive anchor` does the same on demand."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from config.settings import Settings
from models.archive_anchor import AnchorError, anchor_head
from models.db import Database
from models.tables import utcnow

log = logging.getLogger("vigie.archive")


@dataclass
class AnchorReport:
    day: str | None = None  # the day anchored by this run
    seq: int | None = None
    hash: str | None = None
    notified: int = 0
    refused: str | None = None  # why the anchor file was refused


def log_line(report: AnchorReport) -> str | None:
    if report.refused:
        return f"archive head NOT anchored: {report.refused}"
    if report.day is None:
        return None
    return (f"archive head of {report.day} anchored: segment {report.seq} {report.hash}, "
            f"{report.notified} message(s) to send")


def run_anchor_archive(db: Database, settings: Settings, now: datetime | None = None) -> AnchorReport:
    report = AnchorReport()
    try:
        with db.write.begin() as session:
            anchored = anchor_head(session, settings, now or utcnow())
    except AnchorError as exc:
        log.error("archive anchor refused: %s", exc)
        report.refused = str(exc)
        return report
    if anchored is not None:
        report.day, report.seq, report.hash = anchored.day.isoformat(), anchored.line["seq"], anchored.line["hash"]
        report.notified = anchored.notified
    return report
