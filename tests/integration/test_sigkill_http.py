"""`vigie collect` polling a real HTTP feed, SIGKILLed at random points over 20 trials.

A local server serves a feed that keeps growing (every item it ever published stays in
it, so nothing is lost by the feed itself). The collector is killed at a random moment
of its work — while fetching, enriching, or between the small batches of one page — and
restarted. At the end the stored items are exactly the items the server published:
none lost, none twice, one queue item per original.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from models.db import open_database
from models.tables import Mention, QueueItem
from tests.replay import ReplayServer, Reply
from tests.support import REPO, VIGIE

TRIALS = 20


class GrowingFeed:
    """An RSS feed publishing 40 items per request served, up to ``limit``."""

    def __init__(self, limit: int) -> None:
        self.published = 0
        self.limit = limit
        self.lock = threading.Lock()

    def __call__(self, _req: object) -> Reply:
        with self.lock:
            self.published = min(self.limit, self.published + 40)
            count = self.published
        items = "".join(
            f"<item><guid>post-{n}</guid><title>Aurelia Bank customer {n} says the app is down again "
            f"(report {n})</title><pubDate>Wed, 25 Nov 2026 08:00:00 GMT</pubDate></item>"
            for n in range(count, 0, -1)
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        return Reply(body=body.encode(), content_type="application/rss+xml")


@pytest.mark.slow
def test_sigkill_at_random_points_over_20_trials(tmp_path: Path, replay: ReplayServer) -> None:
    feed = GrowingFeed(limit=2000)
    replay.route("/feed.xml", feed)
    cfg = tmp_path / "config"
    shutil.copytree(REPO / "config", cfg, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (cfg / "sources.yaml").write_text(yaml.safe_dump({"sources": [
        {"name": "feed", "kind": "rss", "url": f"{replay.url}/feed.xml", "interval_seconds": 0.2}]}))
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    env = {**os.environ, "DATABASE_URL": url, "VIGIE_CONFIG": str(cfg), "VIGIE_WORKER_ID": "collector-1",
           "VIGIE_BATCH_SIZE": "7", "VIGIE_LOG_LEVEL": "WARNING"}
    subprocess.run([VIGIE, "init-db"], env=env, check=True, capture_output=True)
    rng = random.Random(20261125)
    for trial in range(TRIALS):
        served = len(replay.hits("/feed.xml"))
        proc = subprocess.Popen([VIGIE, "collect"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while len(replay.hits("/feed.xml")) == served and time.monotonic() < deadline:
            time.sleep(0.01)  # until this process has asked for the feed
        time.sleep(rng.uniform(0.0, 0.6))  # then a random moment of its work
        assert proc.poll() is None, f"trial {trial}: {proc.stderr.read().decode() if proc.stderr else ''}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    feed.limit = feed.published  # the server publishes nothing more: the last run must catch up
    finished = subprocess.run([VIGIE, "collect", "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr

    db = open_database(url)
    with db.read() as s:
        stored = list(s.scalars(select(Mention.external_id)))
        queued = s.scalar(select(func.count()).select_from(QueueItem))
        originals = s.scalar(select(func.count()).select_from(Mention).where(Mention.duplicate_of_id.is_(None)))
    expected = {f"post-{n}" for n in range(1, feed.published + 1)}
    assert len(stored) == len(set(stored)), "an item was stored twice"
    assert set(stored) == expected, f"lost: {sorted(expected - set(stored))[:5]}"
    assert feed.published >= 40 * TRIALS // 2  # the kills fell while the feed was growing
    assert queued == originals
