"""The demo network's writer: a JSON-lines file under a lock, one post per idempotency key."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from collectors.replies import Outgoing, writer_for
from collectors.replies.demo import DemoWriter
from config.sources import SourceConfig


def demo(path: Path, **options: object) -> DemoWriter:
    writer = writer_for(SourceConfig("demo", "demo", 2, True, {"network_path": str(path), **options}))
    assert isinstance(writer, DemoWriter)
    return writer


def reply(key: str, attempt: int = 1) -> Outgoing:
    return Outgoing(1, "reply", "Merci, nous regardons 🙏", key, "7000000000042", None, attempt, None)


def test_a_post_is_a_line_and_a_key_posts_once(tmp_path: Path) -> None:
    path = tmp_path / "network" / "demo.jsonl"
    writer = demo(path)
    first = writer.send(reply("a" * 32))
    assert first.state == "sent" and first.platform_id and first.platform_id.startswith("demo-")
    assert first.url == f"https://demo.invalid/demo/{first.platform_id}"
    assert writer.send(reply("a" * 32, attempt=2)) == first  # the first one's id, no second line
    assert writer.find(reply("a" * 32)) == first
    missing = writer.find(reply("b" * 32))
    assert missing is not None and missing.state == "retry"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1
    assert lines[0]["text"] == "Merci, nous regardons 🙏" and lines[0]["in_reply_to"] == "7000000000042"
    assert writer.send(Outgoing(2, "reply", "x", "c" * 32, None, None, 1, None)).state == "failed"


def test_concurrent_writers_post_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    keys = [f"{i % 5:032x}" for i in range(40)]  # 5 replies, each sent 8 times at once
    writers = [demo(path) for _ in keys]
    start = threading.Barrier(len(keys))

    def send(index: int) -> None:
        start.wait()
        writers[index].send(reply(keys[index]))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p["key"] for p in demo(path).posts()) == sorted(set(keys))


def test_refuse_share_answers_busy_sometimes(tmp_path: Path) -> None:
    writer = demo(tmp_path / "d.jsonl", refuse_share=0.5)
    states = [writer.send(reply(f"{i:032x}")).state for i in range(40)]
    assert 5 < states.count("retry") < 35 and states.count("sent") == 40 - states.count("retry")
    assert demo(tmp_path / "off.jsonl").send(reply("f" * 32)).state == "sent"  # off by default


def test_default_path_is_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    writer = writer_for(SourceConfig("demo-fr", "demo", 2, True, {}))
    assert writer is not None and writer.send(reply("d" * 32)).state == "sent"
    assert (tmp_path / "var" / "demo-network" / "demo-fr.jsonl").exists()
