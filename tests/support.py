"""Helpers shared by tests: paths, the installed `vigie` command, free ports, waiting."""

from __future__ import annotations

import socket
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIGIE = str(Path(sys.executable).with_name("vigie"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    """Wait until ``url`` answers 200 (loopback only)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last}")
