"""Edges of `vigie archive verify` beyond the fuzz test's random tamperings: a forged record "sealed"
in a segment outside the chain (numbered 0, by INSERTs alone: the triggers refuse only changes and
deletions) is refused by the schema, and caught by verify when the schema's check is gone too (a
database owner). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.archive import canonical, sha256_text, write_record
from models.archive_seal import GENESIS, header_fields, leaf_fields, leaf_hash, merkle_root, seal, segment_hash
from models.archive_tables import ArchiveContent, ArchiveRecord, ArchiveSeal, ArchiveSegment
from models.archive_verify import verify
from models.db import Database


def _forge_segment_zero(session: Session) -> None:
    """A back-dated approval nobody gave, with its own segment numbered 0 and its seal."""
    body = canonical({"actor": "boss", "action": "reply.approve", "note": "forged, back-dated"})
    record = ArchiveRecord(id=1000, kind="event", subject="reply:1", at=datetime(2023, 6, 1), sha256=sha256_text(body),
                           retention_class="default", retain_until=datetime(2030, 6, 1))
    session.add(record)
    session.flush()
    session.add(ArchiveContent(record_id=1000, body=body))
    fields = {"seq": 0, "prev_hash": GENESIS, "root": merkle_root([leaf_hash(leaf_fields(record))]), "count": 1,
              "first_record_id": 1000, "last_record_id": 1000, "sealed_at": datetime(2023, 6, 1)}
    segment = ArchiveSegment(**fields, hash=segment_hash(header_fields(fields)), sealed_by="x")
    session.add(segment)
    session.flush()
    session.add(ArchiveSeal(record_id=1000, segment_id=segment.id, position=0))
    session.flush()


def test_a_segment_outside_the_chain_is_refused_and_caught(db: Database) -> None:
    with db.write.begin() as s:
        for i in range(3):
            write_record(s, "event", f"item:{i}", {"i": i}, at=datetime(2024, 1, 1))
    with db.write.begin() as s:
        seal(s, "test")
    with pytest.raises(IntegrityError), db.write.begin() as s:
        _forge_segment_zero(s)
    with db.engine.connect() as conn:
        trans = conn.begin()
        if db.is_sqlite:
            conn.execute(text("PRAGMA ignore_check_constraints = ON"))
        else:
            conn.execute(text("ALTER TABLE archive_segments DROP CONSTRAINT ck_archive_segments_seq"))
        session = Session(bind=conn)
        _forge_segment_zero(session)
        result = verify(session)
        trans.rollback()
        if db.is_sqlite:
            conn.execute(text("PRAGMA ignore_check_constraints = OFF"))
    assert not result.ok
    assert any("outside the chain" in str(f) for f in result.failures), result.failures
    with db.read() as s:
        assert verify(s).ok  # the untampered archive
