"""The store's bulk path (`models.bulk`): rows stored exactly as SQLAlchemy stores them, ids known
before the insert (nothing read back), and a batch's statements do not grow with its size."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select, text

from collectors.ingest import RunReport, ingest
from collectors.pipeline import Enricher
from collectors.types import Parsed, RawPost
from config.settings import Settings
from models.bulk import insert_rows, next_ids
from models.db import Database
from models.tables import Base, Mention, utcnow
from tests.kit import source_id, store_posts

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456)
AWKWARD = 'tab\there, new\nline, back\\slash, "quotes", \\N, é ü 中文 🚀, ,comma'


def _values(sid: int, external_id: str) -> dict[str, Any]:
    return {"source_id": sid, "external_id": external_id, "network": "x", "url": None, "author_handle": "@a\tb",
            "author_name": AWKWARD, "author_followers": None, "text": AWKWARD, "language": "en",
            "created_at": NOW, "collected_at": NOW, "sentiment_score": -0.25, "sentiment_label": "negative",
            "brand": None, "is_competitor": True, "risk_flags": ["fraud", 'say "hi"'],
            "risk_terms": {"fraud": ["arnaque", "back\\slash"], "x": []}, "priority": "high",
            "cluster_key": "k1", "text_key": None, "link_key": "l\n1", "duplicate_of_id": None}


def test_bulk_rows_are_stored_as_sqlalchemy_stores_them(db: Database, settings: Settings) -> None:
    sid = source_id(db, settings)
    table = Base.metadata.tables["mentions"]
    with db.write.begin() as session:
        session.execute(insert(Mention), [_values(sid, "by-orm")])
        conn = session.connection()
        [new_id] = next_ids(conn, table, 1)
        row = {**_values(sid, "bulk"), "id": new_id}
        insert_rows(conn, table, tuple(row), [tuple(row.values())])
    with db.read() as session:
        by_orm, bulk = (session.scalars(select(Mention).where(Mention.external_id == ext)).one()
                        for ext in ("by-orm", "bulk"))
        assert bulk.id == new_id and bulk.id > by_orm.id
        columns = [c.key for c in table.columns if c.key not in ("id", "external_id")]
        assert {c: getattr(bulk, c) for c in columns} == {c: getattr(by_orm, c) for c in columns}
        assert bulk.text == AWKWARD and bulk.risk_terms == {"fraud": ["arnaque", "back\\slash"], "x": []}
        # the same bytes in the database too (SQLite compares times as text)
        raw = session.execute(text("SELECT external_id, CAST(collected_at AS VARCHAR), CAST(risk_flags AS VARCHAR) "
                                   "FROM mentions ORDER BY id")).all()
        assert raw[0][1:] == raw[1][1:]


def _post(pid: str, body: str, network: str = "x") -> RawPost:
    return RawPost(pid, network, body, NOW, f"https://{network}.example/p/{pid}", f"@u{pid}", "Some One", 10,
                   links=("https://aurelia.example/offer",) if pid.endswith("0") else ())


def test_a_batch_reads_no_ids_back_and_its_statements_do_not_grow(db: Database, settings: Settings) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    counts = []
    for size, prefix in ((20, "warm"), (20, "small"), (200, "large")):  # warm: the source's row, the caches
        statements.clear()
        # every tenth post shares a link on another network: copies and copy counts in both batches
        # and every fifth is flagged (fraud), so both queue reviews
        posts = [_post(f"{prefix}-{i}", f"@AureliaBank question {prefix} number {i} about my card"
                       + (" this is fraud" if i % 5 == 0 else ""), "x" if i % 20 else "reddit") for i in range(size)]
        report = store_posts(db, settings, posts, cursor=prefix)
        assert report.stored == size and report.copies > 0
        counts.append(len(statements))
        # the new mentions' ids were allocated before the insert: none read back by external id
        assert not [s for s in statements if s.startswith("SELECT mentions.external_id, mentions.id")]
    assert counts[1] == counts[2], counts
    with db.read() as session:  # and every post has its archive record, under its own id
        ids = set(session.scalars(select(Mention.id)))
        recorded = set(session.scalars(text("SELECT mention_id FROM archive_records WHERE kind = 'post'")))
        assert len(ids) == 240 and recorded == ids


def test_a_batch_is_never_run_with_a_generic_plan_made_while_the_table_was_young(
        db: Database, settings: Settings) -> None:
    """psycopg prepares a statement after 5 runs; PostgreSQL then keeps the generic plan it made for a
    young table until the next ANALYZE. The known-ids lookup's generic plan read every row of the source
    (4.1x the floor in `vigie bench ingest`): the store asks for plans of the batch's own values."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite plans each statement afresh: nothing to check
    sid = source_id(db, settings)
    enricher = Enricher(settings)
    connections: list[Any] = []
    event.listen(db.engine, "connect", lambda conn, _record: connections.append(conn))
    db.engine.dispose()  # every statement below on connections this test sees opened
    # Batches one after the other, as a collector's poll stores them (no read session in between: its
    # ROLLBACK would make psycopg forget what it prepared), twice psycopg's threshold and PostgreSQL's
    # five custom plans before it tries a generic one.
    for n in range(12):
        posts = [_post(f"b{n}-{i}", f"@AureliaBank batch {n} question {i} about my card") for i in range(30)]
        report = ingest(db, sid, enricher, Parsed(posts, []), utcnow(), RunReport("demo"), chunk_size=None,
                        next_cursor=f"b{n}")
        assert report.stored == 30
    assert len(connections) == 1, "one pooled connection ran every batch (what pg_prepared_statements shows)"
    with db.write.begin() as session:  # the same connection: the pool holds only it
        prepared = session.execute(text("SELECT statement, generic_plans FROM pg_prepared_statements "
                                        "WHERE statement LIKE '%FROM mentions%'")).all()
    assert prepared, "psycopg prepared the batch's lookups (else this test checks nothing)"
    generic = [(" ".join(s.split())[:120], g) for s, g in prepared if g]
    assert not generic, generic
