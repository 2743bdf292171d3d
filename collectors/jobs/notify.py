"""Sending the notification outbox through Apprise (the collector's ``notify:send`` job, every 10 s).

`enqueue` (from `models.notifications`) writes the rows; `deliver_pending` sends the ones that
are due. Each row goes through three short transactions, never holding one open over the
network: *claim* (attempts + 1, and ``next_attempt_at`` pushed a lease ahead, so a second
collector process leaves it alone), *send* (no transaction), *record* (sent, or the next try
after an exponential backoff, or ``failed`` with ``last_error`` after `MAX_ATTEMPTS`).

Delivery is at least once: a row marked sent is never sent again, but a crash between a
successful send and its record leaves the row pending, and it is sent again once its lease
ends. One failing channel never stops the others: every row is tried on its own.

Bodies are plain text (``body_format=text``): Apprise escapes them for channels that render
HTML or markup, so a post's text is never interpreted as HTML.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import apprise
from sqlalchemy import or_, select, update

from config.notifications import NotificationChannel
from config.settings import Settings
from models.db import Database
from models.notifications import channel_reader
from models.notifications import enqueue as enqueue  # re-exported: the outbox's writer
from models.summary import stored_summary
from models.summary_export import summary_pdf
from models.tables import Notification, utcnow

log = logging.getLogger("vigie.notify")

MAX_ATTEMPTS = 6
BACKOFF_FIRST = timedelta(minutes=1)  # then 2, 4, 8, 16 minutes: given up after about half an hour
BACKOFF_MAX = timedelta(hours=1)
SEND_LEASE = timedelta(minutes=5)  # a claimed row is left alone this long by other processes
MAX_ERROR_CHARS = 1000


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    failed: int = 0  # given up on
    skipped: int = 0  # taken by another process meanwhile
    errors: list[str] = field(default_factory=list)


def log_line(report: DeliveryReport) -> str | None:
    """The collector's log line about a run, None when nothing was tried."""
    if not (report.sent or report.retrying or report.failed or report.errors):
        return None
    counts = (report.sent, report.retrying, report.failed)
    return "notifications: {} sent, {} to retry, {} given up".format(*counts)  # untranslated: a log line


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4, 8… minutes, at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def send(url: str, title: str, body: str, attach: list[str] | None = None) -> str | None:
    """Send one message to one Apprise URL (with files ``attach``ed, where the service takes them):
    None when delivered, else why not. Apprise reports a failure by returning False and logging
    the reason, so its warnings are captured meanwhile."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "Apprise does not accept this channel's URL"  # untranslated: an error stored
    with apprise.LogCapture(level=logging.WARNING, fmt="%(levelname)s %(message)s") as captured:
        try:
            delivered = bool(notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT,
                                             attach=apprise.AppriseAttachment(attach) if attach else None))
        except Exception as exc:  # a plugin bug must not end the run
            return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        logged = captured.getvalue()
    if delivered:
        return None
    lines = [line.split(" ", 1)[1] for line in logged.splitlines() if line.startswith(("WARNING ", "ERROR "))]
    unsaid = "Apprise reported a failure without a reason"  # untranslated: an error stored
    return ("; ".join(lines) or unsaid)[:MAX_ERROR_CHARS]


def _claim(db: Database, row_id: int, attempts: int, now: datetime) -> Notification | None:
    """Take the row for one attempt; None if another process took it first."""
    with db.write.begin() as session:
        taken = session.execute(
            update(Notification)
            .where(Notification.id == row_id, Notification.status == "pending", Notification.attempts == attempts)
            .values(attempts=attempts + 1, next_attempt_at=now + SEND_LEASE)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            return None
        return session.get(Notification, row_id, populate_existing=True)


def _record(
    db: Database, row_id: int, attempts: int, error: str | None, now: datetime, give_up: bool = False
) -> str:
    """Store the outcome of the ``attempts``-th try: "sent", "retrying" or "failed"."""
    values: dict[str, object]
    if error is None:
        outcome, values = "sent", {"status": "sent", "sent_at": now, "next_attempt_at": None, "last_error": None}
    elif give_up or attempts >= MAX_ATTEMPTS:
        outcome, values = "failed", {"status": "failed", "next_attempt_at": None, "last_error": error}
    else:
        outcome, values = "retrying", {"next_attempt_at": now + backoff(attempts), "last_error": error}
    with db.write.begin() as session:
        session.execute(
            update(Notification)
            .where(Notification.id == row_id, Notification.status == "pending", Notification.attempts == attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return outcome


def deliver_pending(
    db: Database, settings: Settings, now: datetime | None = None, limit: int = 50
) -> DeliveryReport:
    """Send up to ``limit`` due pending messages, oldest first."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = DeliveryReport()
    channels = {c.name: c for c in settings.notifications}
    with db.read() as session:
        due = session.execute(
            select(Notification.id, Notification.attempts)
            .where(Notification.status == "pending",
                   or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= clock()))
            .order_by(Notification.id)
            .limit(limit)
        ).all()
    for row_id, attempts in due:
        try:
            outcome = _attempt(db, settings, channels, row_id, attempts, clock)
        except Exception as exc:  # one bad row must not block the rest
            log.exception("notification %d could not be delivered", row_id)
            report.errors.append(f"notification {row_id}: {type(exc).__name__}: {exc}")  # untranslated: a log line
            continue
        if outcome == "sent":
            report.sent += 1
        elif outcome == "retrying":
            report.retrying += 1
        elif outcome == "failed":
            report.failed += 1
        else:
            report.skipped += 1
    return report


SUMMARY_MISSING = "the summary of this day is not stored"  # untranslated: an error stored


def _send_summary(db: Database, settings: Settings, channel: NotificationChannel, row: Notification) -> str | None:
    """The daily summary's message with its PDF, in the channel's language and the firm's time zone."""
    assert row.summary_day is not None
    with db.read() as session:
        figures = stored_summary(session, row.summary_day)
    if figures is None:
        return SUMMARY_MISSING
    with tempfile.TemporaryDirectory(prefix="vigie-summary-") as folder:
        path = Path(folder) / f"vigie-summary-{row.summary_day.isoformat()}.pdf"
        try:
            path.write_bytes(summary_pdf(figures, channel_reader(channel, settings), settings))
        except Exception as exc:  # recorded like a failed send: retried with backoff, then given up
            log.exception("the PDF of the %s summary could not be made", row.summary_day)
            why = f"the PDF could not be made: {type(exc).__name__}: {exc}"  # untranslated: an error stored
            return why[:MAX_ERROR_CHARS]
        return send(channel.url.reveal(), row.title, row.body, attach=[str(path)])


def _attempt(
    db: Database, settings: Settings, channels: dict[str, NotificationChannel], row_id: int, attempts: int,
    clock: Callable[[], datetime]
) -> str:
    row = _claim(db, row_id, attempts, clock())
    if row is None:
        return "skipped"
    channel = channels.get(row.channel)
    error: str | None
    if channel is None:  # removed from (or disabled in) notifications.yaml since the row was written
        error = f"channel {row.channel!r} is not configured (any more)"  # untranslated: an error stored
        outcome = _record(db, row_id, attempts + 1, error, clock(), give_up=True)
    elif row.summary_day is not None:  # the daily summary: its PDF, rendered from the stored figures
        error = _send_summary(db, settings, channel, row)
        outcome = _record(db, row_id, attempts + 1, error, clock(), give_up=error == SUMMARY_MISSING)
    else:
        error = send(channel.url.reveal(), row.title, row.body)
        outcome = _record(db, row_id, attempts + 1, error, clock())
    if error is not None:
        log.warning("notification %d to %s, attempt %d: %s (%s)", row_id, row.channel, attempts + 1, error, outcome)
    return outcome
