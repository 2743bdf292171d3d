"""Supervision (FINRA 3110-style evidence): what compliance reviews after the fact, and the reviews.

The queue (`Review` rows) is fed in the transaction of what it reviews:

* at ingest (`collectors.store.store_batch`, originals only): a post whose risk flags meet
  ``archive.yaml: supervision.flags`` is always reviewed (reason ``flag:<name>[,<name>…]``);
  any other post is sampled at ``supervision.percent(network, team)`` percent (reason
  ``sample``). The draw is `sampled`: SHA-256 of the mention's id and external id, so it is
  reproducible (an auditor re-derives who was picked) and no person chooses;
* when a reply or post is recorded sent (`models.outbox.record_sent`, `person_checked`) without
  pre-approval and not as an unedited template (reason ``free_form``).

The settings come from the write session (``session.info["supervision"]``, set by
`models.db.open_database`), like the archive's retention. A review is due ``due_hours`` after it
is created. `decide` records the one decision (no_issue, follow_up, escalate; a comment required
for the last two), refuses the reply's writer (four eyes), and writes a "review" archive record and
an audit event (subject ``review:<id>``). `coverage_rows` turns reviews into the figures per period
and reviewer (pure); `coverage` reads them, bounded.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from config.archive import Supervision
from i18n import N_, _
from models.archive import Scope, mention_author, write_record
from models.archive_tables import Review
from models.audit_log import record_event
from models.bulk import insert_rows
from models.compose import fixed_text_changed, text_sha256
from models.replies import wrote
from models.reply_rules import _free_text
from models.reply_tables import Reply, TemplateVersion
from models.tables import Base, Mention, utcnow

DECISIONS: tuple[str, ...] = ("no_issue", "follow_up", "escalate")
DECISION_NAMES = {"no_issue": N_("No issue"), "follow_up": N_("Follow-up"), "escalate": N_("Escalate")}


def decision_name(decision: str | None) -> str:
    """A review decision in the reader's language."""
    return _(DECISION_NAMES[decision]) if decision in DECISION_NAMES else str(decision or "")
NEEDS_COMMENT: tuple[str, ...] = ("follow_up", "escalate")
MAX_COMMENT = 2000
MAX_COVERAGE = 100_000  # reviews read for one coverage table (a few months of a busy firm's sample)
_SCALE = float(1 << 64)


class SupervisionError(Exception):
    """A review decision refused: the message says why, for the person who asked."""


def supervision_of(session: Session) -> Supervision:
    found = session.info.get("supervision")
    return found if isinstance(found, Supervision) else Supervision()


# --- what is reviewed (pure) --------------------------------------------------------------------


def draw(mention_id: int, external_id: str) -> float:
    """A number in [0, 1) from the mention's id and external id: the same mention always draws
    the same number, and SHA-256 spreads them evenly whoever wrote the post."""
    digest = hashlib.sha256(f"{mention_id}\x1f{external_id}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def sampled(mention_id: int, external_id: str, percent: float) -> bool:
    return percent > 0 and draw(mention_id, external_id) * 100.0 < percent


def ingest_reason(config: Supervision, mention_id: int, external_id: str, flags: Iterable[str],
                  network: str | None, team: str | None) -> str | None:
    """Why a newly stored post is reviewed ("flag:fraud", "sample"), or None."""
    present = set(flags)
    hit = [f for f in config.flags if f in present]
    if hit:
        return ("flag:" + ",".join(hit))[:60]
    return "sample" if sampled(mention_id, external_id, config.percent(network, team)) else None


def free_form(reply: Reply, template_body: str | None, disclosure: str | None = None) -> bool:
    """Was ``reply`` sent without pre-approval and not as an unedited template?

    Pre-approved: compliance approved this very text. An unedited template: the template filled
    with plain values, as written, with the ``disclosure`` line its brand, network and language
    carry (outbound.yaml, as `models.reply_rules` adds it). Under policy ``none`` the rules never
    checked the text, so it is compared here."""
    if reply.kind not in ("reply", "post"):
        return False
    if reply.approved_sha256 is not None and reply.approved_sha256 == text_sha256(reply.text):
        return False
    if reply.template_version_id is None or template_body is None:
        return True
    values = reply.values or {}
    if any(_free_text(name, value) for name, value in values.items()):
        return True
    return fixed_text_changed(template_body, reply.text, values, disclosure)


def _row(config: Supervision, reason: str, now: datetime, **ids: Any) -> dict[str, Any]:
    return {"reason": reason, "created_at": now, "due_at": now + timedelta(hours=config.due_hours), **ids}


def queue_posts(session: Session, posts: Sequence[tuple[int, str, Iterable[str], str | None, str | None]],
                now: datetime) -> int:
    """Queue the reviews of newly stored originals (mention id, external id, risk flags, network,
    team) in the caller's transaction; how many."""
    config = supervision_of(session)
    rows = []
    for mention_id, external_id, flags, network, team in posts:
        reason = ingest_reason(config, mention_id, external_id, flags or (), network, team)
        if reason is not None:
            rows.append(_row(config, reason, now, mention_id=mention_id, reply_id=None, network=network, team=team))
    if rows:  # a batch's reviews in one bulk write (`models.bulk`: COPY on PostgreSQL)
        columns = tuple(rows[0])
        insert_rows(session.connection(), Base.metadata.tables[Review.__tablename__], columns,
                    [tuple(row[c] for c in columns) for row in rows])
    return len(rows)


def queue_sent_reply(session: Session, reply: Reply, now: datetime | None = None) -> bool:
    """Queue the review of a reply just recorded sent, when it is free-form (see `free_form`)."""
    config = supervision_of(session)
    if not config.free_form:
        return False
    body = None
    if reply.template_version_id is not None:
        body = session.scalar(select(TemplateVersion.body).where(TemplateVersion.id == reply.template_version_id))
    if not free_form(reply, body, config.disclosure(reply.brand, reply.network, reply.language)):
        return False
    session.connection().execute(insert(Review), [_row(config, "free_form", now or utcnow(),
                                                         mention_id=reply.mention_id, reply_id=reply.id,
                                                         network=reply.network, team=reply.team)])
    return True


# --- the decision -------------------------------------------------------------------------------


def _scope(session: Session, review: Review) -> Scope:
    if review.mention_id is not None:
        row = session.execute(select(Mention.network, Mention.brand, Mention.author_handle, Mention.source_id)
                              .where(Mention.id == review.mention_id)).first()
        if row is not None:
            author = mention_author(session, review.mention_id, row[0], row[2])  # not the marker of a request
            return Scope(review.mention_id, row[3], author, row[0], row[1], review.team)
    return Scope(mention_id=review.mention_id, network=review.network, team=review.team)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _facts(review: Review) -> dict[str, Any]:
    """A review as its record and audit event hold it (times as ISO 8601, UTC)."""
    return {"review_id": review.id, "mention_id": review.mention_id, "reply_id": review.reply_id,
            "reason": review.reason, "network": review.network, "team": review.team,
            "created_at": _iso(review.created_at), "due_at": _iso(review.due_at), "reviewer": review.reviewer,
            "reviewed_at": _iso(review.reviewed_at), "decision": review.decision, "comment": review.comment}


def decide(session: Session, actor: str, review_id: int, decision: str, comment: str | None,
           now: datetime | None = None) -> Review:
    """Record ``actor``'s decision on review ``review_id``, once; the review. The caller checked
    the role; this refuses a second decision and the reviewed reply's writer (four eyes)."""
    actor, now, comment = (actor or "").strip()[:200], now or utcnow(), (comment or "").strip()
    if not actor:
        raise SupervisionError(_("a review needs a reviewer"))
    if decision not in DECISIONS:
        raise SupervisionError(_("the decision must be one of {decisions}").format(decisions=", ".join(DECISIONS)))
    if decision in NEEDS_COMMENT and not comment:
        raise SupervisionError(_("a comment is required for a follow-up or an escalation"))
    review = session.get(Review, review_id)
    if review is None:
        raise SupervisionError(_("review {id} does not exist").format(id=review_id))
    if review.reviewed_at is not None:
        raise SupervisionError(_("review {id} was decided already ({decision} by {reviewer})").format(
            id=review_id, decision=decision_name(review.decision), reviewer=review.reviewer))
    if review.reply_id is not None:
        author = session.scalar(select(Reply.author).where(Reply.id == review.reply_id))
        if actor == author or wrote(session, review.reply_id, actor):
            raise SupervisionError(_("whoever wrote or edited a reply cannot review it (four eyes)"))
    before = _facts(review)
    done = session.execute(update(Review).where(Review.id == review_id, Review.reviewed_at.is_(None))
                           .values(reviewer=actor, reviewed_at=now, decision=decision,
                                   comment=comment[:MAX_COMMENT] or None)
                           .execution_options(synchronize_session=False))
    if not done.rowcount:  # type: ignore[attr-defined]  # another reviewer decided it meanwhile
        raise SupervisionError(_("review {id} was decided already").format(id=review_id))
    session.refresh(review)
    after = _facts(review)
    write_record(session, "review", f"review:{review_id}", {**after, "overdue": now > review.due_at},
                 scope=_scope(session, review), at=now)
    record_event(session, actor, "review.decide", before=before, after=after, reason=comment[:MAX_COMMENT] or None,
                 at=now, subject=f"review:{review_id}")
    return review


# --- reads --------------------------------------------------------------------------------------


def open_reviews(session: Session, limit: int = 200, teams: Sequence[str] | None = None
                 ) -> list[tuple[Review, Mention | None, Reply | None]]:
    """Reviews not yet decided, the soonest due first, with the post and the reply reviewed.
    ``teams``: only these teams' reviews (None: every team, and reviews of no team)."""
    query = (select(Review, Mention, Reply).outerjoin(Mention, Mention.id == Review.mention_id)
             .outerjoin(Reply, Reply.id == Review.reply_id).where(Review.reviewed_at.is_(None)))
    if teams is not None:
        query = query.where(Review.team.in_(list(teams)))
    rows = session.execute(query.order_by(Review.due_at, Review.id).limit(limit)).all()
    return [(r, m, p) for r, m, p in rows]


def open_counts(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """(open, overdue) reviews, read from the open-reviews index."""
    now = now or utcnow()
    waiting = session.scalar(select(func.count()).where(Review.reviewed_at.is_(None))) or 0
    late = session.scalar(select(func.count()).where(Review.reviewed_at.is_(None), Review.due_at < now)) or 0
    return int(waiting), int(late)


@dataclass(frozen=True)
class Reviewed:
    """What coverage needs of one review."""

    reason: str
    created_at: datetime
    due_at: datetime
    reviewer: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True)
class CoverageRow:
    """One period (its first day) and one reviewer (None: everyone, the period's totals).

    Counts are of the reviews created in the period: sampled, flagged, free_form (the totals row:
    all created; a reviewer's row: those this reviewer decided), reviewed (decided so far), late
    (decided after their due time), overdue (still open past due: totals row only) and the median
    minutes from creation to decision."""

    period: datetime
    reviewer: str | None
    sampled: int
    flagged: int
    free_form: int
    reviewed: int
    late: int
    overdue: int
    median_minutes: float | None


def period_start(at: datetime, period: str) -> datetime:
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday()) if period == "week" else day


def _kind(reason: str) -> str:
    return "flagged" if reason.startswith("flag:") else "free_form" if reason == "free_form" else "sampled"


def _row_of(period: datetime, reviewer: str | None, reviews: Sequence[Reviewed], now: datetime) -> CoverageRow:
    kinds = [_kind(r.reason) for r in reviews]
    done = [r for r in reviews if r.reviewed_at is not None]
    waits = [(r.reviewed_at - r.created_at).total_seconds() / 60 for r in done if r.reviewed_at is not None]
    return CoverageRow(period, reviewer, kinds.count("sampled"), kinds.count("flagged"), kinds.count("free_form"),
                       len(done), sum(1 for r in done if r.reviewed_at is not None and r.reviewed_at > r.due_at),
                       sum(1 for r in reviews if r.reviewed_at is None and r.due_at < now),
                       round(statistics.median(waits), 1) if waits else None)


def coverage_rows(reviews: Iterable[Reviewed], period: str, now: datetime) -> list[CoverageRow]:
    """Per period (newest first): the totals row, then one row per reviewer (by name)."""
    if period not in ("day", "week"):
        raise ValueError(f"period must be day or week, not {period!r}")
    by_period: dict[datetime, list[Reviewed]] = {}
    for review in reviews:
        by_period.setdefault(period_start(review.created_at, period), []).append(review)
    rows: list[CoverageRow] = []
    for start in sorted(by_period, reverse=True):
        group = by_period[start]
        rows.append(_row_of(start, None, group, now))
        for reviewer in sorted({r.reviewer for r in group if r.reviewer is not None}):
            rows.append(_row_of(start, reviewer, [r for r in group if r.reviewer == reviewer], now))
    return rows


@dataclass(frozen=True)
class Coverage:
    rows: list[CoverageRow]
    complete: bool  # False: more than MAX_COVERAGE reviews in the range, the oldest were left out


def coverage(session: Session, since: datetime, until: datetime, period: str = "day",
             now: datetime | None = None, limit: int = MAX_COVERAGE) -> Coverage:
    """The coverage of the reviews created in [since, until), per ``period`` and reviewer."""
    rows = session.execute(select(Review.reason, Review.created_at, Review.due_at, Review.reviewer,
                                  Review.reviewed_at)
                           .where(Review.created_at >= since, Review.created_at < until)
                           .order_by(Review.created_at.desc(), Review.id.desc()).limit(limit + 1)).all()
    reviews = [Reviewed(*row) for row in rows[:limit]]
    return Coverage(coverage_rows(reviews, period, now or utcnow()), len(rows) <= limit)


def review(session: Session, review_id: int) -> Review | None:
    return session.get(Review, review_id)


def change_marker(session: Session) -> str:
    """Changes when a review is queued or decided: the newest id and decision time, both read
    from an index (the page asks on every tick)."""
    newest = session.scalar(select(func.max(Review.id)))
    decided = session.scalar(select(func.max(Review.reviewed_at)))
    return f"{newest or 0}:{decided.isoformat() if decided else ''}"
