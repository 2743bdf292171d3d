"""Data-protection requests (SQLite and PostgreSQL), through the real ingest path: the author is
restricted wherever a mention is read (queue rows, the item page's data), posts stored later too,
the archive keeps the originals, and the request becomes "erased" once retention has ended."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from collectors.jobs.purge_archive import run_purge
from collectors.types import RawPost
from config.archive import Retention
from config.settings import Settings
from models import actions, queries
from models.archive_tables import ArchiveContent, ArchiveRecord, ErasureRequest
from models.db import Database
from models.erasure import ErasureError, request_erasure, restricted_authors
from models.holds import HoldScope, place_hold, release_hold
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
        left = s.scalars(select(ArchiveRecord.id).join(ArchiveContent).where(ArchiveRecord.author == "x:@eve")).all()
    assert [json.loads(b)["action"] for b in outcome] == ["request", "erased"] and left == []


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
