"""Demo writer: the built-in demo network accepts replies, so `vigie demo` shows the whole loop
with no network at all.

It is a real little platform: each post is one JSON line appended to a file (the demo source's
`network_path`, default `var/demo-network/<source name>.jsonl`), under an exclusive file lock,
so several processes never interleave or double a post. A second post with an idempotency key
already in the file is refused and answered with the first one's id, as Mastodon does:
sending again never posts twice (`idempotent()` is always true) and `find()` reads the file.
With `refuse_share` above 0 it sometimes answers "busy, try again" like a rate-limited network.
"""

from __future__ import annotations

import fcntl
import json
import random
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from collectors.options import check_options
from collectors.replies.base import Outcome, Outgoing, failed, sent
from collectors.sources.demo_options import DemoOptions
from config.settings import SourceConfig

BUSY_SECONDS = 20  # how long a "busy" refusal asks to wait


class DemoWriter:
    network: ClassVar[str] = "demo"
    supports_posts: ClassVar[bool] = True

    @staticmethod
    def configured(config: SourceConfig) -> bool:
        return True  # no credential: the demo network is local

    def __init__(self, config: SourceConfig) -> None:
        options = check_options(config, DemoOptions)
        self.name = config.name
        self.path = Path(options.network_path or f"var/demo-network/{config.name}.jsonl")
        self.refuse_share = options.refuse_share

    def close(self) -> None:
        pass

    def idempotent(self, out: Outgoing, now: datetime) -> bool:
        return True  # the file refuses a key it holds

    def send(self, out: Outgoing) -> Outcome:
        if out.kind == "reply" and not out.target_id:
            return failed("demo: a reply without the id of the post it answers")
        # The same draw on every run for one attempt: a refused attempt is refused again if replayed.
        if self.refuse_share and random.Random(f"{out.idempotency_key}:{out.attempt}").random() < self.refuse_share:
            return Outcome("retry", retry_at=datetime.now(UTC) + timedelta(seconds=BUSY_SECONDS),
                           error="demo network: busy, try again later (refuse_share)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # released when the file closes
            file.seek(0)
            first = _find(file.read(), out.idempotency_key)
            if first is not None:
                return self._sent(first)
            post = {"id": f"demo-{secrets.token_hex(6)}", "key": out.idempotency_key, "kind": out.kind,
                    "in_reply_to": out.target_id, "text": out.text,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
            file.write(json.dumps(post, ensure_ascii=False) + "\n")
            file.flush()
        return self._sent(post)

    def find(self, out: Outgoing) -> Outcome | None:
        try:
            with self.path.open(encoding="utf-8") as file:
                fcntl.flock(file, fcntl.LOCK_SH)
                first = _find(file.read(), out.idempotency_key)
        except FileNotFoundError:
            first = None
        return self._sent(first) if first else Outcome("retry", error="demo: the post was not made")

    def posts(self) -> list[dict[str, Any]]:
        """Everything the demo network holds for this source, oldest first (demos and tests)."""
        try:
            return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    def _sent(self, post: dict[str, Any]) -> Outcome:
        return sent(post["id"], f"https://demo.invalid/{self.name}/{post['id']}")


def _find(content: str, key: str) -> dict[str, Any] | None:
    for line in content.splitlines():
        try:
            post = json.loads(line)
        except ValueError:  # a line cut by a crash mid-write: the ones after it are whole
            continue
        if isinstance(post, dict) and post.get("key") == key and isinstance(post.get("id"), str):
            return post
    return None
