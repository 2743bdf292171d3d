"""The post records as `store_batch` writes them (plain tuples straight to the driver, items
serialised as they are): read back through the ORM with their times and retention intact, their
content's hash right, sealed and verified. An item nested deeper than the serialiser allows is
archived cut, not lost. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from collectors.types import RawPost
from config.settings import Settings
from models.archive import canonical, sha256_text, write_record
from models.archive_seal import seal
from models.archive_tables import ArchiveContent, ArchiveRecord
from models.archive_verify import verify
from models.db import Database, open_database
from tests.kit import store_posts

AT = datetime(2026, 11, 25, 8, 0, 0)


def _deep(levels: int) -> object:
    item: object = "bottom"
    for _ in range(levels):
        item = [item]
    return item


def test_post_records_read_back_seal_and_verify(db: Database, settings: Settings, db_url: str) -> None:
    db = open_database(db_url, settings.archive.retention)  # the write session's retention, as the CLI opens it
    raw = {"id": "p1", "nested": {"b": [1, 2.5, None], "a": "Été 🏦"}, "deep": _deep(60)}
    posts = [RawPost("p1", "x", "Aurelia Bank fees again", datetime.now(UTC), None, "@ann", "Ann", 3, raw=raw),
             RawPost("p2", "mastodon", "Merci Banque Aurelia", datetime.now(UTC), None, "@bob", "Bob", 1,
                     raw={"id": "p2", "deep": _deep(5000)})]
    store_posts(db, settings, posts, collected_at=AT)
    with db.read() as s:
        rows = s.execute(select(ArchiveRecord, ArchiveContent.body).join(ArchiveContent)
                         .order_by(ArchiveRecord.id)).all()
    assert [r.subject.split(":")[0] for r, _ in rows] == ["mention", "mention"]
    for record, body in rows:
        assert record.retain_until > record.at + timedelta(days=365) > AT
        assert record.sha256 == sha256_text(body) and record.kind == "post"
    first = json.loads(rows[0][1])
    assert first["raw"] == raw  # as received, 60 levels deep and all
    assert body == canonical(json.loads(body))  # canonical, as verify re-derives it
    assert "nested too deep" in rows[1][1]  # 5,000 levels: cut, still archived
    with db.write.begin() as s:  # a time with no microseconds: SQLite's stored text must still read back
        on_the_second = write_record(s, "config", "config:test", {"at": AT}, at=AT)
    with db.read() as s:
        assert s.get_one(ArchiveRecord, on_the_second).at == AT
        assert s.scalars(select(ArchiveRecord.id).where(ArchiveRecord.at <= AT)).all() == [on_the_second]
        assert s.scalars(select(ArchiveRecord.id).where(ArchiveRecord.retain_until > AT)
                         .order_by(ArchiveRecord.id)).all() == [*(r.id for r, _ in rows), on_the_second]
    with db.write.begin() as s:
        assert seal(s, "test") is not None
    with db.read() as s:
        result = verify(s)
    assert result.ok and result.records == 3, result.failures
    db.engine.dispose()


def test_record_times_compare_like_every_other_time(db: Database) -> None:
    """A record written at a whole second is stored as the ORM stores times (on SQLite, text with
    its microseconds), so a range ending at that second leaves it out and one starting there takes it
    in: written without them, "…11:00:00" sorted before "…11:00:00.000000" and exports took records
    past their range's end."""
    at = datetime(2024, 3, 15, 11, 0, 0)
    with db.write.begin() as s:
        record_id = write_record(s, "config", "config:test", {"a": 1}, at=at)
    with db.read() as s:
        assert s.scalars(select(ArchiveRecord.id).where(ArchiveRecord.at < at)).all() == []
        assert s.scalars(select(ArchiveRecord.id).where(ArchiveRecord.at >= at)).all() == [record_id]
        # the default class: 7 years, to the second
        assert s.scalars(select(ArchiveRecord.id).where(ArchiveRecord.retain_until < at.replace(year=2031))).all() == []
