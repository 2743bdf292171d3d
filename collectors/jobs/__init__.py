"""The collector's scheduled jobs: one file each, all listed in `JOBS`, the table that
`collectors.scheduler` reads (the source polls, ``source:<name>``, are made there, one per
configured source).

A job is a function ``run(db, settings)`` returning a report (a dataclass, or anything), in its
own module whose docstring says what it does and how often. Its line in `JOBS` gives its id,
what it does, how often it runs and when first, and how its report is logged. The scheduler
runs every job through one wrapper: an exception is logged with its traceback, never raised into
the scheduler (the job simply runs again at its next interval), and the report is logged when
``log_line`` has something to say. Jobs open their own short transactions.

Adding a job is one file here plus its line in `JOBS`: the line names its function as
``"module:function"`` in this package (resolved when the scheduler is built), and the module's
``log_line(report)``, when it has one, words its report. tests/unit/test_job_registry.py fails
while a file of this package is not in the table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from config.settings import Settings

Report = TypeVar("Report")
Seconds = float | Callable[[Settings], float]


@dataclass(frozen=True)
class Job(Generic[Report]):
    id: str  # the APScheduler id: logs and tests name it, keep it across releases
    name: str  # what it does, in a few words (the APScheduler job's name)
    every: Seconds  # seconds between two runs, or a function of the settings giving them
    first: Seconds  # seconds from the scheduler's creation to the first run
    # run(db, settings), plus stop=<threading.Event> when heeds_stop: "module:function" of this
    # package (its module's log_line words the report), or a function
    run: str | Callable[..., Report]
    log_line: Callable[[Report], str | None] | None = None  # the report's log line, None: nothing to say
    heeds_stop: bool = False  # run ends early once the collector's stop event is set (stop=...)
    demo_only: bool = False  # only in `vigie demo`, never in `vigie collect`
    # a short job others wait on (a reply, a notification, the queue's counts): runs on the scheduler's
    # "outgoing" executor, never queued behind a long summary fold or seal on the "jobs" one
    outgoing: bool = False

    def every_seconds(self, settings: Settings) -> float:
        return self.every(settings) if callable(self.every) else self.every

    def first_seconds(self, settings: Settings) -> float:
        return self.first(settings) if callable(self.first) else self.first

    def function(self) -> Callable[..., Report]:
        if callable(self.run):
            return self.run
        module, _, name = self.run.partition(":")
        found: Callable[..., Report] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        return found

    def report_line(self) -> Callable[[Report], str | None] | None:
        if self.log_line is not None or callable(self.run):
            return self.log_line
        module = importlib.import_module(f"{__name__}.{self.run.partition(':')[0]}")
        found: Callable[[Report], str | None] | None = getattr(module, "log_line", None)
        return found


def _detector_every(settings: Settings) -> float:
    return settings.reporting.detector.every_seconds


JOBS: tuple[Job[Any], ...] = (
    Job("maintenance:analyze", "refresh query planner statistics", every=3600, first=120, run="analyze:run_analyze"),
    Job("sla:watch", "escalate breached and critical items", every=30, first=5, run="sla_watch:run_sla_watch"),
    Job("alerts:detect", "detect volume surges and sentiment drops", every=_detector_every,
        first=lambda s: min(_detector_every(s), 15), run="spike_watch:run_spike_watch"),
    Job("summary:daily", "compute, store and send yesterday's summary", every=300, first=20,
        run="daily_summary:run_daily_summary"),  # logs each day it stores itself
    Job("summary:fold", "fold changed items and new posts into the summary's daily counts", every=60, first=15,
        run="summary_fold:run_summary_fold"),
    Job("queue:counts", "fold the queue's count changes into its totals", every=10, first=5,
        run="queue_counts:run_queue_counts", outgoing=True),
    Job("notify:send", "send pending notifications", every=10, first=10, run="notify:deliver_pending",
        outgoing=True),
    Job("replies:send", "send queued replies and posts, expire old approvals", every=5, first=5,
        run="send_replies:run_send_replies", heeds_stop=True, outgoing=True),
    Job("archive:seal", "seal new archive records into hash-chained segments",
        every=lambda s: s.archive.seal_every_seconds, first=10, run="seal_archive:run_seal_archive"),
    Job("archive:purge", "delete archive content past retention and on no legal hold (tombstones)",
        every=lambda s: s.archive.purge_every_minutes * 60, first=300, run="purge_archive:run_purge_archive"),
    Job("archive:anchor", "anchor the day's archive head outside the database", every=600, first=30,
        run="anchor_archive:run_anchor_archive"),
    Job("sentiment:rescore", "score new items with the firm's own sentiment model", every=30, first=20,
        run="rescore_sentiment:run_rescore_sentiment"),
    Job("demo:desk", "the demo's simulated agents claim and close items", every=10, first=10,
        run="demo_desk:run_demo_desk", heeds_stop=True, demo_only=True),
)
