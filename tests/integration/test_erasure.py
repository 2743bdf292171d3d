"""Data-protection requests (SQLite and PostgreSQL), through the real ingest path: the author is
restricted wherever a mention is read (queue rows, the item page's data), posts stored later too,
the archive keeps the originals, and the request becomes "erased" once retention has ended."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from collectors.jobs.purge_archive import run_purge
from collectors.types import RawPost
from config.archive import Retention
from config.settings import Settings
from models import actions, erasure, queries, supervision
from models.archive_export import Selection, export_archive, seal_waiting
from models.archive_tables import ArchiveContent, ArchiveRecord, ErasureRequest, Review
from models.archive_views import RecordFilter, search_records
from models.db import Database
from models.erasure import ErasureError, request_erasure, restricted_authors
from models.holds import HoldScope, is_held, place_hold, release_hold, standing_scopes
from models.tables import AuditEvent, Mention, QueueItem, utcnow
from tests.kit import seed_items, store_posts

MARK = "[restricted: data-protection request 1]"


def _post(ext: str, author: str, text: str) -> RawPost:
    return RawPost(ext, "x", text, datetime.now(UTC), f"https://x.example/{author}/{ext}", author,
                   f"Name of {author}", 10)


def _shown(db: Database) -> list[tuple[str, str]]:
    """(author, text) of every open queue row, every team."""
    with db.read() as s:
        teams = sorted(set(s.scalars(select(QueueItem.team))))
        return [(row["author"], row["text"]) for team in teams for row in queries.open_queue(s, team)]


def test_an_erasure_request_restricts_then_erases(db: Database, settings: Settings) -> None:
    [eve_item, bob_item] = seed_items(db, settings, [_post("e1", "@eve", "my account number is 1234, help"),
                                                     _post("b1", "@bob", "my card was declined twice")])
    with db.write.begin() as s:
        actions.claim(s, eve_item, "agent1")
    with db.write.begin() as s:
        request = request_erasure(s, "ann", "x:@eve", "GDPR art. 17, ticket DP-7")
    assert request.status == "restricted" and request.id == 1
    shown = _shown(db)
    assert (MARK, MARK) in shown and ("@bob", "my card was declined twice") in shown
    assert not any("@eve" in author or "1234" in text for author, text in shown)
    with db.read() as s:
        mention_id = s.scalar(select(QueueItem.mention_id).where(QueueItem.id == eve_item))
        assert mention_id is not None
        detail = queries.mention_detail(s, mention_id)
        assert detail is not None
        m = detail["mention"]
        assert (m.text, m.author_handle, m.author_name, m.url) == (MARK, MARK, MARK, None)
        assert restricted_authors(s) == {"x:@eve"}
        original = s.scalar(select(ArchiveContent.body).join(ArchiveRecord).where(
            ArchiveRecord.kind == "post", ArchiveRecord.mention_id == mention_id))
    assert original is not None and "1234" in original and "@eve" in original  # the archive keeps it

    # a later post of hers is restricted as it is stored; an action on her item still names her in the archive
    store_posts(db, settings, [_post("e2", "@eve", "second message, call me on 555")])
    with db.write.begin() as s:
        actions.resolve(s, eve_item, "agent1", note="done")
    with db.read() as s:
        later = s.scalars(select(Mention).where(Mention.external_id == "e2")).one()
        assert (later.text, later.author_handle) == (MARK, MARK)
        event_authors = set(s.scalars(select(ArchiveRecord.author).where(ArchiveRecord.kind == "event",
                                                                         ArchiveRecord.mention_id == mention_id)))
        assert event_authors == {"x:@eve"}
        request_event = s.scalars(select(AuditEvent).where(AuditEvent.subject == "erasure:1")).one()
    assert "@eve" not in json.dumps(request_event.after)  # the event names the request, not the person

    # retention has not ended: still restricted; once it has, erased, with its outcome recorded
    run_purge(db, Retention(), utcnow() + timedelta(days=365))
    with db.read() as s:
        assert s.get(ErasureRequest, 1).status == "restricted"  # type: ignore[union-attr]
    end = utcnow() + timedelta(days=365 * 8)
    run_purge(db, Retention(), end)
    with db.read() as s:
        done = s.get(ErasureRequest, 1)
        assert done is not None and done.status == "erased" and done.erased_at == end
        outcome = s.scalars(select(ArchiveContent.body).join(ArchiveRecord).where(
            ArchiveRecord.subject == "erasure:1", ArchiveRecord.kind == "erasure").order_by(ArchiveRecord.id)).all()
        left = s.scalars(select(ArchiveRecord.subject).join(ArchiveContent).where(ArchiveRecord.author == "x:@eve")
                         .order_by(ArchiveRecord.id)).all()
    assert [json.loads(b)["action"] for b in outcome] == ["request", "erased"]
    assert set(left) == {"erasure:1"}  # only the request's own records (its evidence, restricted like hers)


def test_requests_are_checked(db: Database) -> None:
    with db.write.begin() as s:
        request_erasure(s, "ann", "x:@eve", "ticket 1")
    for author, reason, message in (("x:@eve", "again", "already restricted by data-protection request 1"),
                                    ("eve", "r", "network:handle"), ("x:@carl", " ", "reason")):
        with db.write.begin() as s, pytest.raises(ErasureError, match=message):
            request_erasure(s, "ann", author, reason)


def test_a_legal_hold_outranks_an_erasure_request(db: Database, settings: Settings) -> None:
    seed_items(db, settings, [_post("e1", "@eve", "I will sue the bank over this refund")])
    with db.write.begin() as s:
        hold = place_hold(s, "ann", "Eve v. Bank", "litigation", HoldScope(authors=("x:@eve",)))
        request_erasure(s, "bob", "x:@eve", "GDPR art. 17")
    end = utcnow() + timedelta(days=365 * 8)
    run_purge(db, Retention(), end)
    with db.read() as s:
        assert s.get(ErasureRequest, 1).status == "restricted"  # type: ignore[union-attr]
    with db.write.begin() as s:
        release_hold(s, "bob", hold.id, "judgment final")
    run_purge(db, Retention(), end)
    with db.read() as s:
        assert s.get(ErasureRequest, 1).status == "erased"  # type: ignore[union-attr]


def test_a_batch_stored_during_a_request_is_restricted(db: Database, settings: Settings) -> None:
    """PostgreSQL: a batch stored while a request is being made waits for it, then restricts."""
    if db.is_sqlite:
        pytest.skip("SQLite's writers are serialised: BEGIN IMMEDIATE")
    seed_items(db, settings, [_post("b1", "@bob", "first post so that the source exists")])
    asking = db.write()
    asking.begin()
    request_erasure(asking, "ann", "x:@eve", "GDPR art. 17")  # holds the lock, not committed yet
    storing = threading.Thread(target=lambda: store_posts(db, settings, [_post("e9", "@eve", "my IBAN is FR76")]))
    storing.start()
    with db.engine.connect() as probe:  # until the batch is seen waiting on the lock (no clock involved)
        while storing.is_alive() and not probe.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar():
            probe.rollback()
            time.sleep(0.01)
    asking.commit()
    asking.close()
    storing.join()
    with db.read() as s:
        stored = s.scalars(select(Mention).where(Mention.external_id == "e9")).one()
    assert (stored.text, stored.author_handle) == (MARK, MARK)


def test_a_request_matches_the_author_in_any_case(db: Database, settings: Settings, tmp_path: Path) -> None:
    """Handles are case-insensitive on X and Mastodon: a request for x:@eve restricts @Eve's posts."""
    seed_items(db, settings, [_post("e1", "@Eve", "my account number is 1234, help")])
    with db.write.begin() as s:
        request_erasure(s, "ann", "x:@eve", "GDPR art. 17")
    store_posts(db, settings, [_post("e2", "@EVE", "second message, call me on 555")])
    with db.read() as s:
        live = [(m.text, m.author_handle) for m in s.scalars(select(Mention).order_by(Mention.id))]
        assert live == [(MARK, MARK)] * 2
        assert restricted_authors(s) == {"x:@eve"}
    with db.write.begin() as s, pytest.raises(ErasureError, match="already restricted"):
        request_erasure(s, "ann", "x:@EVE", "again")
    seal_waiting(db, "test")
    with db.read() as s:
        summary = export_archive(s, tmp_path / "exp", Selection(), ("jsonl",))
    exported = (tmp_path / "exp" / "records.jsonl").read_text(encoding="utf-8")
    assert summary.restricted_left_out > 0 and "1234" not in exported and "555" not in exported
    with db.read() as s:
        hidden = search_records(s, RecordFilter(), include_restricted=False)
    assert not any(r.author and r.author.lower() == "x:@eve" for r in hidden)
    end = utcnow() + timedelta(days=365 * 8)
    run_purge(db, Retention(), end)
    with db.read() as s:
        assert s.get(ErasureRequest, 1).status == "erased"  # type: ignore[union-attr]


def test_a_default_export_does_not_name_the_requester(db: Database, settings: Settings, tmp_path: Path) -> None:
    """The request's own records (its record and its audit event: author, reason) are the author's
    restricted records: compliance's export has them, the default one does not."""
    seed_items(db, settings, [_post("e1", "@eve", "my account number is 1234, help")])
    with db.write.begin() as s:
        request_erasure(s, "ann", "x:@eve", "GDPR art. 17, Eve Martin, eve.martin@example.com")
    seal_waiting(db, "test")
    with db.read() as s:
        export_archive(s, tmp_path / "default", Selection(), ("jsonl", "csv"))
        export_archive(s, tmp_path / "compliance", Selection(include_restricted=True), ("jsonl",))
    for name in ("records.jsonl", "records.csv"):
        exported = (tmp_path / "default" / name).read_text(encoding="utf-8-sig")
        assert "@eve" not in exported and "eve.martin@example.com" not in exported and "erasure:1" not in exported
    full = (tmp_path / "compliance" / "records.jsonl").read_text(encoding="utf-8")
    assert "eve.martin@example.com" in full and "x:@eve" in full
    # the request's own records never keep it from completing
    run_purge(db, Retention(), utcnow() + timedelta(days=365 * 8))
    with db.read() as s:
        assert s.get(ErasureRequest, 1).status == "erased"  # type: ignore[union-attr]
        authors = set(s.scalars(select(ArchiveRecord.author).where(ArchiveRecord.subject == "erasure:1")))
    assert authors == {"x:@eve"}


def test_a_review_of_a_restricted_author_keeps_her_name(db: Database, settings: Settings) -> None:
    """A review decided after the request names the author its post record kept, not the marker:
    her hold and her restriction cover it."""
    seed_items(db, settings, [_post("e1", "@eve", "text")])
    with db.write.begin() as s:
        mention_id = s.scalar(select(Mention.id))
        s.add(Review(mention_id=mention_id, reply_id=None, reason="sample", network="x", team=None,
                     created_at=datetime(2024, 1, 1), due_at=datetime(2024, 1, 4)))
    with db.write.begin() as s:
        request_erasure(s, "ann", "x:@eve", "GDPR art. 17")
    with db.write.begin() as s:
        place_hold(s, "cora", "Matter", "litigation", HoldScope(authors=("x:@eve",)))
    with db.write.begin() as s:
        supervision.decide(s, "cora", s.scalar(select(Review.id)) or 0, "no_issue", None)
    with db.read() as s:
        record = s.scalars(select(ArchiveRecord).where(ArchiveRecord.kind == "review")).one()
        assert record.author == "x:@eve"
        assert is_held(record, list(standing_scopes(s).values()))


def test_a_request_is_settled_once(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two purge runs settling at once: the one whose UPDATE finds the request still "restricted"
    records the outcome; the other (here: the request settled in between) records nothing."""
    with db.write.begin() as s:
        request_erasure(s, "ann", "x:@eve", "GDPR art. 17")

    def settled_elsewhere(session: Session, author: str) -> bool:
        session.execute(text("UPDATE erasure_requests SET status = 'erased' WHERE id = 1"))
        return False

    monkeypatch.setattr(erasure, "author_has_content", settled_elsewhere)
    with db.write.begin() as s:
        assert erasure.settle_erasures(s, "purge") == []
    with db.read() as s:
        actions_recorded = [json.loads(b)["action"] for b in s.scalars(
            select(ArchiveContent.body).join(ArchiveRecord).where(ArchiveRecord.subject == "erasure:1",
                                                                  ArchiveRecord.kind == "erasure"))]
        events = s.scalars(select(AuditEvent.action).where(AuditEvent.subject == "erasure:1")).all()
    assert actions_recorded == ["request"] and events == ["erasure.request"]
