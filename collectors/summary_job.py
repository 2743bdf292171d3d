"""The daily summary job (the collector's ``summary:daily``): after ``summary.run_at`` local time,
computes yesterday's summary, stores it and writes its ``daily_summary`` notifications (the
outbox; `collectors.notify` attaches the PDF when sending), in one transaction.

It runs every 5 minutes and does nothing once the day's summary is stored, so a collector that
was down at ``run_at`` catches up when it starts; the day's primary key keeps two collectors
from storing or sending it twice (the loser's transaction fails and it moves on).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from config.settings import Settings
from models.db import Database
from models.notifications import enqueue
from models.summary import compute_summary, local_day, store_summary, stored_summary
from models.summary_export import LABELS, change_text, fmt
from models.tables import utcnow

log = logging.getLogger("vigie.summary")


def due_day(now: datetime, settings: Settings) -> date:
    """The day whose summary should exist by now: yesterday after ``run_at``, else the day before."""

    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(settings.reporting.timezone))
    hour, minute = settings.reporting.summary_run_at
    back = 1 if (local.hour, local.minute) >= (hour, minute) else 2
    return local_day(now, settings.reporting.timezone) - timedelta(days=back)


def summary_message(figures: dict[str, Any], public_url: str) -> tuple[str, str]:
    """(title, body) of the summary's message: the headline against the previous 7 days, and a link."""
    lines = [f"Daily summary for {figures['day']} ({figures['timezone']}), PDF attached.", ""]
    for key, c in figures["comparison"].items():
        lines.append(f"{LABELS[key]}: {fmt(key, c['value'])} (previous 7 days: {fmt(key, c['previous_mean'])}, "
                     f"{change_text(c['change_pct'])})")
    lines += ["", f"Open it in Vigie: {public_url}/summary?date={figures['day']}"]
    return f"Vigie daily summary - {figures['day']}", "\n".join(lines)


def run_daily_summary(db: Database, settings: Settings, now: datetime | None = None) -> date | None:
    """Store and send the due day's summary if it is not stored yet; the day done, or None."""
    now = now or utcnow()
    day = due_day(now, settings)
    with db.read() as session:
        if stored_summary(session, day) is not None:
            return None
    try:
        with db.write.begin() as session:
            figures = compute_summary(session, settings, day, now)
            store_summary(session, figures, now)
            title, body = summary_message(figures, settings.auth.public_url)
            for row in enqueue(session, settings, "daily_summary", None, title, body):
                row.summary_day = day
    except IntegrityError:  # another collector stored it first
        log.info("daily summary of %s: stored by another process", day)
        return None
    log.info("daily summary of %s stored", day)
    return day
