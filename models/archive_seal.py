"""Sealing: records written by any number of concurrent writers, in id order, into hash-chained
segments. Pure hashing functions first (shared by the sealer, `vigie archive verify` and the
offline check of an export), then the sealer.

* A record's **leaf** is the SHA-256 of ``0x00`` and the canonical JSON of its unchangeable
  columns (`leaf_fields`: id, kind, subject, time, content hash, retention, scope), so a tombstone
  (a record whose content the purge removed) still hashes the same.
* A segment's **root** is the Merkle tree hash of its leaves (RFC 6962: a node is the SHA-256 of
  ``0x01``, left and right; a record's proof is its audit path).
* A segment's **hash** is the SHA-256 of the canonical JSON of its header (`header_fields`: seq,
  previous hash, root, count, first and last record id, time), so each segment covers its
  records and every segment before it. The first segment's previous hash is `GENESIS`.

The sealer takes the oldest pending records (`archive_pending`), writes the segment and one seal
per record, and deletes them from the pending list, in one transaction. On PostgreSQL it first
takes a transaction-level advisory lock, so two sealers queue instead of racing; the unique
``seq`` and the seals' primary key (the record id) refuse any second sealing regardless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from models.archive import canonical
from models.archive_tables import ArchivePending, ArchiveRecord, ArchiveSeal, ArchiveSegment
from models.tables import utcnow

GENESIS = "0" * 64
SEAL_LIMIT = 5000  # records per segment at most
_LOCK_KEY = 0x56494749  # "VIGI": the sealers' advisory lock on PostgreSQL
LEAF_COLUMNS = ("id", "kind", "subject", "at", "sha256", "retention_class", "retain_until", "mention_id",
                "source_id", "author", "network", "brand", "team")


def _time(value: datetime) -> str:
    return value.isoformat()


def leaf_fields(record: Any) -> dict[str, Any]:
    """The columns a record's leaf covers, from an `ArchiveRecord` or a mapping with the same keys."""
    get = record.get if isinstance(record, Mapping) else lambda k: getattr(record, k)
    out = {k: get(k) for k in LEAF_COLUMNS}
    for key in ("at", "retain_until"):
        value = out[key]
        if isinstance(value, datetime):
            out[key] = _time(value)
    return out


def leaf_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(b"\x00" + canonical(dict(fields)).encode("utf-8")).hexdigest()


def _node(left: str, right: str) -> str:
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: Sequence[str]) -> str:
    """RFC 6962 Merkle tree hash of ``leaves`` (hex leaf hashes); the empty tree is SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_proof(leaves: Sequence[str], index: int) -> list[str]:
    """The audit path of ``leaves[index]``: sibling hashes from the leaf up."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*merkle_proof(leaves[:k], index), merkle_root(leaves[k:])]
    return [*merkle_proof(leaves[k:], index - k), merkle_root(leaves[:k])]


def root_from_proof(leaf: str, index: int, size: int, proof: Sequence[str]) -> str | None:
    """The root that ``leaf`` at ``index`` of ``size`` leaves and its audit path lead to (None when
    the path has the wrong length for that position)."""
    path = list(proof)

    def walk(index: int, size: int) -> str | None:
        if size == 1:
            return leaf
        k = _split(size)
        if index < k:
            inner = walk(index, k)
        else:
            inner = walk(index - k, size - k)
        if inner is None or not path:
            return None
        sibling = path.pop(0)
        return _node(inner, sibling) if index < k else _node(sibling, inner)

    if not 0 <= index < size:
        return None
    # the path is consumed from the leaf up: walk down first, then combine on the way back
    result = walk(index, size)
    return result if result is not None and not path else None


def header_fields(segment: Any) -> dict[str, Any]:
    get = segment.get if isinstance(segment, Mapping) else lambda k: getattr(segment, k)
    sealed_at = get("sealed_at")
    return {"seq": get("seq"), "prev_hash": get("prev_hash"), "root": get("root"), "count": get("count"),
            "first_record_id": get("first_record_id"), "last_record_id": get("last_record_id"),
            "sealed_at": _time(sealed_at) if isinstance(sealed_at, datetime) else sealed_at}


def segment_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(dict(fields)).encode("utf-8")).hexdigest()


# --- the sealer ------------------------------------------------------------------------------


def head(session: Session) -> ArchiveSegment | None:
    """The newest segment: its hash is the archive's head."""
    return session.scalars(select(ArchiveSegment).order_by(ArchiveSegment.seq.desc()).limit(1)).first()


def seal(session: Session, by: str, now: datetime | None = None, limit: int = SEAL_LIMIT) -> ArchiveSegment | None:
    """Seal up to ``limit`` pending records, oldest id first, into the next segment (None when
    nothing waits). The caller owns the write transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    ids = list(session.scalars(select(ArchivePending.record_id).order_by(ArchivePending.record_id).limit(limit)))
    if not ids:
        return None
    records: list[ArchiveRecord] = []
    for start in range(0, len(ids), 500):
        records.extend(session.scalars(select(ArchiveRecord).where(ArchiveRecord.id.in_(ids[start:start + 500]))
                                       .order_by(ArchiveRecord.id)))
    records.sort(key=lambda r: r.id)
    previous = head(session)
    leaves = [leaf_hash(leaf_fields(r)) for r in records]
    fields = {"seq": (previous.seq + 1) if previous else 1, "prev_hash": previous.hash if previous else GENESIS,
              "root": merkle_root(leaves), "count": len(records), "first_record_id": records[0].id,
              "last_record_id": records[-1].id, "sealed_at": (now or utcnow()).replace(microsecond=0)}
    segment = ArchiveSegment(**fields, hash=segment_hash(header_fields(fields)), sealed_by=by[:200])
    session.add(segment)
    session.flush([segment])
    conn = session.connection()
    conn.execute(insert(ArchiveSeal), [{"record_id": r.id, "segment_id": segment.id, "position": i}
                                       for i, r in enumerate(records)])
    for start in range(0, len(ids), 500):
        conn.execute(delete(ArchivePending).where(ArchivePending.record_id.in_(ids[start:start + 500])))
    return segment


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ArchivePending)) or 0)
