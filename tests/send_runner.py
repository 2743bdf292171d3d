"""The sender job alone, run until nothing is due: the process tests/integration/test_sigkill_send.py
starts and SIGKILLs at random moments.

Settings are read the normal way (VIGIE_CONFIG, DATABASE_URL, the write tokens' variables). The
job's clock is the real one moved ahead by ``VIGIE_TEST_CLOCK_OFFSET`` seconds, an environment
variable read here only (never by Vigie): each restart gets a larger offset, so it finds the claim
of the process killed before it stale (older than STALE) and that process's retries due, without
the test waiting minutes of real time. Prints ``done`` when nothing is left to do.

    VIGIE_TEST_CLOCK_OFFSET=360 python -m tests.send_runner

With ``--wait`` it imports everything and reads the settings, then waits for a line on stdin
before touching the database: the test starts the next process while the current one works, so
a trial is not mostly Python starting up.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta

from collectors.jobs.send_replies import STALE, run_send_replies
from config.settings import load_settings
from models import outbox
from models.db import open_database

MAX_RUNS = 500  # a guard: each run sends up to 50 replies


def main() -> None:
    offset = timedelta(seconds=float(os.environ.get("VIGIE_TEST_CLOCK_OFFSET") or 0))
    settings = load_settings()
    if "--wait" in sys.argv[1:]:
        sys.stdin.readline()
    db = open_database(settings.database_url)
    for _ in range(MAX_RUNS):
        report = run_send_replies(db, settings, now=datetime.now(UTC).replace(tzinfo=None) + offset)
        for error in report.errors:
            print("error:", error, flush=True)
        now = datetime.now(UTC).replace(tzinfo=None) + offset
        with db.read() as session:
            if not outbox.due(session, now, 1) and not outbox.stale(session, STALE, now, 1):
                break
    db.engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    main()
