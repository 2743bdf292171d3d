"""The SLA watch (the collector's ``sla:watch`` job): escalates items to their team's lead.

Every 30 s (first 5 s after the collector starts), each run escalates, as actor ``sla-watch``,
- open items past their due time, not yet escalated: reason "SLA breached (due …)", event ``sla_breach``;
- open critical items not yet escalated: reason "critical item", event ``critical``.
The escalation, its audit event and its notification rows (one per subscribed channel, see
`models.notifications`) are written in one short transaction per item, so an item that
fails does not hold back the others, and an item is escalated, and alerted about, once:
the next run skips it (``escalated_at`` is set). A run handles at most ``limit`` items,
breached ones first, the oldest deadline first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from config.settings import Settings
from models import actions
from models.db import Database
from models.notifications import notify_item
from models.tables import OPEN_STATUSES, QueueItem, utcnow

log = logging.getLogger("vigie.sla")

ACTOR = "sla-watch"


@dataclass
class SlaWatchReport:
    breached: int = 0  # escalated because past due
    critical: int = 0  # escalated because critical
    notifications: int = 0  # outbox rows written
    skipped: int = 0  # closed or escalated by someone meanwhile
    errors: list[str] = field(default_factory=list)


def log_line(report: SlaWatchReport) -> str | None:
    """The collector's log line about a run, None when nothing was escalated or failed."""
    if not (report.breached or report.critical or report.errors):
        return None
    errors = f", {len(report.errors)} errors" if report.errors else ""
    return (f"SLA watch: {report.breached} breached and {report.critical} critical items escalated, "
            f"{report.notifications} notifications queued{errors}")


def _due_text(settings: Settings, team: str, due_at: datetime) -> str:
    """The deadline in the team's business-hours time zone (UTC without one), e.g. 2026-11-27 19:00 CET."""
    hours = settings.sla.hours_for(team)
    aware = due_at.replace(tzinfo=UTC)
    if hours is not None:
        aware = aware.astimezone(hours.zone)
    return aware.strftime("%Y-%m-%d %H:%M %Z")


def _candidates(db: Database, now: datetime, limit: int) -> list[tuple[int, str, str, datetime]]:
    """(id, event, team, due_at) of the items to escalate: breached first, then critical."""
    open_unescalated = (QueueItem.status.in_(OPEN_STATUSES), QueueItem.escalated_at.is_(None))
    columns = (QueueItem.id, QueueItem.team, QueueItem.due_at)
    with db.read() as session:
        breached = session.execute(
            select(*columns).where(*open_unescalated, QueueItem.due_at < now)
            .order_by(QueueItem.due_at, QueueItem.id).limit(limit)
        ).all()
        out = [(int(i), "sla_breach", str(team), due) for i, team, due in breached]
        if len(out) < limit:
            critical = session.execute(
                select(*columns).where(*open_unescalated, QueueItem.priority_rank == 0, QueueItem.due_at >= now)
                .order_by(QueueItem.created_at, QueueItem.id).limit(limit - len(out))
            ).all()
            out += [(int(i), "critical", str(team), due) for i, team, due in critical]
    return out


def run_sla_watch(db: Database, settings: Settings, now: datetime | None = None, limit: int = 200) -> SlaWatchReport:
    """Escalate up to ``limit`` breached or critical open items, each in its own transaction."""
    now = now or utcnow()
    report = SlaWatchReport()
    for item_id, event, team, due_at in _candidates(db, now, limit):
        reason = f"SLA breached (due {_due_text(settings, team, due_at)})" if event == "sla_breach" else "critical item"
        try:
            with db.write.begin() as session:
                actions.escalate(session, item_id, ACTOR, reason)
                report.notifications += len(notify_item(session, settings, event, item_id, reason))
        except actions.ActionError:  # resolved, dismissed or escalated by a person since it was read
            report.skipped += 1
            continue
        except Exception as exc:  # one bad item must not stop the watch
            log.exception("SLA watch: item %d could not be escalated", item_id)
            report.errors.append(f"item {item_id}: {type(exc).__name__}: {exc}")
            continue
        if event == "sla_breach":
            report.breached += 1
        else:
            report.critical += 1
    return report
