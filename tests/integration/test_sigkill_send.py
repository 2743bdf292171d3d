"""The sender job in a real process, SIGKILLed at random moments over 50 trials: no reply lost,
none posted twice.

Two sources answered through fakes of their write APIs running in this process: Mastodon, where a
repeat is harmless (the Idempotency-Key), and X, where it is not (a lost answer is settled by
looking for the post). Each write takes 20-80 ms (half before publishing, half after), so kills
land before, during and after requests. The process (tests/send_runner.py: the job in a loop,
settings read the normal way) is killed at a random moment of each trial and started again with
its clock moved past STALE, so it settles what the dead one left ``sending``. After the last trial
one run finishes. Then every reply is ``sent`` (or ``unknown``, counted, never with two posts),
each reply's text is on its network exactly once, and no post exists that no reply owns.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from collectors.types import RawPost
from config.settings import load_settings
from models import replies
from models.db import open_database
from models.migrate import upgrade
from models.replies import Target
from models.reply_tables import Reply
from models.tables import Mention, QueueItem
from tests.kit import config_dir, store_posts, vigie_env
from tests.platform_writes import FakeMastodon, FakeX
from tests.replay import Reply as Answer
from tests.support import REPO

TRIALS = 50
PER_SOURCE = 30
SPARES = 2  # runners started ahead of their trial
RESTART = 360.0  # seconds added to the runner's clock per restart: more than STALE (5 minutes)
PROBLEMS = ("card blocked", "app crashes", "transfer missing", "fees doubled", "login refused", "branch closed",
            "loan delayed", "statement wrong", "ATM ate my card", "phone line busy")


class SlowWrites:
    """A fake whose writes take 20-80 ms, half before publishing and half after, and which counts
    the writes in flight (a kill then is a kill during a request)."""

    def slow_init(self) -> None:
        self.rng = random.Random(7)
        self.lock = threading.Lock()
        self.in_flight = 0

    def write(self, publish: Callable[[], Answer], retry_after: str = "7") -> Answer:
        with self.lock:
            self.in_flight += 1
            before, after = self.rng.uniform(0.01, 0.04), self.rng.uniform(0.01, 0.04)
        try:
            time.sleep(before)
            answer: Answer = super().write(publish, retry_after)  # type: ignore[misc]
            time.sleep(after)
            return answer
        finally:
            with self.lock:
                self.in_flight -= 1


class SlowMastodon(SlowWrites, FakeMastodon):
    def __init__(self, statuses: tuple[str, ...]) -> None:
        self.slow_init()
        super().__init__(statuses=statuses)


class SlowX(SlowWrites, FakeX):
    def __init__(self, tweets: tuple[str, ...]) -> None:
        self.slow_init()
        super().__init__(tweets=tweets)


def _sources(mastodon: FakeMastodon, x: FakeX) -> dict[str, Any]:
    common = {"interval_seconds": 60, "timeout_seconds": 5, "retries": 0, "enabled": True}
    return {"sources": [
        {"name": "masto", "kind": "mastodon", "instance": mastodon.url, "hashtags": ["aurelia"],
         "write_token_env": "TEST_MASTO_WRITE", **common},
        {"name": "xsrc", "kind": "x", "query": "aurelia", "api_url": x.url, "bearer_token_env": "TEST_X_BEARER",
         "write_token_env": "TEST_X_WRITE", **common},
    ]}


def _outbound(data: dict[str, Any]) -> None:
    """Replies go out at once (policy none, as the brief's outbound loop allows) through these sources."""
    data["approval"].update(default="none", rules=[])
    data["accounts"] = {"mastodon": "masto", "x": "xsrc"}


def _compose_all(env: dict[str, str], ids: dict[str, tuple[str, ...]]) -> dict[int, tuple[str, str]]:
    """A mention per id stored by its source, and a reply to each (policy none: queued at once);
    reply id -> (source, text)."""
    settings = load_settings(env=env)
    db = open_database(env["DATABASE_URL"])
    upgrade(db.engine)
    network = {"masto": "mastodon", "xsrc": "x"}
    made: dict[int, tuple[str, str]] = {}
    targets: dict[str, list[Target]] = {}
    try:
        for name, external_ids in ids.items():
            now = datetime.now(UTC)
            store_posts(db, settings, [
                RawPost(e, network[name], f"@aurelia Aurelia Bank {PROBLEMS[i % len(PROBLEMS)]}, case {name} {i} "
                        f"{'!' * (i // len(PROBLEMS))}", now, None, f"@client{i}", f"Client {i}", 10)
                for i, e in enumerate(external_ids)], source=name)
            with db.read() as s:
                rows = s.execute(select(Mention, QueueItem).join(QueueItem, QueueItem.mention_id == Mention.id)
                                 .where(Mention.external_id.in_(external_ids)).order_by(Mention.id)).all()
                assert len(rows) == len(external_ids), "every mention has its own queue item"
                targets[name] = [Target("reply", m.network, name, item.team, m.brand, m.language, item.id, m.id)
                                 for m, item in rows]
        rules = replies.compile_rules(settings)
        for pair in zip(*targets.values(), strict=True):  # alternately: kills fall on both networks
            for target in pair:
                with db.write.begin() as s:
                    text = f"Hello, we are on it: case {target.source_name}-{target.mention_id}. Sorry for the trouble."
                    reply = replies.compose(s, rules, "agent.cs", target, text)
                    assert reply.status == "queued"
                    made[reply.id] = (str(target.source_name), reply.text)
    finally:
        db.engine.dispose()
    return made


def _start(env: dict[str, str], offset: float) -> subprocess.Popen[bytes]:
    """A runner with its clock ``offset`` seconds ahead, imported and waiting for its go (stdin)."""
    return subprocess.Popen([sys.executable, "-m", "tests.send_runner", "--wait"], cwd=REPO,
                            env={**env, "VIGIE_TEST_CLOCK_OFFSET": str(offset)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _go(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.flush()  # communicate() closes it


@pytest.mark.slow
def test_sigkill_sender_at_random_points_over_50_trials(tmp_path: Path) -> None:
    ids = {"masto": tuple(str(111_000_000_000_000_000 + i) for i in range(PER_SOURCE)),
           "xsrc": tuple(str(1_850_000_000_000_000_100 + i) for i in range(PER_SOURCE))}
    mastodon, x = SlowMastodon(statuses=ids["masto"]), SlowX(tweets=ids["xsrc"])
    fakes = (mastodon, x)
    try:
        cfg = config_dir(tmp_path, sources=_sources(mastodon, x), outbound=_outbound)
        env = vigie_env(tmp_path / "vigie.db", config=cfg,
                        worker_id="sender-1", log_level="WARNING",
                        extra={"TEST_MASTO_WRITE": mastodon.token, "TEST_X_WRITE": x.token,
                               "TEST_X_BEARER": "app-only-token"})
        made = _compose_all(env, ids)
        rng = random.Random(20261126)
        during, idle, hit = 0, 0, Counter[str]()
        spares = deque(_start(env, n * RESTART) for n in range(SPARES))  # started ahead: imports overlap
        for trial in range(TRIALS):
            written = sum(len(f.writes()) for f in fakes)
            proc = spares.popleft()
            _go(proc)
            spares.append(_start(env, (trial + SPARES) * RESTART))
            if rng.random() < 0.2:  # anywhere: settling stale claims, looking for posts, sending
                time.sleep(rng.uniform(0.0, 0.4))
            else:  # once it sends, a little later: before, during or after a request
                deadline = time.monotonic() + 20
                while sum(len(f.writes()) for f in fakes) == written and proc.poll() is None \
                        and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(rng.uniform(0.0, 0.08))
            if proc.poll() is not None:
                idle += 1  # it finished first: nothing was due
            else:
                during += any(f.in_flight for f in fakes)
                hit.update(type(f).__name__ for f in fakes if f.in_flight)
                proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=10)
            assert proc.returncode in (0, -signal.SIGKILL), err.decode()
        before_final = len(mastodon.posts) + len(x.posts)
        final = spares.popleft()
        _go(final)
        out, err = final.communicate(timeout=120)
        for spare in spares:
            spare.kill()
            spare.communicate(timeout=10)
        assert final.returncode == 0 and out.decode().strip().endswith("done"), err.decode()
        assert "error:" not in out.decode(), out.decode()

        db = open_database(env["DATABASE_URL"])
        with db.read() as s:
            rows = {r.id: (r.status, r.platform_id, r.last_error) for r in s.scalars(select(Reply))}
        db.engine.dispose()
        posts = {"masto": [p["text"] for p in mastodon.posts], "xsrc": [p["text"] for p in x.posts]}
        ids_of = {"masto": {p["id"] for p in mastodon.posts}, "xsrc": {p["id"] for p in x.posts}}
        counts = {name: Counter(texts) for name, texts in posts.items()}
        states = Counter(status for status, _, _ in rows.values())
        print(f"\nsigkill sender: {TRIALS} trials, {during} kills during a write request "
              f"({hit['SlowMastodon']} Mastodon, {hit['SlowX']} X), "
              f"{idle} runs with nothing due, {states['sent']} sent, {states['unknown']} unknown, "
              f"{len(mastodon.posts)} Mastodon + {len(x.posts)} X posts for {len(made)} replies, "
              f"{len(mastodon.writes())} + {len(x.writes())} write requests, "
              f"{len(mastodon.posts) + len(x.posts) - before_final} posts by the final run")
        assert set(rows) == set(made)
        for reply_id, (name, text) in made.items():
            status, platform_id, error = rows[reply_id]
            assert status in ("sent", "unknown"), (reply_id, status, error)
            if status == "sent":
                assert counts[name][text] == 1, (reply_id, name, counts[name][text])
                assert platform_id in ids_of[name]
            else:
                assert counts[name][text] <= 1, (reply_id, name, counts[name][text])
        owned = {name: Counter(text for n, text in made.values() if n == name) for name in posts}
        for name, texts in posts.items():
            assert not [t for t in texts if t not in owned[name]], f"a post on {name} that no reply owns"
            assert all(n == 1 for n in Counter(texts).values()), f"a text posted twice on {name}"
        assert states["unknown"] <= 2, states  # rare: only when nothing could tell
        assert hit["SlowMastodon"] >= 5 and hit["SlowX"] >= 5, f"too few kills during a request: {hit}"
    finally:
        for fake in fakes:
            fake.close()
