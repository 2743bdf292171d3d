"""The load test's processes: gunicorn (the deployment's config) and `vigie collect`, started with
the harness's environment, sampled for resident memory, and stopped by their own process ids."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"


def clean_environment(extra: dict[str, str]) -> dict[str, str]:
    """This environment without any Vigie setting of the caller's (each would reach the servers), plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_") and k != "DATABASE_URL"}
    return {**base, **extra}


def start(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    log = (workdir / f"{name}.log").open("ab")
    return subprocess.Popen(argv, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)


def stop(procs: list[subprocess.Popen[bytes]], timeout: float = 40) -> None:
    """SIGTERM to each (gunicorn passes it to its workers), SIGKILL to any still running after ``timeout``."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Every ``every`` seconds, the resident memory of each named process and of the children of
    the gunicorn master (its workers; a replaced worker shows as a new pid); keeps the maximum."""

    def __init__(self, named: dict[str, int], parents: dict[str, int], every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.named, self.parents, self.every = named, parents, every
        self.maximum: dict[str, float] = {}
        self._halt = threading.Event()

    def sample(self) -> None:
        pids = dict(self.named)
        for label, parent in self.parents.items():
            for child in children(parent):
                pids[f"{label} pid {child}"] = child
        for label, pid in pids.items():
            mb = rss_mb(pid)
            if mb is not None:
                self.maximum[label] = max(mb, self.maximum.get(label, 0.0))

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.sample()

    def halt(self) -> None:
        self._halt.set()
        self.join(5)


SERVER_ERROR = re.compile(r'gunicorn\.access: .* HTTP/[\d.]+" 5\d\d ')  # an answer 5xx, to anyone


def logged_errors(workdir: Path, names: list[str]) -> list[str]:
    """Lines the servers logged at ERROR or CRITICAL, tracebacks, and 5xx answers in gunicorn's access
    log (Chromium's requests included), from their log files."""
    found = []
    for name in names:
        path = workdir / f"{name}.log"
        if path.exists():
            found += [f"{name}: {line}" for line in path.read_text(errors="replace").splitlines()
                      if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
                      or SERVER_ERROR.search(line)]
    return found
