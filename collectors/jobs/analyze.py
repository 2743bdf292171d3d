"""Refreshing the query planner's statistics (the collector's ``maintenance:analyze`` job), every
hour, the first run 2 minutes after the collector starts.

SQLite keeps no statistics until asked (``ANALYZE``); without them it may pick a poor index on
a large queue. PostgreSQL's autovacuum analyzes too, but only after enough rows changed. The run
is an optimisation: a failure is logged and collection goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from config.settings import Settings
from models.db import Database, analyze


@dataclass
class AnalyzeReport:
    seconds: float  # how long ANALYZE took


def run_analyze(db: Database, settings: Settings) -> AnalyzeReport:
    """Run ``ANALYZE`` on the whole database (``settings`` unused: every job takes them)."""
    started = time.monotonic()
    analyze(db)
    return AnalyzeReport(seconds=time.monotonic() - started)
