"""The one writer of archive records: everything a regulator may ask for, written in the caller's
transaction (so a record lands with the change it records, or not at all), never updated.

A record's content is canonical JSON (`canonical`: keys sorted, no spaces, UTF-8, no NaN) and its
``sha256`` is the digest of those bytes. Its retention class and ``retain_until`` come from the
write session's retention settings (`models.db.open_database`) and the record's network, brand
and team. Each new record is also listed in `archive_pending` for the sealer
(`models.archive_seal`).

Who writes what:

* a post as received, with the platform's raw item and the normalised mention:
  `collectors.store.store_batch` through `post_entries` + `write_many`;
* every audit event (queue actions, replies' and templates' changes, accounts, sign-ins):
  `models.audit_log.record_event`, through `event_record`;
* configuration changes, holds, erasure requests, reviews, purges, anchors, verifications: their
  own modules, through `write_record`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from config.archive import Retention

# canonical and sha256_text live in models.archive_hashing (pure: the offline export check uses them)
from models.archive_hashing import bounded as bounded
from models.archive_hashing import canonical as canonical
from models.archive_hashing import sha256_text as sha256_text
from models.archive_tables import ArchiveContent, ArchivePending, ArchiveRecord
from models.bulk import insert_rows
from models.tables import Base, utcnow

MAX_FIELD = 300  # author and subject columns


@dataclass(frozen=True)
class Scope:
    """What a record is about, for retention, holds, erasure requests and exports."""

    mention_id: int | None = None
    source_id: int | None = None
    author: str | None = None  # "network:handle"
    network: str | None = None
    brand: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Entry:
    kind: str
    subject: str
    content: Mapping[str, Any]
    scope: Scope = Scope()
    retention_class: str | None = None  # None: the class the scope's rule picks (purge records: the longest)


def author_key(network: str | None, handle: str | None) -> str | None:
    """How an author is named in records, holds and erasure requests: "network:handle"."""
    if not handle:
        return None
    return f"{network or '?'}:{handle}"[:MAX_FIELD]


RESTRICTED_PREFIX = "[restricted: data-protection request "  # models.erasure's marker in a restricted mention


def mention_author(session: Session, mention_id: int, network: str | None, handle: str | None) -> str | None:
    """The author records name for a mention whose live columns are ``network`` and ``handle``:
    `author_key`, or, when a data-protection request put its marker in the live row, the author
    its "post" record kept (so the request's restriction and the author's holds still cover the
    records written about it later: events, reviews)."""
    if handle and handle.startswith(RESTRICTED_PREFIX):
        return session.scalar(select(ArchiveRecord.author).where(
            ArchiveRecord.mention_id == mention_id, ArchiveRecord.kind == "post").order_by(ArchiveRecord.id).limit(1))
    return author_key(network, handle)


def retention_of(session: Session) -> Retention:
    found = session.info.get("retention")
    return found if isinstance(found, Retention) else Retention()


def _next_ids(session: Session, count: int) -> list[int]:
    """``count`` new record ids. SQLite: this transaction holds the write lock (BEGIN IMMEDIATE),
    so the next ids after the highest are ours; PostgreSQL: the column's sequence."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(text("SELECT nextval(pg_get_serial_sequence('archive_records', 'id')) "
                                    "FROM generate_series(1, :n)"), {"n": count})
        return [int(r[0]) for r in rows]
    top = session.scalar(select(func.max(ArchiveRecord.id))) or 0
    return list(range(top + 1, top + 1 + count))


RECORD_COLUMNS = ("id", "kind", "subject", "at", "sha256", "retention_class", "retain_until", "mention_id",
                  "source_id", "author", "network", "brand", "team")


def _insert(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (plain tuples in ``columns`` order, bound as the columns bind them: `write_many`
    converts the times with their own processor) in one statement's worth of work: a post batch
    writes three rows per post here, and per-row work dominated the archive's time (SQLAlchemy's
    parameter processing on SQLite, psycopg's per-row pipeline on PostgreSQL). SQLite: the driver's
    executemany; PostgreSQL: COPY (`models.bulk`; an earlier INSERT … SELECT FROM unnest() still
    sent the JSON bodies by executemany, psycopg escaping array elements in Python)."""
    insert_rows(conn, Base.metadata.tables[table], columns, rows, bound=True)


def write_many(session: Session, entries: Sequence[Entry], at: datetime | None = None) -> list[int]:
    """Write ``entries`` as records (three multi-row inserts) in the caller's transaction; their ids."""
    if not entries:
        return []
    at = at or utcnow()
    retention = retention_of(session)
    conn = session.connection()
    # The column's own processor for this database (SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", always with
    # the microseconds, as every other write stores times: the text comparisons rely on it).
    column_type = ArchiveRecord.__table__.c.at.type
    as_bound = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect) or (lambda t: t)
    ids = _next_ids(session, len(entries))
    records, contents = [], []
    classes: dict[str, Any] = {}  # retain_until per class: a batch has few
    bound_at = as_bound(at)
    for record_id, entry in zip(ids, entries, strict=True):
        body = canonical(entry.content)
        scope = entry.scope
        chosen = entry.retention_class or retention.class_for(scope.network, scope.brand, scope.team)
        if chosen not in classes:
            classes[chosen] = as_bound(retention.until(chosen, at))
        retention_class, retain_until = chosen, classes[chosen]
        records.append((record_id, entry.kind, entry.subject[:80], bound_at, sha256_text(body), retention_class,
                        retain_until, scope.mention_id, scope.source_id,
                        scope.author[:MAX_FIELD] if scope.author else None, scope.network, scope.brand, scope.team))
        contents.append((record_id, body))
    _insert(conn, ArchiveRecord.__tablename__, RECORD_COLUMNS, records)
    _insert(conn, ArchiveContent.__tablename__, ("record_id", "body"), contents)
    _insert(conn, ArchivePending.__tablename__, ("record_id",), [(i,) for i in ids])
    return ids


def write_record(session: Session, kind: str, subject: str, content: Mapping[str, Any], *,
                 scope: Scope = Scope(), at: datetime | None = None, retention_class: str | None = None) -> int:
    """Write one record in the caller's transaction; its id. ``retention_class`` overrides the
    class the scope's rule would pick (the purge's own records take the longest)."""
    return write_many(session, [Entry(kind, subject, content, scope, retention_class)], at)[0]


def post_content(mention: Mapping[str, Any], raw: Any, source_id: int | None) -> dict[str, Any]:
    """A post as received: the platform's raw item and the normalised mention."""
    return {"source_id": source_id, "raw": raw, "mention": mention}  # (serialised at once: no copy needed)
