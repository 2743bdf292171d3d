"""The sender (the collector's ``replies:send`` job, every 5 s): replies and posts from the outbox to
their networks, never twice.

Each run first moves replies that waited for approval too long to ``expired``
(``outbound.yaml: approval.expire_hours``), then settles replies a dead sender left ``sending``,
then sends what is due, oldest first:

1. the reply is claimed (``queued`` → ``sending``) and that claim committed before any request
   (`models.outbox.claim`, which also refuses a text whose hash is not the approved text's);
2. its source's writer (`collectors.replies`) makes ONE request that could create a post;
3. the outcome is recorded: ``sent`` (the platform's id and URL), ``retry`` (rate limited: at
   the time ``Retry-After`` gives; a refused connection: after a backoff), ``failed`` (refused
   for good), or ``uncertain`` (a timeout or a 5xx after the request left: it may have been
   posted). An uncertain send is repeated only when the platform's own idempotency makes a
   repeat harmless (Mastodon's ``Idempotency-Key`` within its hour, Bluesky's record key);
   otherwise it is marked ``check_first`` and, ``FIND_DELAY`` later (the platform may still be
   handling the request), the writer looks for the post before anything is sent: found, it is
   recorded as sent; certainly absent, it is sent; when nothing can tell, the reply becomes
   ``unknown`` ("outcome unknown — check") for a person. Never a second post.

A crash between 1 and 3 leaves the reply ``sending``; the next run (after ``STALE``) treats it
as uncertain the same way. Failures and unknown outcomes notify the ``send_failed`` channels, and show on
the item's page, on /sources and on the wall's health strip.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from collectors.replies import Outcome, Outgoing, Writer, writer_for
from collectors.types import CollectorError
from config.settings import Settings, SourceConfig
from models import outbox, replies
from models.db import Database
from models.notifications import enqueue_written, send_failed_message
from models.reply_tables import Reply
from models.tables import Mention, to_naive_utc, utcnow

log = logging.getLogger("vigie.collect")

# A claim this old belongs to a sender that died: far beyond one writer call (a few requests, each
# with its timeout and read retries), so a slow sender is never taken for a dead one.
STALE = timedelta(minutes=5)
FIND_DELAY = timedelta(seconds=60)  # after an unclear answer, let the platform finish before looking
MAX_ATTEMPTS = 8  # retries of a reply that is certainly not posted, then it fails for a person to see
BACKOFF_BASE = 30.0  # seconds; doubled each attempt, capped, with full jitter
BACKOFF_CAP = 1800.0
BATCH = 50


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    expired: int = 0
    settled: int = 0  # stale claims settled
    errors: list[str] = field(default_factory=list)


def log_line(report: SendReport) -> str | None:
    if not (report.sent or report.retried or report.failed or report.unknown or report.expired or report.settled):
        return None
    return (f"replies: {report.sent} sent, {report.retried} to retry, {report.failed} failed, "
            f"{report.unknown} outcome unknown, {report.expired} approvals expired, {report.settled} stale settled")


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(1.0, (rng or random).uniform(ceiling / 2, ceiling)))


class Writers:
    """The writers of this run, built once per source that sends something, closed at the end."""

    def __init__(self, settings: Settings) -> None:
        self._configs: dict[str, SourceConfig] = {s.name: s for s in settings.sources}
        self._built: dict[str, Writer | None] = {}

        self._problems: dict[str, str] = {}

    def get(self, source_name: str | None) -> Writer | None:
        if source_name is None or source_name not in self._configs:
            return None
        if not self._configs[source_name].enabled:
            self._problems[source_name] = "the source is disabled in sources.yaml"
            return None
        if source_name not in self._built:
            try:
                self._built[source_name] = writer_for(self._configs[source_name])
            except CollectorError as exc:  # bad write options: this source fails, the others go on
                self._built[source_name], self._problems[source_name] = None, str(exc)
        return self._built[source_name]

    def problem(self, source_name: str | None) -> str:
        if source_name is None or source_name not in self._configs:
            return "no such source in sources.yaml"
        return self._problems.get(source_name, "no writer for its kind or no write credentials configured "
                                               "(sources.yaml)")

    def close(self) -> None:
        for writer in self._built.values():
            if writer is not None:
                writer.close()


def _outgoing(reply: Reply, mention: Mention | None) -> Outgoing:
    return Outgoing(reply_id=reply.id, kind=reply.kind, text=reply.text, idempotency_key=reply.idempotency_key,
                    target_id=mention.external_id if mention is not None else None,
                    target_url=mention.url if mention is not None else None, attempt=reply.attempts,
                    first_attempt_at=reply.first_attempt_at)


def _notify(db: Database, settings: Settings, reply_id: int) -> None:
    if not any("send_failed" in channel.events for channel in settings.notifications):
        return
    with db.write.begin() as session:
        reply = outbox.reply(session, reply_id)
        if reply is None:
            return
        enqueue_written(session, settings, "send_failed", reply.queue_item_id,
                        lambda: send_failed_message(settings, reply))  # each channel's in its language


def _late(reply_id: int, worker: str, outcome: Outcome) -> None:
    """An outcome for a claim that was settled as stale meanwhile: nothing is overwritten, but an
    operator must know (a post may exist beside the one the reply now records)."""
    log.error("reply %s: %s answered %s (%s) after its claim was settled as stale: check the account",
              reply_id, worker, outcome.state, outcome.platform_id or outcome.error or "no detail")


def _apply(db: Database, settings: Settings, writer: Writer, out: Outgoing, outcome: Outcome,
           report: SendReport, fence: outbox.Fence, was_uncertain: bool) -> None:
    """Record what the network answered, for the claim ``fence`` only. After an uncertain answer the
    next attempt looks for the post first (``check_first``) unless, when it comes, the platform's
    own idempotency still makes a repeat harmless; it waits a little (the platform may still be
    handling the request). ``was_uncertain``: an earlier attempt may have posted it, so a refusal
    now is no proof it was not posted: a person checks."""
    now = utcnow()
    recorded: Reply | None
    with db.write.begin() as session:
        if outcome.state == "sent":
            recorded = outbox.record_sent(session, out.reply_id, outcome.platform_id, outcome.url, fence=fence)
            report.sent += recorded is not None
        elif outcome.state in ("retry", "uncertain") and out.attempt < MAX_ATTEMPTS:
            uncertain = outcome.state == "uncertain"
            at = to_naive_utc(outcome.retry_at) if outcome.retry_at is not None else (
                now + (backoff(out.attempt) if writer.idempotent(out, now) else FIND_DELAY) if uncertain
                else now + backoff(out.attempt))
            recorded = outbox.record_retry(session, out.reply_id, max(at, now), outcome.error,
                                           check_first=uncertain or was_uncertain, fence=fence)
            report.retried += recorded is not None
        else:
            error = outcome.error or "refused by the network"
            if outcome.state == "uncertain" or was_uncertain:  # an attempt may have posted it: a person checks
                recorded = outbox.record_unknown(session, out.reply_id,
                                                 f"no clear answer after {out.attempt} attempts: {error}", fence=fence)
                report.unknown += recorded is not None
            else:
                if outcome.state == "retry":
                    error = f"gave up after {out.attempt} attempts: {error}"
                recorded = outbox.record_failed(session, out.reply_id, error, fence=fence)
                report.failed += recorded is not None
    if recorded is None:
        _late(out.reply_id, fence[0], outcome)
    elif recorded.status in ("failed", "unknown"):
        _notify(db, settings, out.reply_id)


def _load(db: Database, reply_id: int) -> tuple[Reply, Mention | None] | None:
    with db.read() as session:
        reply = outbox.reply(session, reply_id)
        if reply is None:
            return None
        mention = session.get(Mention, reply.mention_id) if reply.mention_id is not None else None
        session.expunge_all()
        return reply, mention


def _look_first(db: Database, settings: Settings, writer: Writer, out: Outgoing, report: SendReport,
                fence: outbox.Fence) -> bool:
    """For a reply an earlier attempt may have posted: look for the post. True when it may now be
    sent (the platform says it does not exist); otherwise its outcome is recorded here."""
    try:
        found = writer.find(out)
    except Exception as exc:  # a failing look-up cannot tell
        log.warning("reply %s: looking for the post failed: %s", out.reply_id, exc)
        found = None
    if found is not None and found.state == "retry":
        return True
    with db.write.begin() as session:
        if found is not None and found.state == "sent":
            report.sent += outbox.record_sent(session, out.reply_id, found.platform_id, found.url,
                                              fence=fence) is not None
            return False
        unknown = outbox.record_unknown(session, out.reply_id, "an earlier attempt may have posted it and the "
                                        "network cannot tell: check the account before sending again", fence=fence)
        report.unknown += unknown is not None
    _notify(db, settings, out.reply_id)
    return False


def _send_one(db: Database, settings: Settings, writers: Writers, reply_id: int, worker: str,
              report: SendReport, now: datetime) -> None:
    with db.write.begin() as session:
        # Due by the run's clock; stamped with the moment of the claim (stale claims are judged by it).
        claimed = outbox.claim(session, reply_id, worker, utcnow(), due_by=now)
        if claimed is not None and claimed.status == "sending":
            mention = session.get(Mention, claimed.mention_id) if claimed.mention_id is not None else None
            out, source, check_first = _outgoing(claimed, mention), claimed.source_name, claimed.check_first
            fence = (worker, claimed.attempts)
    if claimed is None or claimed.status == "pending":
        return  # taken by another sender, no longer due, or back to review (its template changed)
    if claimed.status != "sending":  # refused: its text is not the text approved
        report.failed += 1
        _notify(db, settings, reply_id)  # a failure like any other: the send_failed channels hear of it
        return
    writer = writers.get(source)
    if writer is None:
        with db.write.begin() as session:
            if check_first:
                outbox.record_unknown(session, reply_id, f"an earlier attempt may have posted it and source {source} "
                                                         "can no longer send or look: check the account", fence=fence)
                report.unknown += 1
            else:
                outbox.record_failed(session, reply_id, f"source {source} cannot send: {writers.problem(source)}",
                                     fence=fence)
                report.failed += 1
        _notify(db, settings, reply_id)
        return
    # After an unclear answer: repeat only while the platform's idempotency still holds, else look first.
    if check_first and not writer.idempotent(out, utcnow()) and not _look_first(db, settings, writer, out, report,
                                                                                fence):
        return
    try:
        outcome = writer.send(out)
    except Exception as exc:  # a writer bug after the request may have left: treat as uncertain
        log.exception("reply %s: the %s writer failed", reply_id, writer.network)
        outcome = Outcome("uncertain", error=f"{type(exc).__name__}: {exc}"[:500])
    _apply(db, settings, writer, out, outcome, report, fence, check_first)


def _settle_stale(db: Database, reply_id: int, report: SendReport) -> None:
    """A reply left ``sending`` by a sender that died (or is far too slow): its next attempt looks
    for the post first, unless the platform's idempotency makes a repeat harmless then. The
    settling is fenced on the claim it read: a claim taken again meanwhile is left alone."""
    loaded = _load(db, reply_id)
    if loaded is None or loaded[0].status != "sending":
        return
    reply, _mention = loaded
    report.settled += 1
    with db.write.begin() as session:
        outbox.record_retry(session, reply_id, utcnow(), "the sender stopped while sending (crash or restart)",
                            check_first=True, fence=(reply.sending_by or "", reply.attempts))


def run_send_replies(db: Database, settings: Settings, now: datetime | None = None,
                     stop: threading.Event | None = None) -> SendReport:
    report = SendReport()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    worker = f"{settings.worker_id}:send"
    with db.write.begin() as session:
        report.expired = len(replies.expire_waiting(session, settings.outbound.expire_hours, now))
    writers = Writers(settings)
    try:
        with db.read() as session:
            stale_ids = outbox.stale(session, STALE, now, BATCH)
        for reply_id in stale_ids:
            _settle_stale(db, reply_id, report)
        with db.read() as session:
            due_ids = outbox.due(session, now, BATCH)
        for reply_id in due_ids:
            if stop is not None and stop.is_set():
                break
            try:
                _send_one(db, settings, writers, reply_id, worker, report, now)
            except Exception as exc:  # one reply's trouble (a database hiccup) does not stop the others
                log.exception("reply %s: not sent this run", reply_id)
                report.errors.append(f"reply {reply_id}: {exc}")
    finally:
        writers.close()
    return report
