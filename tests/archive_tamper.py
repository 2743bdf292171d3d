"""The attacker of tests/integration/test_archive_fuzz.py: what an archive holds (`Facts`, read once),
the tools of someone with the database owner's rights (the archive triggers dropped, rows set,
forgotten), and the tamperings, each changing the caller's transaction (rolled back after) and
saying what it did."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text, update

from models.archive import sha256_text
from models.archive_seal import (
    GENESIS,
    LEAF_COLUMNS,
    header_fields,
    leaf_fields,
    leaf_hash,
    merkle_root,
    segment_hash,
)
from models.archive_tables import ArchiveContent, ArchivePending, ArchiveRecord, ArchiveSeal, ArchiveSegment
from models.tables import utcnow

RECORDS, CONTENTS, PENDING = ArchiveRecord.__table__, ArchiveContent.__table__, ArchivePending.__table__
SEGMENTS, SEALS = ArchiveSegment.__table__, ArchiveSeal.__table__
HEX = "0123456789abcdef"


@dataclass
class Facts:
    """The untampered archive as read once (each trial rolls back to it)."""

    records: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> record columns
    bodies: dict[int, str] = field(default_factory=dict)
    seals: dict[int, tuple[int, int]] = field(default_factory=dict)  # record id -> (segment id, position)
    segments: list[dict[str, Any]] = field(default_factory=list)  # seq order
    pending: list[int] = field(default_factory=list)

    def sealed(self) -> list[int]:
        return sorted(self.seals)


def read_facts(conn: Connection) -> Facts:
    facts = Facts()
    facts.records = {row["id"]: dict(row) for row in conn.execute(select(RECORDS)).mappings()}
    facts.bodies = {r: b for r, b in conn.execute(select(CONTENTS.c.record_id, CONTENTS.c.body))}
    facts.seals = {r: (s, p) for r, s, p in conn.execute(select(SEALS.c.record_id, SEALS.c.segment_id,
                                                                SEALS.c.position))}
    facts.segments = [dict(row) for row in conn.execute(select(SEGMENTS).order_by(SEGMENTS.c.seq)).mappings()]
    facts.pending = sorted(conn.scalars(select(PENDING.c.record_id)))
    return facts


# --- the attacker's tools --------------------------------------------------------------------


def drop_archive_triggers(conn: Connection) -> None:
    """Inside the trial's transaction: no trigger refuses anything, no foreign key is checked."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text("SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                 "WHERE NOT t.tgisinternal AND c.relname LIKE 'archive_%'")).all()
        assert len(rows) == 8, rows  # four tables, each refusing changes per row and TRUNCATE
        for name, table in rows:
            conn.execute(text(f'DROP TRIGGER "{name}" ON "{table}"'))
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # foreign keys unchecked
        return
    names = conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE "
                              "'archive_%'")).all()
    assert len(names) == 7, names
    for name in names:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    conn.execute(text("PRAGMA defer_foreign_keys = ON"))  # checked at commit only, and we roll back


def flip_char(rng: random.Random, value: str, alphabet: str = "") -> str:
    """``value`` with one character changed (to another of ``alphabet`` when given)."""
    if not value:
        return "x"
    i = rng.randrange(len(value))
    choices = [c for c in (alphabet or "abcdefghijklmnopqrstuvwxyz0123456789{}:,\" éA") if c != value[i]]
    return value[:i] + rng.choice(choices) + value[i + 1:]


def changed(rng: random.Random, value: Any, hexa: bool = False) -> Any:
    if isinstance(value, datetime):
        return value + rng.choice([timedelta(microseconds=1), timedelta(seconds=1), timedelta(days=-1),
                                   timedelta(days=365)])
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice([-1, 1, 1000])
    if value is None:
        return "x"
    return flip_char(rng, value, HEX if hexa else "")


def set_record(conn: Connection, record_id: int, **values: Any) -> None:
    conn.execute(update(RECORDS).where(RECORDS.c.id == record_id).values(**values))


def set_body(conn: Connection, record_id: int, body: str) -> None:
    conn.execute(update(CONTENTS).where(CONTENTS.c.record_id == record_id).values(body=body))


def set_segment(conn: Connection, segment_id: int, **values: Any) -> None:
    conn.execute(update(SEGMENTS).where(SEGMENTS.c.id == segment_id).values(**values))


def set_seal(conn: Connection, record_id: int, **values: Any) -> None:
    conn.execute(update(SEALS).where(SEALS.c.record_id == record_id).values(**values))


def forget_record(conn: Connection, record_id: int) -> None:
    """Every row of a record gone: metadata, content, seal, pending."""
    for table, column in ((CONTENTS, CONTENTS.c.record_id), (SEALS, SEALS.c.record_id),
                          (PENDING, PENDING.c.record_id), (RECORDS, RECORDS.c.id)):
        conn.execute(delete(table).where(column == record_id))


# --- the tamperings: each changes the rolled-back transaction and says what it did -------------

Tamper = Callable[[Connection, random.Random, Facts], str]
NULLABLE_INT = ("mention_id", "source_id")


def content_byte(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(sorted(f.bodies))  # sealed or still waiting
    set_body(conn, record_id, flip_char(rng, f.bodies[record_id]))
    return f"one character of record {record_id}'s content"


def record_column(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(f.sealed())
    column = rng.choice([c for c in LEAF_COLUMNS if c != "id"])
    old = f.records[record_id][column]
    new = (1 if old is None else old + rng.choice([-1, 1])) if column in NULLABLE_INT else \
        changed(rng, old, hexa=column == "sha256")
    set_record(conn, record_id, **{column: new})
    return f"record {record_id}'s {column}: {old!r} -> {new!r}"


def record_id_changed(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(f.sealed())
    new = max(f.records) + rng.randint(1, 50)
    for table, column in ((CONTENTS, CONTENTS.c.record_id), (SEALS, SEALS.c.record_id)):
        conn.execute(update(table).where(column == record_id).values(record_id=new))
    set_record(conn, record_id, id=new)
    return f"record {record_id} renumbered {new}"


def segment_column(conn: Connection, rng: random.Random, f: Facts) -> str:
    segment = rng.choice(f.segments)
    column = rng.choice(["prev_hash", "root", "hash", "count", "first_record_id", "last_record_id", "sealed_at",
                         "seq"])
    old = segment[column]
    new = f.segments[-1]["seq"] + rng.randint(1, 5) if column == "seq" else \
        changed(rng, old, hexa=column in ("prev_hash", "root", "hash"))
    set_segment(conn, segment["id"], **{column: new})
    return f"segment {segment['seq']}'s {column}: {old!r} -> {new!r}"


def seal_position(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(f.sealed())
    segment_id, position = f.seals[record_id]
    new = rng.choice([position + 1, position - 1, position + 100, -1])
    set_seal(conn, record_id, position=new)
    return f"record {record_id}'s seal position {position} -> {new}"


def seal_segment(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(f.sealed())
    segment_id, position = f.seals[record_id]
    other = rng.choice([s["id"] for s in f.segments if s["id"] != segment_id])
    set_seal(conn, record_id, segment_id=other, position=rng.choice([position, 0, 50]))
    return f"record {record_id}'s seal moved to segment id {other}"


def delete_metadata(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(sorted(f.records))
    conn.execute(delete(RECORDS).where(RECORDS.c.id == record_id))
    return f"record {record_id}'s metadata row deleted"


def delete_content(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(sorted(f.bodies))
    conn.execute(delete(CONTENTS).where(CONTENTS.c.record_id == record_id))
    return f"record {record_id}'s content deleted without a purge record"


def delete_content_forged_purge(conn: Connection, rng: random.Random, f: Facts) -> str:
    """The content deleted and a purge record naming it forged (waiting to be sealed, as a real one
    would be for a minute), dated now or after the victim's retention."""
    victim = rng.choice(sorted(f.bodies))
    conn.execute(delete(CONTENTS).where(CONTENTS.c.record_id == victim))
    at = rng.choice([utcnow(), f.records[victim]["retain_until"] + timedelta(days=1)])
    body = f'{{"record_ids":[{victim}],"retention_class":"default"}}'
    new = max(f.records) + 1
    conn.execute(insert(RECORDS).values(id=new, kind="purge", subject="purge:9", at=at, sha256=sha256_text(body),
                                        retention_class="default", retain_until=at + timedelta(days=2557)))
    conn.execute(insert(CONTENTS).values(record_id=new, body=body))
    conn.execute(insert(PENDING).values(record_id=new))
    return f"record {victim}'s content deleted, purge record {new} forged at {at}"


def delete_seal(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(f.sealed())
    conn.execute(delete(SEALS).where(SEALS.c.record_id == record_id))
    return f"record {record_id}'s seal deleted"


def delete_pending(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(f.pending)
    conn.execute(delete(PENDING).where(PENDING.c.record_id == record_id))
    return f"record {record_id}'s pending row deleted"


def delete_segment(conn: Connection, rng: random.Random, f: Facts) -> str:
    segment = rng.choice(f.segments)
    conn.execute(delete(SEGMENTS).where(SEGMENTS.c.id == segment["id"]))
    return f"segment {segment['seq']}'s row deleted"


def delete_whole_record(conn: Connection, rng: random.Random, f: Facts) -> str:
    record_id = rng.choice(f.sealed())
    forget_record(conn, record_id)
    return f"record {record_id} deleted with its content and seal"


def insert_record(conn: Connection, rng: random.Random, f: Facts) -> str:
    """A forged record slipped into a segment, after its last one."""
    segment = rng.choice(f.segments)
    body = '{"note":"forged"}'
    new = max(f.records) + 1
    template = f.records[segment["last_record_id"]]
    conn.execute(insert(RECORDS).values({**template, "id": new, "sha256": sha256_text(body)}))
    conn.execute(insert(CONTENTS).values(record_id=new, body=body))
    conn.execute(insert(SEALS).values(record_id=new, segment_id=segment["id"], position=segment["count"]))
    return f"record {new} forged into segment {segment['seq']}"


def swap_positions(conn: Connection, rng: random.Random, f: Facts) -> str:
    a, b = rng.sample(f.sealed(), 2)
    (sa, pa), (sb, pb) = f.seals[a], f.seals[b]
    set_seal(conn, a, segment_id=sb, position=pb)
    set_seal(conn, b, segment_id=sa, position=pa)
    return f"records {a} and {b} swapped places"


def swap_contents(conn: Connection, rng: random.Random, f: Facts) -> str:
    a, b = rng.sample(sorted(f.bodies), 2)
    while f.bodies[a] == f.bodies[b]:
        a, b = rng.sample(sorted(f.bodies), 2)
    set_body(conn, a, f.bodies[b])
    set_body(conn, b, f.bodies[a])
    return f"records {a} and {b} swapped contents"


def truncate(conn: Connection, rng: random.Random, f: Facts) -> str:
    """The last k segments gone, with their seals, records and contents (a consistent shorter chain)."""
    k = rng.randint(1, 5)
    for segment in f.segments[-k:]:
        for record_id in [r for r, (s, _) in f.seals.items() if s == segment["id"]]:
            forget_record(conn, record_id)
        conn.execute(delete(SEGMENTS).where(SEGMENTS.c.id == segment["id"]))
    return f"the last {k} segment(s) deleted with their records"


def reseal(conn: Connection, rng: random.Random, f: Facts) -> str:
    """A record changed (a column, its content with its hash, or removed), then its segment's root
    and hash and every later segment's previous hash and hash recomputed: consistent everywhere,
    only the anchored heads can tell."""
    index = rng.randrange(len(f.segments))
    segment = f.segments[index]
    members = sorted((p, r) for r, (s, p) in f.seals.items() if s == segment["id"])
    rows = [dict(f.records[r]) for _, r in members]
    victim = rng.randrange(len(rows))
    record_id = rows[victim]["id"]
    how = rng.choice(["subject", "content", "removed"])
    if how == "subject":
        rows[victim]["subject"] = flip_char(rng, rows[victim]["subject"])
        set_record(conn, record_id, subject=rows[victim]["subject"])
    elif how == "content" and record_id in f.bodies:
        body = flip_char(rng, f.bodies[record_id])
        rows[victim]["sha256"] = sha256_text(body)
        set_body(conn, record_id, body)
        set_record(conn, record_id, sha256=rows[victim]["sha256"])
    else:
        how = "removed"
        forget_record(conn, record_id)
        del rows[victim]
        for position, row in enumerate(rows):
            set_seal(conn, row["id"], position=position)
    previous = f.segments[index - 1]["hash"] if index else GENESIS
    for n, later in enumerate(f.segments[index:]):
        fields = header_fields(later) | {"prev_hash": previous}
        if n == 0:
            fields |= {"root": merkle_root([leaf_hash(leaf_fields(r)) for r in rows]), "count": len(rows),
                       "first_record_id": rows[0]["id"], "last_record_id": rows[-1]["id"]}
        new_hash = segment_hash(fields)
        set_segment(conn, later["id"], prev_hash=previous, root=fields["root"], count=fields["count"],
                    first_record_id=fields["first_record_id"], last_record_id=fields["last_record_id"],
                    hash=new_hash)
        previous = new_hash
    return f"segment {segment['seq']} re-sealed after record {record_id} was {how}, the chain recomputed"


TAMPERINGS: dict[str, Tamper] = {f.__name__: f for f in (
    content_byte, record_column, record_id_changed, segment_column, seal_position, seal_segment, delete_metadata,
    delete_content, delete_content_forged_purge, delete_seal, delete_pending, delete_segment, delete_whole_record,
    insert_record, swap_positions, swap_contents, truncate, reseal)}
