"""The daily summary's SLA verdicts and per-network value of a day's queue items (`models.summary`
says what they mean): pure functions of the item rows as they stood at a time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from typing import Any

from models.kpis import median
from models.tables import CLOSED_STATUSES


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (0 < share <= 1)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _minutes(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else max(0.0, (later - earlier).total_seconds() / 60)


def filed_closed(item: Any) -> bool:
    """Filed dismissed by a routing rule (``status: dismissed``, e.g. spam): never anyone's work."""
    return item.status == "dismissed" and item.claimed_at is None and item.resolved_at == item.created_at


def sla_figures(items: list[Any], now: datetime) -> dict[str, Any]:
    """First response, resolution and SLA verdicts of queue item rows as they stood at ``now``
    (a claim or a closing stamped later had not happened yet), pure. Items filed closed by
    routing are counted (``filed_closed``) but not judged."""
    filed = sum(1 for i in items if filed_closed(i))
    items = [i for i in items if not filed_closed(i)]

    def by_now(at: datetime | None) -> datetime | None:
        return at if at is not None and at <= now else None

    closed = [i for i in items if i.status in CLOSED_STATUSES and by_now(i.resolved_at) is not None]
    responses = [m for m in (_minutes(by_now(i.claimed_at), i.created_at) for i in items) if m is not None]
    resolutions = [m for m in (_minutes(i.resolved_at, i.created_at) for i in closed if i.status == "resolved")
                   if m is not None]
    met = sum(1 for i in closed if i.resolved_at <= i.due_at)
    breached = len(closed) - met
    pending = 0
    closed_ids = {i.id for i in closed}  # (a set: a day holds tens of thousands of items)
    for i in items:
        if i.id in closed_ids:
            continue
        if i.due_at < now:
            breached += 1
        else:
            pending += 1
    judged = met + breached
    return {
        "items": len(items) + filed, "filed_closed": filed, "responded": len(responses),
        "first_response_median": median(responses), "first_response_p90": percentile(responses, 0.9),
        "resolved": sum(1 for i in closed if i.status == "resolved"),
        "dismissed": sum(1 for i in closed if i.status == "dismissed"),
        "resolution_median": median(resolutions), "resolution_p90": percentile(resolutions, 0.9),
        "met": met, "breached": breached, "pending": pending,
        "adherence": met / judged if judged else None,
    }


def _needed_action(item: Any) -> bool:
    """Someone worked it: resolved, or claimed and being worked. (Escalation is no sign: the SLA
    watch escalates every breached or critical item by itself, noise included.)"""
    return item.status in ("resolved", "claimed")


def network_value(items: list[Any], mentions: dict[str, int]) -> list[dict[str, Any]]:
    """Per network: mentions, items, items that needed action, noise dismissed, critical/high (pure)."""
    per: dict[str, list[Any]] = defaultdict(list)
    for i in items:
        per[i.network].append(i)
    out = []
    for network in sorted(set(per) | set(mentions)):
        rows = per.get(network, [])
        actioned = sum(1 for i in rows if _needed_action(i))
        out.append({"network": network, "mentions": mentions.get(network, 0), "items": len(rows),
                    "needed_action": actioned, "dismissed": sum(1 for i in rows if i.status == "dismissed"),
                    "critical_high": sum(1 for i in rows if i.priority_rank <= 1),
                    "action_share": actioned / len(rows) if rows else None})
    return sorted(out, key=lambda r: (-r["needed_action"], -r["mentions"], r["network"]))
