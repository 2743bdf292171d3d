"""`/metrics`: Prometheus text read from the database at each scrape (a custom collector), so every
gunicorn worker answers the same figures. Each query is bounded (`models.ops_queries`).

Per source: last success and last run (Unix time; absent until the first), failures in a row,
items of the last run, stale (0/1). Per team: open items and SLA breaches (open and past due).
Replies per outbound state, notifications waiting or given up on, open alerts. Per collector:
its last heartbeat and up (0/1: not stopped, beaten within three of its intervals).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from dashboard.components.health import polled_intervals
from dashboard.context import AppContext
from models import heartbeats, ops_queries, queries
from models.tables import utcnow


def _unix(value: datetime) -> float:
    return value.replace(tzinfo=UTC).timestamp()


def _gauge(name: str, doc: str, labels: list[str], samples: list[tuple[list[str], float]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


class VigieCollector:
    """Reads the database when scraped; ``ctx``: the app's settings and database."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def describe(self) -> list[Metric]:
        return []  # registered without a scrape; the names come at collect time

    def collect(self) -> Iterator[Metric]:
        settings, now = self.ctx.settings, utcnow()
        with self.ctx.db.read() as session:
            sources = queries.source_health(session)
            beats = heartbeats.heartbeats(session)
            stale = heartbeats.stale_map(sources, polled_intervals(settings), beats, now)
            teams = queries.team_counts(session, settings.team_keys)
            replies = ops_queries.reply_backlog(session)
            notes = ops_queries.notification_backlog(session)
            alerts = ops_queries.open_alert_count(session)
        yield from self._sources(sources, stale)
        yield _gauge("vigie_team_open_items", "Open queue items (new or claimed) per team.", ["team"],
                     [([t], c["open"]) for t, c in sorted(teams.items())])
        yield _gauge("vigie_team_sla_breaches", "Open queue items past their SLA due time, per team.", ["team"],
                     [([t], c["overdue"]) for t, c in sorted(teams.items())])
        yield _gauge("vigie_replies", "Replies and posts on their way out, per outbound state "
                     "(retrying: queued after a failed attempt).", ["state"],
                     [([s], n) for s, n in replies.items()])
        yield _gauge("vigie_notifications", "Notifications waiting to be sent (pending) or given up on (failed).",
                     ["state"], [([s], n) for s, n in notes.items()])
        yield _gauge("vigie_alerts_open", "Open spike alerts.", [], [([], alerts)])
        yield _gauge("vigie_collector_heartbeat_timestamp_seconds", "Last heartbeat of each collector (Unix time).",
                     ["worker", "hostname"], [([b.worker_id, b.hostname], _unix(b.beat_at)) for b in beats])
        yield _gauge("vigie_collector_up", "1 while a collector beats (not stopped, silent for less than three "
                     "heartbeat intervals), else 0.", ["worker"],
                     [([b.worker_id], 0.0 if heartbeats.collector_gone(b, now) else 1.0) for b in beats])

    def _sources(self, sources: list[Any], stale: dict[str, str]) -> Iterator[Metric]:
        yield _gauge("vigie_source_last_success_timestamp_seconds", "Last successful poll of each source (Unix time).",
                     ["source"], [([r.name], _unix(r.last_ok_at)) for r in sources if r.last_ok_at])
        yield _gauge("vigie_source_last_run_timestamp_seconds", "Last poll of each source, ok or not (Unix time).",
                     ["source"], [([r.name], _unix(r.last_run_at)) for r in sources if r.last_run_at])
        yield _gauge("vigie_source_consecutive_failures", "Failed polls in a row of each source.", ["source"],
                     [([r.name], r.consecutive_failures or 0) for r in sources])
        yield _gauge("vigie_source_items_last_run", "Items the last poll of each source brought.", ["source"],
                     [([r.name], r.items_last_run or 0) for r in sources])
        yield _gauge("vigie_source_stale", "1 when a source is stale: not run for three of its intervals, or its "
                     "collector is gone.", ["source"], [([r.name], 1.0 if r.name in stale else 0.0) for r in sources])


def metrics_text(ctx: AppContext) -> bytes:
    """The exposition text of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VigieCollector(ctx))  # type: ignore[arg-type]  # a collector is duck-typed
    return generate_latest(registry)
