"""What the /archive page reads (`models.archive_views`), on SQLite and PostgreSQL: search filters,
keyset pages and their bound, seals, tombstones, restricted authors hidden or marked, an item's
record history in order, and the anchor file's tail checked against the chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from collectors.types import RawPost
from config.settings import Settings
from models import actions
from models.archive import Entry, write_many
from models.archive_seal import seal
from models.archive_tables import ArchiveContent, ArchiveRecord, ArchiveVerification, ErasureRequest
from models.archive_views import (
    SEARCH_LIMIT,
    RecordFilter,
    anchor_tail,
    chain_state,
    last_verifications,
    like_pattern,
    mention_history,
    restricted_authors,
    search_records,
)
from models.db import Database
from models.tables import Mention, QueueItem, utcnow
from tests.kit import store_posts

ANA = "x:@ana"
BOB = "x:@bob"


def _setup(db: Database, settings: Settings) -> dict[str, Any]:
    """Two posts (Ana's, Bob's), Ana's item claimed and resolved, all sealed; Bob restricted."""
    now = datetime.now(UTC)
    store_posts(db, settings, [
        RawPost("a1", "x", "@AureliaBank my CARD was blocked 100% of the time", now, None, "@ana", "Ana", 10,
                raw={"id": "a1", "text": "@AureliaBank my CARD was blocked 100% of the time"}),
        RawPost("b1", "x", "@AureliaBank the app logs me out, fix_it please", now, None, "@bob", "Bob", 10),
    ])
    with db.read() as s:
        mentions = {m.external_id: m.id for m in s.scalars(select(Mention))}
        item = s.scalars(select(QueueItem.id).where(QueueItem.mention_id == mentions["a1"])).one()
    with db.write.begin() as s:
        actions.claim(s, item, "agent")
    with db.write.begin() as s:
        actions.resolve(s, item, "agent", "answered by phone")
    with db.write.begin() as s:
        assert seal(s, "test") is not None
        s.add(ErasureRequest(author=BOB, reason="GDPR art. 17", requested_by="compliance", requested_at=utcnow(),
                             status="restricted"))
    return {"ana": mentions["a1"], "bob": mentions["b1"], "item": item}


def _kinds(rows: list[Any]) -> list[str]:
    return [r.kind for r in rows]


def test_search_filters_newest_first(db: Database, settings: Settings) -> None:
    seen = _setup(db, settings)
    with db.read() as s:
        everything = search_records(s, RecordFilter(), include_restricted=True)
        assert [r.id for r in everything] == sorted((r.id for r in everything), reverse=True)
        posts = search_records(s, RecordFilter(kind="post"), include_restricted=True)
        assert {r.mention_id for r in posts} == {seen["ana"], seen["bob"]} and _kinds(posts) == ["post", "post"]
        ana = search_records(s, RecordFilter(mention_id=seen["ana"]), include_restricted=True)
        assert _kinds(ana)[-1] == "post" and _kinds(ana).count("event") >= 2  # the claim and the resolve
        assert {r.author for r in ana} == {ANA}
        assert search_records(s, RecordFilter(author=ANA), include_restricted=True) == ana
        subject = search_records(s, RecordFilter(subject=f"mention:{seen['ana']}"), include_restricted=True)
        assert [r.kind for r in subject] == ["post"]
        # free text: case-insensitive, LIKE's own characters taken literally
        card = search_records(s, RecordFilter(text="card WAS blocked"), include_restricted=True)
        assert {r.mention_id for r in card} == {seen["ana"]} and "post" in _kinds(card)
        assert [r.mention_id for r in search_records(s, RecordFilter(text="100%"), include_restricted=True)] \
            == [seen["ana"]]
        assert search_records(s, RecordFilter(text="1%0"), include_restricted=True) == []
        assert [r.mention_id for r in search_records(s, RecordFilter(text="fix_it"), include_restricted=True)] \
            == [seen["bob"]]
        assert search_records(s, RecordFilter(text="fixsit"), include_restricted=True) == []
        # dates: on the record's time, the end exclusive
        today = datetime.combine(utcnow().date(), datetime.min.time())
        assert len(search_records(s, RecordFilter(since=today), include_restricted=True)) == len(everything)
        assert search_records(s, RecordFilter(until=today), include_restricted=True) == []
        assert search_records(s, RecordFilter(since=today + timedelta(days=1)), include_restricted=True) == []


def test_search_pages_by_id_and_is_bounded(db: Database, settings: Settings) -> None:
    with db.write.begin() as s:
        write_many(s, [Entry("config", f"config:test{i}", {"n": i}) for i in range(SEARCH_LIMIT + 30)])
    with db.read() as s:
        first = search_records(s, RecordFilter(kind="config"), include_restricted=False, limit=10_000)
        assert len(first) == SEARCH_LIMIT
        rest = search_records(s, RecordFilter(kind="config"), include_restricted=False, before_id=first[-1].id)
        assert len(rest) == 30 and rest[0].id == first[-1].id - 1
        page = search_records(s, RecordFilter(), include_restricted=False, limit=7)
        assert len(page) == 7


def test_seals_and_tombstones_are_shown(db: Database, settings: Settings) -> None:
    seen = _setup(db, settings)
    with db.write.begin() as s:
        late = write_many(s, [Entry("config", "config:late", {"x": 1})])[0]
        post = s.scalars(select(ArchiveRecord.id).where(ArchiveRecord.kind == "post",
                                                        ArchiveRecord.mention_id == seen["ana"])).one()
        s.execute(delete(ArchiveContent).where(ArchiveContent.record_id == post))  # as the purge does
    with db.read() as s:
        rows = {r.id: r for r in search_records(s, RecordFilter(), include_restricted=True)}
        assert rows[late].segment_seq is None and rows[late].position is None
        assert rows[post].segment_seq == 1 and rows[post].position is not None
        assert rows[post].tombstone and not rows[late].tombstone
        assert post not in {r.id for r in search_records(s, RecordFilter(text="blocked"), True)}
        history = mention_history(s, seen["ana"], include_restricted=True)
        assert history[0].record.id == post and history[0].content is None
        assert chain_state(s).pending == 1 and chain_state(s).head is not None


def test_restricted_authors_are_hidden_or_marked(db: Database, settings: Settings) -> None:
    seen = _setup(db, settings)
    with db.read() as s:
        hidden = search_records(s, RecordFilter(), include_restricted=False)
        assert BOB not in {r.author for r in hidden} and ANA in {r.author for r in hidden}
        assert not any(r.restricted for r in hidden)
        assert search_records(s, RecordFilter(author=BOB), include_restricted=False) == []
        assert search_records(s, RecordFilter(text="logs me out"), include_restricted=False) == []
        shown = search_records(s, RecordFilter(author=BOB), include_restricted=True)
        assert shown and all(r.restricted for r in shown)
        assert not any(r.restricted for r in search_records(s, RecordFilter(author=ANA), include_restricted=True))
        assert mention_history(s, seen["bob"], include_restricted=False) == []
        assert all(e.record.restricted for e in mention_history(s, seen["bob"], include_restricted=True))
        assert restricted_authors(s, [ANA, BOB, None]) == {BOB}
    with db.write.begin() as s:  # erased (retention ended) still hides; a withdrawn state would not
        s.execute(ErasureRequest.__table__.update().values(status="erased"))
    with db.read() as s:
        assert search_records(s, RecordFilter(author=BOB), include_restricted=False) == []


def test_history_is_every_record_of_the_item_in_order(db: Database, settings: Settings) -> None:
    seen = _setup(db, settings)
    with db.read() as s:
        history = mention_history(s, seen["ana"], include_restricted=False)
        ids = [e.record.id for e in history]
        assert ids == sorted(ids)
        post = history[0]
        assert post.record.kind == "post" and post.record.subject == f"mention:{seen['ana']}"
        assert post.content["raw"] == {"id": "a1", "text": "@AureliaBank my CARD was blocked 100% of the time"}
        assert post.content["mention"]["author_handle"] == "@ana"
        actions_seen = [e.content["action"] for e in history if e.record.kind == "event"]
        assert actions_seen[:2] == ["claim", "resolve"], actions_seen
        assert all(e.record.segment_seq == 1 for e in history)
        page = mention_history(s, seen["ana"], include_restricted=False, limit=1)
        assert [e.record.id for e in page] == ids[:1]
        rest = mention_history(s, seen["ana"], include_restricted=False, after_id=page[-1].record.id)
        assert [e.record.id for e in rest] == ids[1:]
        assert mention_history(s, 999_999, include_restricted=True) == []


def test_anchor_tail_reads_the_end_and_checks_the_chain(db: Database, settings: Settings, tmp_path: Path) -> None:
    _setup(db, settings)
    with db.read() as s:
        head = chain_state(s).head
        assert head is not None
        path = tmp_path / "heads.jsonl"
        assert anchor_tail(s, path) == []  # no file yet
        lines = [json.dumps({"seq": 99, "hash": "0" * 64, "at": f"old {i}"}) for i in range(3000)]  # > 64 KiB
        lines += ["not json <b>at all</b>", json.dumps({"seq": head.seq, "hash": "f" * 64}),
                  json.dumps({"seq": head.seq, "hash": head.hash, "at": "2026-12-03T00:00:00"})]
        path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
        tail = anchor_tail(s, path, 10)
        assert len(tail) == 10
        assert tail[-1].seq == head.seq and tail[-1].in_chain is True
        assert tail[-2].in_chain is False and tail[-3].seq is None and tail[-3].in_chain is None
        assert tail[-3].text == "not json <b>at all</b>"
        assert tail[0].seq == 99 and tail[0].in_chain is False and tail[0].text == "at old 2993"
        path.write_bytes(b"\xff\xfe garbage\n" + lines[-1].encode())
        assert [a.in_chain for a in anchor_tail(s, path)] == [None, True]


def test_last_verifications_newest_first(db: Database) -> None:
    with db.write.begin() as s:
        for i in range(12):
            s.add(ArchiveVerification(at=utcnow(), by=f"run{i}", ok=i != 11, records=i, segments=1, head_hash=None,
                                      failure=None if i != 11 else "segment 1: broken"))
    with db.read() as s:
        rows = last_verifications(s, 10)
        assert [r.by for r in rows] == [f"run{i}" for i in range(11, 1, -1)] and not rows[0].ok


def test_like_pattern_escapes() -> None:
    assert like_pattern("a%b_c\\d") == "%a\\%b\\_c\\\\d%"
