"""Source health as operators read it: one state per source, and what fails.

Pure functions of the source rows and the time, tested without a browser. "stale" (a source
not run for three of its intervals, or whose collector is gone: `models.heartbeats`) comes
before every other state: a dead collector never leaves its sources looking "ok".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from collectors.sources import REGISTRY
from config.settings import Settings
from i18n import _, current_reader, ngettext
from i18n import formats as fmt


@dataclass(frozen=True)
class SourceState:
    label: str  # stale, ok, failing, waiting, not run yet, disabled, not configured
    color: str  # Bootstrap colour of its badge
    detail: str  # one sentence for the operator


def age(then: datetime | None, now: datetime) -> str:
    """ "3 min ago" / "il y a 3 min" for the request's reader, from naive UTC times (a time in the
    future, a clock skew, counts as now)."""
    if then is None:
        return _("never")
    return fmt.relative(min(then, now), now, current_reader())


def polled_intervals(settings: Settings) -> dict[str, float]:
    """{name: interval in seconds} of the enabled sources a collector polls (push sources, fed by
    their senders, are never stale)."""
    return {c.name: c.interval_seconds for c in settings.sources
            if c.enabled and not getattr(REGISTRY.get(c.kind), "push", False)}


def source_state(row: Any, now: datetime, configured: bool, enabled: bool, stale: str | None = None) -> SourceState:
    """``stale``: why the source is stale (`models.heartbeats.stale_map`), None when it is not."""
    if not configured:
        return SourceState(_("not configured"), "secondary", _("in the database but no longer in sources.yaml"))
    if not enabled:
        return SourceState(_("disabled"), "secondary", _("enabled: false in sources.yaml"))
    if stale is not None:
        return SourceState(_("stale"), "danger", _("{reason}; last success {when}").format(
            reason=stale, when=age(row.last_ok_at, now)))
    failures = row.consecutive_failures or 0
    waiting = row.not_before is not None and row.not_before > now
    if failures:
        since = age(row.last_ok_at, now) if row.last_ok_at else _("the start")
        detail = ngettext("{count} failed poll in a row since {since}", "{count} failed polls in a row since {since}",
                          failures).format(count=fmt.number(failures, current_reader()), since=since)
        if waiting:
            detail = _("{detail}; next request {due}").format(detail=detail, due=_next(row.not_before, now))
        return SourceState(_("failing"), "danger", detail)
    if row.last_ok_at is None:
        return SourceState(_("not run yet"), "secondary", _("waiting for its first poll"))
    if waiting:
        return SourceState(_("waiting"), "warning", _("asked to wait, next request {due}").format(
            due=_next(row.not_before, now)))
    return SourceState(_("ok"), "success", _("last success {when}").format(when=age(row.last_ok_at, now)))


def _next(moment: datetime, now: datetime) -> str:
    """When the next request is allowed: ``in 5 min`` (the relative form; its local time in a tooltip elsewhere)."""
    if moment - now < timedelta(minutes=1):
        return _("in less than a minute")
    return fmt.relative(moment, now, current_reader())


def failing(rows: list[Any], enabled: set[str]) -> list[Any]:
    """Enabled sources whose last poll failed, most failures first."""
    bad = [r for r in rows if r.name in enabled and (r.consecutive_failures or 0) > 0]
    return sorted(bad, key=lambda r: (-(r.consecutive_failures or 0), r.name))


def health_marker(rows: list[Any], enabled: set[str], stale: dict[str, str] | None = None) -> str:
    """Changes when the set of failing or stale sources or their errors change (not on every poll)."""
    return ";".join(f"{r.name}:{r.consecutive_failures}:{(r.last_error or '')[:40]}" for r in failing(rows, enabled)) \
        + "|stale:" + ",".join(sorted(stale or {}))
