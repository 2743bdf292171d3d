"""Databases the benchmarks and the demo may fill, empty or drop: only the ones they made.

`vigie bench ingest` deletes its rows afterwards, `vigie bench outbox` and `vigie bench dashboard`
drop every table of the URL they are given, and `vigie demo` fills its database with simulated
posts, accounts with a published password and agents that claim and close items. Pointed at a
real database by mistake, each would destroy or falsify records a regulator may ask for. So each
`claim`s its database first: an empty database (no users, mentions, audit events, replies or archive
records) is marked as theirs (a one-row ``vigie_scratch`` table, outside the schema, so dropping
the schema's tables keeps it); a database marked for the same use is accepted; anything else is
refused with `NotScratch`, before a single row is touched.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, inspect, literal, select, table

from config.effective import masked_url
from models.tables import utcnow

MARKER = "vigie_scratch"
# The tables whose rows are someone's data: a database holding any of them was not made by us.
DATA_TABLES = ("users", "mentions", "audit_events", "replies", "archive_records")

_meta = MetaData()
_marker = Table(MARKER, _meta, Column("purpose", String(40), primary_key=True), Column("created_at", DateTime))


class NotScratch(Exception):
    """The database holds data that a benchmark or the demo did not create: nothing was done."""


def purposes(engine: Engine) -> list[str]:
    """What the database was marked for (empty: not marked)."""
    if not inspect(engine).has_table(MARKER):
        return []
    with engine.connect() as conn:
        return [str(p) for p in conn.scalars(select(_marker.c.purpose))]


def data_found(engine: Engine) -> list[str]:
    """The data tables that hold rows (a table not created yet holds none)."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return [name for name in DATA_TABLES if name in present
                and conn.execute(select(literal(1)).select_from(table(name)).limit(1)).first() is not None]


def claim(engine: Engine, purpose: str) -> None:
    """Make sure the database is ``purpose``'s scratch database (marking it when empty), or raise
    `NotScratch` naming what it holds."""
    where = masked_url(engine.url.render_as_string())
    marked = purposes(engine)
    if purpose in marked:
        return
    if marked:
        raise NotScratch(f"{where} is {' and '.join(marked)}'s database, not {purpose}'s: refusing to touch it; "
                         f"give {purpose} a database of its own")
    found = data_found(engine)
    if found:
        raise NotScratch(f"{where} holds data that {purpose} did not create (rows in {', '.join(found)}): refusing "
                         f"to touch it. Give {purpose} an empty database of its own (a new SQLite file or an empty "
                         f"PostgreSQL database); it marks it as its own and uses it again next time")
    _marker.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(_marker.insert().values(purpose=purpose, created_at=utcnow()))
