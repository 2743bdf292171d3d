"""Legal holds against the purge (SQLite and PostgreSQL): by item, author, source, date range and
query, none purged while it stands, purged as usual once released by someone else."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from collectors.jobs.purge_archive import run_purge
from config.archive import Retention
from config.settings import Settings
from models.archive import Scope, write_record
from models.archive_tables import ArchiveContent, ArchiveRecord, LegalHold
from models.db import Database
from models.holds import HoldError, HoldScope, active_holds, all_holds, is_held, place_hold, release_hold
from models.tables import AuditEvent
from tests.kit import source_id

T0 = datetime(2019, 6, 1, 12, 0, 0)
RETENTION = Retention()  # default: 7 years
LATER = datetime(2035, 1, 1)  # every record above is past its retention


def _records(db: Database, demo: int) -> dict[str, int]:
    """One record per case, written in 2019."""
    cases = {
        "item": (Scope(mention_id=101, network="x", author="x:@a"), {"text": "hello"}),
        "author": (Scope(mention_id=102, network="x", author="x:@Whistle"), {"text": "hello"}),
        "source": (Scope(mention_id=103, source_id=demo, network="x", author="x:@b"), {"text": "hello"}),
        "in range": (Scope(mention_id=104, network="x", author="x:@c"), {"text": "hello"}),
        "query": (Scope(mention_id=105, network="x", author="x:@d"), {"text": "Wire the FRAUD \"money\" now"}),
        "free": (Scope(mention_id=106, network="x", author="x:@e"), {"text": "fraud elsewhere"}),
    }
    ids = {}
    with db.write.begin() as s:
        for offset, (name, (scope, content)) in enumerate(cases.items()):
            at = T0 + timedelta(days=30 * offset)
            ids[name] = write_record(s, "post", f"mention:{scope.mention_id}", content, scope=scope, at=at)
    return ids


def _alive(db: Database) -> set[int]:
    with db.read() as s:
        return set(s.scalars(select(ArchiveContent.record_id)))


def test_holds_keep_what_they_select_until_released(db: Database, settings: Settings) -> None:
    demo = source_id(db, settings, "demo")
    ids = _records(db, demo)
    in_range_at = T0 + timedelta(days=90)
    scopes = [
        HoldScope(mention_ids=(101,)),
        HoldScope(authors=("x:@whistle",)),  # any case
        HoldScope(sources=("demo",), query=None),
        HoldScope(since=in_range_at, until=in_range_at + timedelta(days=30)),  # 104 only: 105 is at `until`
        HoldScope(authors=("x:@d", "x:@e"), query='fraud "money'),  # narrowed by the query: 105, not 106
    ]
    with db.write.begin() as s:
        holds = [place_hold(s, "ann", f"matter {i}", "litigation", scope) for i, scope in enumerate(scopes)]
    run_purge(db, RETENTION, LATER)
    alive = _alive(db)
    assert {name for name, i in ids.items() if i in alive} == {"item", "author", "source", "in range", "query"}

    with db.write.begin() as s:
        with pytest.raises(HoldError, match="four eyes"):
            release_hold(s, "ANN", holds[0].id, "done")
    with db.write.begin() as s:
        release_hold(s, "bob", holds[0].id, "matter closed")
    with db.write.begin() as s, pytest.raises(HoldError, match="already released by bob"):
        release_hold(s, "carl", holds[0].id, "again")
    run_purge(db, RETENTION, LATER)
    assert ids["item"] not in _alive(db) and ids["author"] in _alive(db)
    for hold in holds[1:]:
        with db.write.begin() as s:
            release_hold(s, "bob", hold.id, "closed")
    run_purge(db, RETENTION, LATER)
    assert not _alive(db) & set(ids.values())

    with db.read() as s:
        assert active_holds(s) == [] and len(all_holds(s)) == 5
        hold_records = s.execute(select(ArchiveRecord.subject, ArchiveRecord.kind).where(ArchiveRecord.kind == "hold")
                                 .order_by(ArchiveRecord.id)).all()
        events = s.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.subject)
                           .where(AuditEvent.subject == f"hold:{holds[0].id}").order_by(AuditEvent.id)).all()
    assert len(hold_records) == 10  # placed and released, five times
    assert [tuple(e) for e in events] == [("hold.place", "ann", f"hold:{holds[0].id}"),
                                          ("hold.release", "bob", f"hold:{holds[0].id}")]


def test_a_standing_hold_keeps_its_own_record(db: Database) -> None:
    with db.write.begin() as s:
        hold = place_hold(s, "ann", "everything", "regulator's inquiry", HoldScope(mention_ids=(9,)))
    run_purge(db, RETENTION, datetime.now() + timedelta(days=365 * 40))
    with db.read() as s:
        kept = s.scalars(select(ArchiveRecord.id).join(ArchiveContent).where(ArchiveRecord.subject == f"hold:{hold.id}",
                                                                            ArchiveRecord.kind == "hold")).all()
    assert len(kept) == 1


def test_bad_holds_are_refused(db: Database, settings: Settings) -> None:
    source_id(db, settings, "demo")
    for scope, message in (
        (HoldScope(sources=("nowhere",)), "unknown source"),
        (HoldScope(authors=("no-network",)), "network:handle"),
        (HoldScope(since=T0, until=T0), "range is empty"),
    ):
        with db.write.begin() as s, pytest.raises(HoldError, match=message):
            place_hold(s, "ann", "m", "r", scope)
    with db.write.begin() as s, pytest.raises(HoldError, match="matter"):
        place_hold(s, "ann", "  ", "r", HoldScope())
    with db.read() as s:
        assert s.scalar(select(LegalHold.id)) is None


def test_is_held_is_pure_over_rows_and_scopes() -> None:
    record = ArchiveRecord(mention_id=1, author="x:@a", source_id=3, at=datetime(2020, 1, 1))
    released = LegalHold(scope=HoldScope(mention_ids=(1,)).to_json(), released_at=datetime(2021, 1, 1))
    standing = LegalHold(scope=HoldScope(mention_ids=(1,)).to_json(), released_at=None)
    assert not is_held(record, [released]) and is_held(record, [released, standing])
    assert is_held(record, [HoldScope(query="anything")])  # content not at hand: it cannot be ruled out
    assert not is_held(record, [HoldScope(until=datetime(2020, 1, 1))])  # until is exclusive
    assert is_held(record, [HoldScope(since=datetime(2020, 1, 1))])  # since is inclusive


def test_a_purge_waits_for_a_hold_being_placed(db: Database) -> None:
    """PostgreSQL: a purge batch that starts while a hold is being placed waits for it, then keeps
    what it holds (without the shared lock, the batch would not see the uncommitted hold)."""
    if db.is_sqlite:
        pytest.skip("SQLite's writers are serialised: BEGIN IMMEDIATE")
    with db.write.begin() as s:
        record_id = write_record(s, "post", "mention:7", {"text": "hi"}, scope=Scope(mention_id=7), at=T0)
    placing = db.write()
    placing.begin()
    place_hold(placing, "ann", "m", "r", HoldScope(mention_ids=(7,)))  # holds the lock, not committed yet
    done: list[int] = []
    purger = threading.Thread(target=lambda: done.append(run_purge(db, RETENTION, LATER).purged))
    purger.start()
    with db.engine.connect() as probe:  # until the purge is seen waiting on the lock (no clock involved)
        while purger.is_alive() and not probe.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar():
            probe.rollback()
            time.sleep(0.01)
    placing.commit()
    placing.close()
    purger.join()
    assert done == [0] and record_id in _alive(db)
