"""Supervision on a real database (SQLite, and PostgreSQL when configured): the queue fed at ingest
(flags always, the sample as drawn, copies never) and by free-form replies recorded sent, decisions
(once, four eyes, comments, an archive record and an audit event) and the coverage read back."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from collectors.types import RawPost
from config.archive import Supervision
from config.settings import Settings
from models import library, outbox, replies, supervision
from models.archive_tables import ArchiveContent, ArchiveRecord, Review
from models.db import Database
from models.library import Draft
from models.replies import Target
from models.supervision import SupervisionError
from models.tables import AuditEvent, Mention, QueueItem, utcnow
from tests.kit import seed_items, store_posts

FLAGGED = "@AureliaBank I will report you to the CFPB, this is fraud"


def _reviews(db: Database) -> list[Review]:
    with db.read() as s:
        return list(s.scalars(select(Review).order_by(Review.id)))


def _set_supervision(db: Database, config: Supervision) -> None:
    db.write.kw["info"] = {**db.write.kw["info"], "supervision": config}


def test_flagged_posts_are_always_queued_and_the_sample_is_the_draw(db: Database, settings: Settings) -> None:
    _set_supervision(db, Supervision(flags=("regulator", "fraud"), sample_percent=30.0, due_hours=48))
    now = datetime.now(UTC)
    posts = [RawPost(f"s{i}", "x", f"@AureliaBank question number {i} about my savings account", now, None,
                     f"@user{i}", "U", 10) for i in range(60)]
    posts.append(RawPost("f1", "x", FLAGGED, now, None, "@angry", "A", 10))
    store_posts(db, settings, posts)
    with db.read() as s:
        mentions = {ext: (mid, flags) for ext, mid, flags in s.execute(
            select(Mention.external_id, Mention.id, Mention.risk_flags))}
    found = {r.mention_id: r for r in _reviews(db)}
    flagged_id = mentions["f1"][0]
    assert found[flagged_id].reason == "flag:regulator,fraud"
    expected = {mid for ext, (mid, _f) in mentions.items() if ext != "f1" and supervision.sampled(mid, ext, 30.0)}
    assert {m for m, r in found.items() if r.reason == "sample"} == expected and expected  # exactly the draw
    review = found[flagged_id]
    assert review.due_at - review.created_at == timedelta(hours=48) and review.reviewed_at is None
    assert review.network == "x" and review.team == "legal"
    # A copy (same author, same words, another network) is worked, and reviewed, with its original.
    store_posts(db, settings, [RawPost("f1-copy", "mastodon", FLAGGED, now, None, "@angry", "A", 10)])
    assert len(_reviews(db)) == len(found)


def test_nothing_sampled_at_zero_percent_but_flags(db: Database, settings: Settings) -> None:
    _set_supervision(db, Supervision(flags=("legal_threat",), sample_percent=0.0))
    seed_items(db, settings, [f"@AureliaBank hello number {i}" for i in range(30)] + ["I will sue you, lawyer"])
    assert [r.reason for r in _reviews(db)] == ["flag:legal_threat"]


def _target(db: Database, item_id: int) -> Target:
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        m = s.get(Mention, item.mention_id)
        assert m is not None
        return Target("reply", m.network, "demo", item.team, m.brand, m.language, item.id, m.id)


def _send(db: Database, reply_id: int) -> None:
    with db.write.begin() as s:
        assert outbox.claim(s, reply_id, "w1") is not None
    with db.write.begin() as s:
        assert outbox.record_sent(s, reply_id, f"p{reply_id}", None) is not None


def _quiet(db: Database) -> None:
    """No review from ingest: only the replies' reviews are counted."""
    _set_supervision(db, Supervision(flags=(), sample_percent=0.0))


def test_free_form_replies_sent_without_approval_are_reviewed(db: Database, settings: Settings) -> None:
    _quiet(db)
    item = seed_items(db, settings, ["My card was blocked again, what is going on?"], network="mastodon")[0]
    none = replies.compile_rules(replace(settings, outbound=replace(settings.outbound, default_policy="none")))
    template_only = replies.compile_rules(settings)
    with db.write.begin() as s:
        version = library.create(s, "lib.author", "sorry", "en", "reply",
                                 Draft("Sorry", "cards", "We are sorry {{first_name}}, we will call you today.",
                                       ("customer_service",)), ("customer_service", "legal", "marketing"))
        library.decide(s, "lib.compliance", version.id, approve=True)
        free = replies.compose(s, none, "agent.cs", _target(db, item), "Call me back on my own number.").id
        kept = replies.compose(s, template_only, "agent.cs", _target(db, item), None, version.id,
                               {"first_name": "Ana"}).id
        edited = replies.compose(s, none, "agent.cs", _target(db, item),
                                 "We are sorry Ana, we will call you today. Also: our fund never loses!",
                                 version.id, {"first_name": "Ana"}).id
        approved = replies.compose(s, template_only, "agent.cs", _target(db, item), "Free text, approved first.").id
        replies.approve(s, approved, "compliance")
    for reply_id in (free, kept, edited, approved):
        _send(db, reply_id)
    found = {r.reply_id: r for r in _reviews(db)}
    assert set(found) == {free, edited}  # the unedited template and the approved text are not
    assert all(r.reason == "free_form" and r.team == "customer_service" and r.network == "mastodon"
               for r in found.values())
    # ... and a reply a person checked as posted is reviewed like one recorded sent
    with db.write.begin() as s:
        late = replies.compose(s, none, "agent.cs", _target(db, item), "Another free answer.").id
    with db.write.begin() as s:
        outbox.claim(s, late, "w1")
        outbox.record_unknown(s, late, "timeout")
    with db.write.begin() as s:
        outbox.person_checked(s, late, "lead.cs", True, None, "seen on the account")
    assert late in {r.reply_id for r in _reviews(db)}
    _set_supervision(db, Supervision(flags=(), sample_percent=0.0, free_form=False))
    with db.write.begin() as s:
        off = replies.compose(s, none, "agent.cs", _target(db, item), "Not supervised when turned off.").id
    _send(db, off)
    assert off not in {r.reply_id for r in _reviews(db)}


def _one_free_form_review(db: Database, settings: Settings) -> int:
    _quiet(db)
    item = seed_items(db, settings, ["My card was blocked again, what is going on?"], network="mastodon")[0]
    rules = replies.compile_rules(replace(settings, outbound=replace(settings.outbound, default_policy="none")))
    with db.write.begin() as s:
        reply_id = replies.compose(s, rules, "agent.cs", _target(db, item), "Sure, send me your card number.").id
    with db.write.begin() as s:
        replies.edit(s, rules, reply_id, "agent.two", "Sure, send us a private message.")
    _send(db, reply_id)
    return _reviews(db)[0].id


def test_a_decision_is_recorded_once_by_someone_else_with_its_evidence(db: Database, settings: Settings) -> None:
    review_id = _one_free_form_review(db, settings)
    for writer in ("agent.cs", "agent.two"):  # wrote it, edited it: four eyes
        with db.write.begin() as s, pytest.raises(SupervisionError, match="four eyes"):
            supervision.decide(s, writer, review_id, "no_issue", None)
    for decision in ("follow_up", "escalate"):
        with db.write.begin() as s, pytest.raises(SupervisionError, match="comment is required"):
            supervision.decide(s, "compliance", review_id, decision, "  ")
    with db.write.begin() as s, pytest.raises(SupervisionError, match="one of"):
        supervision.decide(s, "compliance", review_id, "approve", "x")
    with db.write.begin() as s, pytest.raises(SupervisionError, match="does not exist"):
        supervision.decide(s, "compliance", review_id + 1000, "no_issue", None)
    assert _reviews(db)[0].reviewed_at is None  # refusals changed nothing
    with db.write.begin() as s:
        supervision.decide(s, "compliance", review_id, "follow_up", "Asking for a card number: coach the agent.")
    with db.write.begin() as s, pytest.raises(SupervisionError, match="decided already"):
        supervision.decide(s, "compliance.b", review_id, "no_issue", None)
    review = _reviews(db)[0]
    assert (review.reviewer, review.decision, review.comment) == (
        "compliance", "follow_up", "Asking for a card number: coach the agent.")
    with db.read() as s:
        record = s.scalars(select(ArchiveRecord).where(ArchiveRecord.kind == "review")).one()
        body = json.loads(s.get(ArchiveContent, record.id).body)  # type: ignore[union-attr]
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.subject == f"review:{review_id}")))
    assert record.subject == f"review:{review_id}" and record.network == "mastodon"
    assert body["decision"] == "follow_up" and body["reviewer"] == "compliance" and body["overdue"] is False
    assert body["reply_id"] == review.reply_id and body["reason"] == "free_form"
    assert [(e.actor, e.action, e.before["decision"], e.after["decision"]) for e in events] == [
        ("compliance", "review.decide", None, "follow_up")]


def test_two_reviewers_at_once_one_decision(db: Database, settings: Settings) -> None:
    """The second of two reviewers who both loaded the open review is refused by the conditional
    update, not by what its session read."""
    if db.is_sqlite:
        pytest.skip("SQLite writers queue on one lock (BEGIN IMMEDIATE): two decisions cannot interleave")
    review_id = _one_free_form_review(db, settings)
    first = db.write()
    first.begin()
    loaded = first.get(Review, review_id)  # kept: the session's identity map holds it as read, open
    assert loaded is not None and loaded.reviewed_at is None
    with db.write.begin() as s:
        supervision.decide(s, "compliance", review_id, "no_issue", None)
    # the first session holds the review as it loaded it, open: decide must still refuse
    with pytest.raises(SupervisionError, match="decided already"):
        supervision.decide(first, "compliance.b", review_id, "escalate", "late")
    first.rollback()
    first.close()
    assert _reviews(db)[0].decision == "no_issue"


def test_open_reviews_coverage_and_overdue_from_the_database(db: Database, settings: Settings) -> None:
    _set_supervision(db, Supervision(flags=("fraud",), sample_percent=0.0, due_hours=24))
    seed_items(db, settings, ["this is fraud, my money was stolen", "identity theft again, fraud",
                              "hacked account, fraud"], prefix="f", author="@v")
    rows = _reviews(db)
    assert len(rows) == 3
    t0 = utcnow() - timedelta(days=3)
    with db.write.begin() as s:  # queued three days ago, two days ago and now
        for review, created in zip(rows, (t0, t0 + timedelta(days=1), utcnow()), strict=True):
            s.execute(update(Review).where(Review.id == review.id)
                      .values(created_at=created, due_at=created + timedelta(hours=24)))
    with db.read() as s:
        listed = [r.id for r, m, _p in supervision.open_reviews(s, 10)]
        assert listed == [r.id for r in rows]  # oldest due first
        assert all(m is not None and "fraud" in m.text for _r, m, _p in supervision.open_reviews(s, 10))
        assert supervision.open_reviews(s, 10, teams=["marketing"]) == []
        assert supervision.open_counts(s) == (3, 2)
    with db.write.begin() as s:
        supervision.decide(s, "compliance", rows[0].id, "no_issue", None, now=t0 + timedelta(hours=2))
    with db.read() as s:
        assert supervision.open_counts(s) == (2, 1)
        assert [r.id for r, _m, _p in supervision.open_reviews(s, 1)] == [rows[1].id]  # bounded
        report = supervision.coverage(s, t0 - timedelta(days=1), utcnow() + timedelta(seconds=1), "day")
        capped = supervision.coverage(s, t0 - timedelta(days=1), utcnow() + timedelta(seconds=1), "day", limit=2)
    totals = [r for r in report.rows if r.reviewer is None]
    assert report.complete and not capped.complete
    assert sum(r.flagged for r in totals) == 3 and sum(r.reviewed for r in totals) == 1
    assert sum(r.overdue for r in totals) == 1
    first_day = next(r for r in report.rows if r.reviewer == "compliance")
    assert (first_day.reviewed, first_day.median_minutes, first_day.late) == (1, 120.0, 0)
