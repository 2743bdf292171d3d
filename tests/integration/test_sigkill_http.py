"""`vigie collect` polling real HTTP sources, SIGKILLed at random points over 20 trials each.

Two sources that keep growing: an RSS feed (every item it ever published stays in it,
dedupe by id carries the correctness) and an X recent search served as X documents it
(newest first, `since_id`, `next_token` pages of 10), where correctness rests on the
cursor: a cursor written ahead of its items would lose posts, one written behind them
would only replay pages. The collector is killed at a random moment of its work (while
fetching, enriching, or between the small batches of one page) and restarted. At the end
the stored items are exactly the items the server published: none lost, none twice, one
queue item per original.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.db import open_database
from models.tables import Mention, QueueItem
from tests.kit import config_dir, vigie_env
from tests.replay import ReplayServer, Reply, Request, x_recent_page
from tests.support import VIGIE

TRIALS = 20


class Growing:
    """A stream publishing ``step`` more items per request served, up to ``limit``."""

    def __init__(self, limit: int, step: int) -> None:
        self.published = 0
        self.limit = limit
        self.step = step
        self.lock = threading.Lock()

    def publish(self) -> int:
        """One more request served: how many items are published now."""
        with self.lock:
            self.published = min(self.limit, self.published + self.step)
            return self.published


class GrowingFeed(Growing):
    """An RSS feed publishing 40 items per request served, up to ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit, step=40)

    def __call__(self, _req: object) -> Reply:
        count = self.publish()
        items = "".join(
            f"<item><guid>post-{n}</guid><title>Aurelia Bank customer {n} says the app is down again "
            f"(report {n})</title><pubDate>Wed, 25 Nov 2026 08:00:00 GMT</pubDate></item>"
            for n in range(count, 0, -1)
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        return Reply(body=body.encode(), content_type="application/rss+xml")


class GrowingSearch(Growing):
    """X API v2 recent search over a stream publishing 15 posts per request served, up to ``limit``.
    ``next_token`` names the id to continue below, so pages stay stable while posts arrive."""

    PATH = "/2/tweets/search/recent"

    def __init__(self, limit: int) -> None:
        super().__init__(limit, step=15)

    def __call__(self, req: Request) -> Reply:
        newest = self.publish()
        return x_recent_page(req, newest, "@AureliaBank my card was declined again, ticket {n}")[0]


def _kill_loop(tmp_path: Path, replay: ReplayServer, path: str, source: dict[str, object]) -> dict[str, str]:
    env = vigie_env(tmp_path / "vigie.db", config=config_dir(tmp_path, sources={"sources": [source]}),
                    worker_id="collector-1", batch_size=7, log_level="WARNING",
                    extra={"TEST_X_TOKEN": "token-for-tests"})
    subprocess.run([VIGIE, "db", "upgrade"], env=env, check=True, capture_output=True)
    rng = random.Random(20261125)
    for trial in range(TRIALS):
        served = len(replay.hits(path))
        proc = subprocess.Popen([VIGIE, "collect"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while len(replay.hits(path)) == served and time.monotonic() < deadline:
            time.sleep(0.01)  # until this process has asked for the feed
        time.sleep(rng.uniform(0.0, 0.6))  # then a random moment of its work
        assert proc.poll() is None, f"trial {trial}: {proc.stderr.read().decode() if proc.stderr else ''}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    return env


def _check(env: dict[str, str], expected: set[str]) -> None:
    for _ in range(6):  # the server publishes nothing more: catch up (at most 100 pages per run)
        finished = subprocess.run([VIGIE, "collect", "--once"], env=env, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr
        if " 0 stored" in finished.stdout:
            break
    db = open_database(env["DATABASE_URL"])
    with db.read() as s:
        stored = list(s.scalars(select(Mention.external_id)))
        queued = s.scalar(select(func.count()).select_from(QueueItem))
        originals = s.scalar(select(func.count()).select_from(Mention).where(Mention.duplicate_of_id.is_(None)))
    db.engine.dispose()
    assert len(stored) == len(set(stored)), "an item was stored twice"
    assert set(stored) == expected, f"lost: {sorted(expected - set(stored))[:5]}"
    assert queued == originals


@pytest.mark.slow
def test_sigkill_rss_at_random_points_over_20_trials(tmp_path: Path, replay: ReplayServer) -> None:
    feed = GrowingFeed(limit=2000)
    replay.route("/feed.xml", feed)
    env = _kill_loop(tmp_path, replay, "/feed.xml",
                     {"name": "feed", "kind": "rss", "url": f"{replay.url}/feed.xml", "interval_seconds": 0.2})
    feed.limit = feed.published  # the server publishes nothing more: the last run must catch up
    assert feed.published >= 40 * TRIALS // 2  # the kills fell while the feed was growing
    _check(env, {f"post-{n}" for n in range(1, feed.published + 1)})


@pytest.mark.slow
def test_sigkill_x_search_with_cursor_pages_over_20_trials(tmp_path: Path, replay: ReplayServer) -> None:
    search = GrowingSearch(limit=3000)
    replay.route(GrowingSearch.PATH, search)
    env = _kill_loop(tmp_path, replay, GrowingSearch.PATH, {
        "name": "x-search", "kind": "x", "query": "@AureliaBank", "interval_seconds": 0.2, "max_results": 10,
        "api_url": replay.url, "bearer_token_env": "TEST_X_TOKEN"})
    search.limit = search.published
    sent = replay.hits(GrowingSearch.PATH)
    assert any(r.arg("next_token") for r in sent) and any(r.arg("since_id") for r in sent)  # both cursors used
    _check(env, {str(n) for n in range(1, search.published + 1)})
