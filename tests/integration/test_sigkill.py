"""`vigie collect` killed with SIGKILL mid-batch, then restarted: nothing lost, nothing duplicated."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collectors.sources import build_polled_source
from config.settings import SourceConfig
from models.db import open_database
from models.tables import Mention, QueueItem, SourceRow
from tests.kit import config_dir, vigie_env
from tests.support import VIGIE

DEMO = {"seed": 3, "rate_per_minute": 6000, "backfill_hours": 1.5, "page_size": 200}


def _expected_ids(cursor: str) -> set[str]:
    """Every id the demo source served from its first item up to ``cursor``."""
    anchor, _, end = cursor.rpartition(":")
    source = build_polled_source(SourceConfig("demo", "demo", 1, True, DEMO))
    ids: set[str] = set()
    position = f"{anchor}:0"
    while int(position.rpartition(":")[2]) < int(end):
        page = source.fetch(position, datetime.now(UTC))
        for post in source.parse(page.payload).posts:
            ids.add(post.external_id)
        position = page.next_cursor or position
    return ids


@pytest.mark.slow
def test_sigkill_mid_batch_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    source = {"name": "demo", "kind": "demo", "interval_seconds": 1, "enabled": True, **DEMO}
    env = vigie_env(tmp_path / "vigie.db", config=config_dir(tmp_path, sources={"sources": [source]}),
                    worker_id="collector-1", batch_size=100, log_level="WARNING")
    url = env["DATABASE_URL"]
    subprocess.run([VIGIE, "db", "upgrade"], env=env, check=True, capture_output=True)
    db = open_database(url)
    rng = random.Random(2026)
    kills = 0
    for _trial in range(6):
        proc = subprocess.Popen([VIGIE, "collect"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        with db.read() as s:
            before = s.scalar(select(func.count()).select_from(Mention)) or 0
        while time.monotonic() < deadline:  # wait until this process is writing
            with db.read() as s:
                if (s.scalar(select(func.count()).select_from(Mention)) or 0) > before:
                    break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.05, 0.8))
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        kills += 1
    finished = subprocess.run([VIGIE, "collect", "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    with db.read() as s:
        cursor = s.scalar(select(SourceRow.cursor).where(SourceRow.name == "demo"))
        stored = [r[0] for r in s.execute(select(Mention.external_id))]
        originals = s.scalar(select(func.count()).select_from(Mention).where(Mention.duplicate_of_id.is_(None)))
        queued = s.scalar(select(func.count()).select_from(QueueItem))
    assert kills == 6 and cursor
    assert len(stored) == len(set(stored)), "a mention was stored twice"
    assert set(stored) == _expected_ids(cursor), "stored mentions differ from what the source served"
    assert queued == originals, "every original has exactly one queue item, copies none"
    assert len(stored) > 2000
