"""Source health as operators read it: one state per source, and what fails.

Pure functions of the source rows and the time, tested without a browser. "stale" (a source
not run for three of its intervals, or whose collector is gone: `models.heartbeats`) comes
before every other state: a dead collector never leaves its sources looking "ok".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collectors.sources import REGISTRY
from config.settings import Settings


@dataclass(frozen=True)
class SourceState:
    label: str  # stale, ok, failing, waiting, not run yet, disabled, not configured
    color: str  # Bootstrap colour of its badge
    detail: str  # one sentence for the operator


def age(then: datetime | None, now: datetime) -> str:
    """ "3 min ago" style, from naive UTC times."""
    if then is None:
        return "never"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def polled_intervals(settings: Settings) -> dict[str, float]:
    """{name: interval in seconds} of the enabled sources a collector polls (push sources, fed by
    their senders, are never stale)."""
    return {c.name: c.interval_seconds for c in settings.sources
            if c.enabled and not getattr(REGISTRY.get(c.kind), "push", False)}


def source_state(row: Any, now: datetime, configured: bool, enabled: bool, stale: str | None = None) -> SourceState:
    """``stale``: why the source is stale (`models.heartbeats.stale_map`), None when it is not."""
    if not configured:
        return SourceState("not configured", "secondary", "in the database but no longer in sources.yaml")
    if not enabled:
        return SourceState("disabled", "secondary", "enabled: false in sources.yaml")
    if stale is not None:
        return SourceState("stale", "danger", f"{stale}; last success {age(row.last_ok_at, now)}")
    failures = row.consecutive_failures or 0
    waiting = row.not_before is not None and row.not_before > now
    if failures:
        wait = f"; next request after {row.not_before:%H:%M:%S} UTC" if waiting else ""
        return SourceState("failing", "danger", f"{failures} failed poll(s) in a row since "
                                                f"{age(row.last_ok_at, now) if row.last_ok_at else 'the start'}{wait}")
    if row.last_ok_at is None:
        return SourceState("not run yet", "secondary", "waiting for its first poll")
    if waiting:
        return SourceState("waiting", "warning", f"asked to wait until {row.not_before:%H:%M:%S} UTC")
    return SourceState("ok", "success", f"last success {age(row.last_ok_at, now)}")


def failing(rows: list[Any], enabled: set[str]) -> list[Any]:
    """Enabled sources whose last poll failed, most failures first."""
    bad = [r for r in rows if r.name in enabled and (r.consecutive_failures or 0) > 0]
    return sorted(bad, key=lambda r: (-(r.consecutive_failures or 0), r.name))


def health_marker(rows: list[Any], enabled: set[str], stale: dict[str, str] | None = None) -> str:
    """Changes when the set of failing or stale sources or their errors change (not on every poll)."""
    return ";".join(f"{r.name}:{r.consecutive_failures}:{(r.last_error or '')[:40]}" for r in failing(rows, enabled)) \
        + "|stale:" + ",".join(sorted(stale or {}))
