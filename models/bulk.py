"""Bulk writes for the ingest path: many rows in one statement's worth of work, ids known up front.

Measured on PostgreSQL (`vigie bench ingest`, 500 posts per transaction): the store spent its
time in per-row work, not in round trips. psycopg's executemany sends one pipelined statement
per row (its per-row Python costs as much as the server's insert), SQLAlchemy's executemany
processes each row's parameters, and every ``IN (…)`` of 500 ids was a new 500-parameter
statement for SQLAlchemy to expand and psycopg to convert. So:

* `insert_rows`: plain tuples in the columns' order. PostgreSQL: ``COPY … FROM STDIN`` (psycopg
  formats the rows in C; the server's cheapest way in, indexes and constraints checked as for an
  INSERT); elsewhere the driver's executemany with each column's own bind processor (SQLite's
  times, JSON and booleans stored exactly as SQLAlchemy stores them).
* `next_ids`: the ids of rows about to be inserted (PostgreSQL: the column's sequence; SQLite:
  after the highest, the writer holding the lock), so nothing is read back after the insert.
* `add_copies`: the copy counts of a batch's heads, one UPDATE … FROM unnest() on PostgreSQL.
* `one_of`: ``column = ANY(:array)`` on PostgreSQL, one parameter whatever the list's length;
  ``IN`` elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Table, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute

from models.tables import QueueItem

Processor = Callable[[Any], Any] | None
_PROCESSORS: dict[tuple[str, str, tuple[str, ...]], list[Processor]] = {}


def _processors(conn: Connection, table: Table, columns: tuple[str, ...]) -> list[Processor]:
    """How each column's values are sent: COPY takes Python values but JSON as text; the driver's
    executemany takes what the column's bind processor makes of them."""
    dialect = conn.dialect
    key = (dialect.name, table.name, columns)
    if key not in _PROCESSORS:
        found: list[Processor] = []
        for name in columns:
            column_type = table.c[name].type
            if dialect.name == "postgresql":
                found.append(json.dumps if isinstance(column_type, JSON) else None)
            else:
                found.append(column_type.dialect_impl(dialect).bind_processor(dialect))
        _PROCESSORS[key] = found
    return _PROCESSORS[key]


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                bound: bool = False) -> None:
    """Insert ``rows`` (Python values in ``columns`` order) into ``table`` in the caller's transaction.
    ``bound``: the values are already as the driver takes them (`models.archive` binds its times)."""
    if not rows:
        return
    names = tuple(columns)
    converted = [] if bound else [(i, p) for i, p in enumerate(_processors(conn, table, names)) if p is not None]
    if converted:  # only the columns that have a processor (SQLite: times, JSON; PostgreSQL: JSON)
        out = []
        for row in rows:
            values = list(row)
            for i, processor in converted:
                if values[i] is not None:
                    values[i] = processor(values[i])
            out.append(tuple(values))
        rows = out
    if conn.dialect.name == "postgresql":
        _copy(conn, table.name, names, rows)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})",
                         list(rows))  # type: ignore[arg-type]  # a list of tuples: the driver's executemany


def _copy(conn: Connection, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    import psycopg  # PostgreSQL only (the driver the README names)

    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    driver = conn.connection.driver_connection  # psycopg's, inside the SQLAlchemy transaction
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.IntegrityError as exc:  # a concurrent writer of the same posts: as an INSERT would fail
        raise IntegrityError(statement, None, exc) from exc


def next_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` new ids for ``table``'s integer primary key ``id``. PostgreSQL: from its sequence;
    SQLite: after the highest (this transaction holds the write lock: BEGIN IMMEDIATE)."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                                 "FROM generate_series(1, :n)"), {"n": count})
        return sorted(int(r[0]) for r in rows)  # ascending, as callers rely on (the first is the least)
    top = conn.scalar(select(func.max(table.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


def one_of(conn: Connection, column: ColumnElement[Any] | QueryableAttribute[Any],
           values: Sequence[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``: one array parameter on PostgreSQL, ``IN`` elsewhere."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def add_copies(conn: Connection, per_head: dict[int, int], now: datetime) -> None:
    """Add ``per_head`` copies ({head mention id: copies}) to the heads' queue items, moved to ``now``
    or kept where they are when a later change already stamped them: ``now`` is the batch's start,
    and an agent's claim committed meanwhile must not be moved back behind a live page's position
    (an equal stamp is still read again by the page's recheck of the seconds behind it)."""
    if conn.dialect.name == "postgresql":  # one statement; executemany pipelines one per head
        # The heads' rows locked in id order first: two collectors adding copies to the same heads
        # would otherwise lock them in their plans' orders, and could deadlock (a batch rolled back).
        conn.execute(text("SELECT id FROM queue_items WHERE mention_id = ANY(CAST(:heads AS INTEGER[])) "
                          "ORDER BY id FOR UPDATE"), {"heads": sorted(per_head)})
        conn.execute(text("UPDATE queue_items SET copy_count = queue_items.copy_count + v.added, "
                          "updated_at = greatest(queue_items.updated_at, :now) "
                          "FROM unnest(CAST(:heads AS INTEGER[]), CAST(:added AS INTEGER[])) AS v(head, added) "
                          "WHERE queue_items.mention_id = v.head"),
                     {"now": now, "heads": list(per_head), "added": list(per_head.values())})
        return
    conn.execute(update(QueueItem).where(QueueItem.mention_id == bindparam("head"))
                 .values(copy_count=QueueItem.copy_count + bindparam("added"),
                         updated_at=func.max(QueueItem.updated_at, now)),  # SQLite: max() of two is scalar
                 [{"head": head, "added": added} for head, added in sorted(per_head.items())])
