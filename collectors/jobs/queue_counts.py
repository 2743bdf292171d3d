"""Folding the queue's count changes into its totals (the collector's ``queue:counts`` job), every
10 seconds, the first run 5 seconds after the collector starts.

The triggers on ``queue_items`` only insert +1/-1 rows (models/queue_counts.py explains why); this
job keeps those rows few, so the live pages' open counts stay a read of a few dozen rows. Readers
add the rows not yet folded: a late or failed run costs a little reading time, never a wrong count.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from models import queue_counts
from models.db import Database


@dataclass
class FoldReport:
    changes: int  # change rows folded into the totals


def run_queue_counts(db: Database, settings: Settings) -> FoldReport:
    """Fold the pending count changes (``settings`` unused: every job takes them)."""
    with db.write.begin() as session:
        return FoldReport(changes=queue_counts.fold(session))
