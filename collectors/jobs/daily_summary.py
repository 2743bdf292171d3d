"""The daily summary job (the collector's ``summary:daily``): after ``summary.run_at`` local time,
computes yesterday's summary, stores it and writes its ``daily_summary`` notifications (the
outbox; `collectors.jobs.notify` attaches the PDF when sending), in one transaction.

It runs every 5 minutes (the first run 20 s after the collector starts) and does nothing once
the day's summary is stored and announced (its messages written), so a collector that was down
at ``run_at`` catches up when it starts (up to a week back, never before the first stored
mention: a new install sends no empty reports); the day's primary key keeps two collectors from
storing or sending it twice (the loser's transaction fails and it moves on). A day stored first
by `vigie summary --store` is announced with the figures stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from config.settings import Settings
from i18n import _
from models.db import Database
from models.notifications import enqueue_written
from models.summary import compute_summary, day_bounds, local_day, store_summary
from models.summary_export import change_text, day_text, fmt, label
from models.summary_fold import fold
from models.tables import DailySummary, Mention, utcnow

log = logging.getLogger("vigie.summary")


def due_day(now: datetime, settings: Settings) -> date:
    """The day whose summary should exist by now: yesterday after ``run_at``, else the day before."""

    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(settings.reporting.timezone))
    hour, minute = settings.reporting.summary_run_at
    back = 1 if (local.hour, local.minute) >= (hour, minute) else 2
    return local_day(now, settings.reporting.timezone) - timedelta(days=back)


def summary_message(figures: dict[str, Any], public_url: str) -> tuple[str, str]:
    """(title, body) of the summary's message in the current reader's language: the headline against
    the previous 7 days, and a link."""
    day = day_text(figures["day"])
    lines = [_("Daily summary for {day} ({zone}), PDF attached.").format(day=day, zone=figures["timezone"]), ""]
    for key, c in figures["comparison"].items():
        lines.append(_("{figure}: {value} (previous 7 days: {previous}, {change})").format(
            figure=label(key), value=fmt(key, c["value"]), previous=fmt(key, c["previous_mean"]),
            change=change_text(c["change_pct"])))
    lines += ["", _("Open it in Vigie: {link}").format(link=f"{public_url}/summary?date={figures['day']}")]
    return _("Vigie daily summary - {day}").format(day=day), "\n".join(lines)


CATCH_UP_DAYS = 7  # a collector down for several nights stores (and sends) the days it missed


def run_daily_summary(db: Database, settings: Settings, now: datetime | None = None) -> list[date]:
    """Store and send each due day's summary not stored yet (the last ``CATCH_UP_DAYS``, none from
    before the first mention); the days done, oldest first. Each day is computed in a read
    transaction and then written in a short one, so collection and people are never held up."""
    now = now or utcnow()
    fold(db, settings.reporting.timezone, now)  # the counts up to now: the summary reads them
    last = due_day(now, settings)
    done: list[date] = []
    with db.read() as session:
        first = session.scalar(select(func.min(Mention.created_at)))
        if first is None:
            return done
        stored = dict(session.execute(select(DailySummary.day, DailySummary.announced_at).where(
            DailySummary.day > last - timedelta(days=CATCH_UP_DAYS), DailySummary.day <= last)).all())
    for back in range(CATCH_UP_DAYS - 1, -1, -1):
        day = last - timedelta(days=back)
        if stored.get(day) is not None or day_bounds(day, settings.reporting.timezone)[1] <= first:
            continue
        figures = None
        if day not in stored:
            with db.read() as session:
                figures = compute_summary(session, settings, day, now)
        try:
            with db.write.begin() as session:
                row = session.get(DailySummary, day, with_for_update=True)
                if row is not None and row.announced_at is not None:  # another collector was quicker
                    continue
                if row is None:
                    if figures is None:  # deleted meanwhile: next run
                        continue
                    row = store_summary(session, figures, now)
                # else stored by `vigie summary --store` before the job came: send those figures
                written = partial(summary_message, dict(row.figures), settings.auth.public_url)
                for message in enqueue_written(session, settings, "daily_summary", None, written):
                    message.summary_day = day
                row.announced_at = now
        except IntegrityError:  # stored by another collector between the check and the insert
            log.info("daily summary of %s: stored by another process", day)
            continue
        log.info("daily summary of %s stored", day)
        done.append(day)
    return done
