"""The load test's processes: gunicorn (the deployment's config) and `vigie collect`, started with
the harness's environment, sampled for resident memory and CPU time, and stopped by their own
process ids."""

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


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """The process's CPU time so far (user + system), or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime: fields 14 and 15 of proc(5)


def busy_seconds() -> float:
    """The machine's CPU time spent on anything but idling, all cores, since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK  # idle and iowait left out; guests are in user


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def server_pids(postmaster: int | None) -> list[int]:
    """The PostgreSQL server's processes: its postmaster and the postmaster's children (backends,
    background workers); none when not known. Other clusters on the machine are left out; a
    backend that ends between two samples loses its last second."""
    return [] if postmaster is None else [postmaster, *children(postmaster)]


class RssSampler(threading.Thread):
    """Every ``every`` seconds, the resident memory of each named process and of the children of
    the gunicorn master (its workers; a replaced worker shows as a new pid); keeps the maximum.
    It also notes each one's CPU time and the PostgreSQL server's, so that `cpu` tells where the
    cores went between the first sample and the last."""

    def __init__(self, named: dict[str, int], parents: dict[str, int], every: float = 1.0,
                 postmaster: int | None = None) -> None:
        super().__init__(daemon=True)
        self.named, self.parents, self.every, self.postmaster = named, parents, every, postmaster
        self.maximum: dict[str, float] = {}
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._wall: list[float] = []
        self._busy: list[float] = []
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
        for label, pid in [*pids.items(), *((f"postgres pid {p}", p) for p in server_pids(self.postmaster))]:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self._first.setdefault(label, seconds)
                self._last[label] = seconds
        self._wall.append(time.monotonic())
        self._busy.append(busy_seconds())

    def cpu(self) -> dict[str, float]:
        """CPU seconds between the first sample and the last: ``wall`` (elapsed), ``cores``, ``busy``
        (the whole machine), and per group: ``web``, ``collectors`` and ``postgres`` (a process that
        ended between two samples loses its last second); ``rest`` is the machine's other work (Locust,
        Chromium, this harness, anything else running)."""
        used = {label: self._last[label] - self._first[label] for label in self._last}
        groups = {"web": sum(v for k, v in used.items() if k.startswith("web")),
                  "collectors": sum(v for k, v in used.items() if k.startswith("collect")),
                  "postgres": sum(v for k, v in used.items() if k.startswith("postgres"))}
        busy = self._busy[-1] - self._busy[0] if self._busy else 0.0
        return {"wall": self._wall[-1] - self._wall[0] if self._wall else 0.0, "cores": float(os.cpu_count() or 1),
                "busy": busy, **groups, "rest": busy - sum(groups.values())}

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.sample()

    def halt(self) -> None:
        self._halt.set()
        self.join(5)


SERVER_ERROR = re.compile(r'gunicorn\.access: .* HTTP/[\d.]+" 5\d\d ')  # an answer 5xx, to anyone
# but the harness's own readiness polls (`run.wait_ready`) before the collectors' first heartbeat:
# "not ready yet" is the answer it waits through, and it asks nothing during the run
NOT_READY_YET = re.compile(r'"GET /readyz HTTP/[\d.]+" 503 \d+ "Python-urllib/')


def logged_errors(workdir: Path, names: list[str]) -> list[str]:
    """Lines the servers logged at ERROR or CRITICAL, tracebacks, and 5xx answers in gunicorn's access
    log (Chromium's requests included, the harness's readiness polls not), from their log files."""
    found = []
    for name in names:
        path = workdir / f"{name}.log"
        if path.exists():
            found += [f"{name}: {line}" for line in path.read_text(errors="replace").splitlines()
                      if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
                      or (SERVER_ERROR.search(line) and not NOT_READY_YET.search(line))]
    return found
