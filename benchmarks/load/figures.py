"""The load test's figures and its verdict: pure functions over what the run recorded."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CALLBACK_P95_MS = 300.0
RSS_MAX_MB = 300.0
STORE_TO_ROW_P95_S = 3.0
# Requests that are not Dash callbacks: sign-in hashes a password with argon2 on purpose, and the
# dependency list is read once per user. Timed and printed, not held to the callback target.
NOT_CALLBACKS = ("sign-in (argon2)", "login form", "wall sign-in (kiosk link)", "dash dependencies")


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1); NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil(n * share), at least the first
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class Stat:
    name: str
    kind: str
    count: int
    failures: int
    p50_ms: float
    p95_ms: float


def read_locust_stats(path: Path) -> list[Stat]:
    """Rows of Locust's ``<prefix>_stats.csv`` (the "Aggregated" line left out)."""
    found = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                continue
            found.append(Stat(row["Name"], row["Type"], int(row["Request Count"]), int(row["Failure Count"]),
                              float(row["50%"] or "nan"), float(row["95%"] or "nan")))
    return found


def read_locust_errors(path: Path) -> int:
    """Exceptions raised in the users' own code (Locust's ``<prefix>_exceptions.csv``)."""
    if not path.exists():
        return 0
    with path.open(newline="") as f:
        return sum(int(row.get("Count") or 0) for row in csv.DictReader(f))


@dataclass
class Verdict:
    missed: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> str:
        if not ok:
            self.missed.append(what)
        return "met" if ok else "NOT met"


def judge(stats: Sequence[Stat], user_errors: int, logged_errors: int, rss_mb: Mapping[str, float],
          store_to_row_s: Sequence[float], rows_missed: int) -> tuple[list[str], Verdict]:
    """The lines to print and the verdict (``missed``: the targets not met)."""
    v = Verdict()
    lines: list[str] = []
    failures = sum(s.failures for s in stats if s.kind != "WORK" or "lost" not in s.name)
    errors = failures + user_errors + logged_errors
    lines.append(f"errors      {errors} (failed requests and refused actions {failures}, exceptions in users "
                 f"{user_errors}, ERROR lines logged by the servers {logged_errors}): "
                 f"{v.check(errors == 0, 'zero errors')}")
    for s in sorted(stats, key=lambda s: (s.kind == "WORK", s.name)):
        if s.kind == "WORK":
            lines.append(f"  {s.name:<28} {s.count:7d}")
            continue
        held = s.name not in NOT_CALLBACKS
        mark = v.check(s.p95_ms <= CALLBACK_P95_MS, f"{s.name} p95 <= {CALLBACK_P95_MS:.0f} ms") if held else "-"
        lines.append(f"  {s.name:<28} {s.count:7d} req  {s.failures:4d} failed  p50 {s.p50_ms:7.0f} ms  "
                     f"p95 {s.p95_ms:7.0f} ms  {mark}")
    for proc, mb in sorted(rss_mb.items()):
        lines.append(f"RSS max  {proc:<26} {mb:7.1f} MB  "
                     f"{v.check(mb < RSS_MAX_MB, f'{proc} RSS < {RSS_MAX_MB:.0f} MB')}")
    p50, p95 = percentile(store_to_row_s, 0.5), percentile(store_to_row_s, 0.95)
    lines.append(f"store->row  {len(store_to_row_s)} new rows seen in Chromium, p50 {p50:.2f} s  p95 {p95:.2f} s "
                 f"(target p95 <= {STORE_TO_ROW_P95_S:.0f} s): "
                 f"{v.check(bool(store_to_row_s) and p95 <= STORE_TO_ROW_P95_S, 'store->row p95')}")
    # The grid holds a team's top rows (a burst reloads the top 2 x 500): a low-priority row can
    # stay out of it by design, so this count is told, not judged.
    lines.append(f"            {rows_missed} open items of the watched team stored meanwhile never in its grid")
    return lines, v


def cpu_line(cpu: Mapping[str, float]) -> str:
    """Where the machine's cores went during the run (told, not judged): every process of the test
    shares them, Locust and Chromium included."""
    capacity = cpu["wall"] * cpu["cores"]
    if capacity <= 0:
        return "cpu         not sampled"
    parts = ", ".join(f"{name} {cpu[name]:.0f} s ({cpu[name] / capacity:.0%})"
                      for name in ("web", "collectors", "postgres", "rest"))
    return (f"cpu         {cpu['busy']:.0f} of {capacity:.0f} core-seconds busy ({cpu['busy'] / capacity:.0%} of "
            f"{cpu['cores']:.0f} cores x {cpu['wall']:.0f} s): {parts} (rest: Locust, Chromium, the harness)")
