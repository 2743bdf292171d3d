"""The summary's running counts (the collector's ``summary:fold``): every minute (the first run
15 s after the collector starts), folds the queue items changed and the posts stored since its mark
into the per-day counts the daily summary reads (`models.summary_fold`). The first run on an
existing database folds its whole history, in batches, each in a short transaction. A summary asked
for while the counts are more than 5 minutes old (the collector down) is read item by item instead.
"""

from __future__ import annotations

from config.settings import Settings
from models.db import Database
from models.summary_fold import FoldReport, fold


def run_summary_fold(db: Database, settings: Settings) -> FoldReport:
    return fold(db, settings.reporting.timezone)


def log_line(report: FoldReport) -> str | None:
    if report.reset:
        return f"summary counts folded again from the start (time zone changed): {report.items} items"
    if report.items > 10_000 or report.mentions > 10_000:
        return f"summary counts: {report.items} items and {report.mentions} posts folded"
    return None
