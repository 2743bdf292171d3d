"""A real PostgreSQL primary and its streaming replica, made for a test and removed after.

The primary is a throwaway cluster of its own (``initdb``, a free port, its own socket folder),
not the machine's server: ``pg_basebackup`` needs a ``replication`` line in ``pg_hba.conf``, which
the machine's server may not have (this one's has none), and a test never changes a shared
server's configuration. A fresh cluster is small (about 40 MB: ``du`` of the replica's folder is
logged), so the base backup takes a second or two. Then ``pg_basebackup -R`` copies it into the
replica's folder (``standby.signal`` and ``primary_conninfo`` written by ``-R``), started on a
second free port. ``pg_ctl`` refuses root: as root, every server command runs as the ``postgres``
user (``runuser -u postgres --``), in a folder that user owns.

Needs the server binaries (``initdb``, ``pg_ctl``, ``pg_basebackup``: ``pg_config --bindir``, the
Debian folders, or PATH); `pair` raises `Unavailable` without them.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("tests.pg_pair")
TOOLS = ("initdb", "pg_ctl", "pg_basebackup")


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries here (or no ``postgres`` user to run them as root)."""


@dataclass(frozen=True)
class Pair:
    primary_url: str
    replica_url: str
    folder: Path
    seconds_to_make: float
    replica_bytes: int


def _bindir() -> Path:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        candidates.append(Path(out))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    candidates += [Path(p).parent for p in filter(None, (shutil.which(t) for t in TOOLS))]
    for folder in candidates:
        if all((folder / t).is_file() for t in TOOLS):
            return folder
    raise Unavailable("no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str], timeout: float = 60) -> None:
    done = subprocess.run(_as_owner(args), capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-800:]}")


def _du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@contextmanager
def pair() -> Iterator[Pair]:
    """A primary and its streaming replica on two free ports, both stopped and removed after."""
    bindir = _bindir()
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        raise Unavailable("running as root without runuser: pg_ctl refuses root")
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="vigie-pg-pair-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    primary, replica = folder / "primary", folder / "replica"
    running: list[Path] = []
    try:
        _run([str(bindir / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "--no-sync",
              "--no-instructions", "-E", "UTF8", "--locale", "C"])
        p1, p2 = _free_port(), _free_port()
        # fsync off: a throwaway cluster; the default pg_hba of `initdb -A trust` allows replication locally
        options = "-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c wal_level=replica"
        _run([str(bindir / "pg_ctl"), "-D", str(primary), "-w", "-l", str(folder / "primary.log"),
              "-o", f"-p {p1} -k {folder} {options}", "start"])
        running.append(primary)
        _run([str(bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres", "-D", str(replica),
              "-R", "-X", "stream", "--no-sync", "-c", "fast"])
        size = _du(replica)
        _run([str(bindir / "pg_ctl"), "-D", str(replica), "-w", "-l", str(folder / "replica.log"),
              "-o", f"-p {p2} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c hot_standby=on", "start"])
        running.append(replica)
        made = time.perf_counter() - started
        log.info("primary on %d, replica on %d: made in %.1f s, base backup %.1f MB", p1, p2, made, size / 1e6)
        yield Pair(f"postgresql+psycopg://postgres@127.0.0.1:{p1}/postgres",
                   f"postgresql+psycopg://postgres@127.0.0.1:{p2}/postgres", folder, made, size)
    finally:
        for data in reversed(running):
            try:
                _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                log.warning("could not stop %s: %s", data, exc)
        shutil.rmtree(folder, ignore_errors=True)
