"""Sealing: records written by any number of concurrent writers, in id order, into hash-chained
segments. The hashing rules are pure functions in `models.archive_hashing` (shared by the
sealer, `vigie archive verify` and the offline check of an export), re-exported here:

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

from datetime import datetime

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

# The pure rules live in models.archive_hashing (no SQLAlchemy there: the offline check of an
# export uses them); re-exported here under the names the sealer's callers know.
from models.archive_hashing import GENESIS as GENESIS
from models.archive_hashing import LEAF_COLUMNS as LEAF_COLUMNS
from models.archive_hashing import header_fields as header_fields
from models.archive_hashing import leaf_fields as leaf_fields
from models.archive_hashing import leaf_hash as leaf_hash
from models.archive_hashing import merkle_proof as merkle_proof
from models.archive_hashing import merkle_proofs as merkle_proofs
from models.archive_hashing import merkle_root as merkle_root
from models.archive_hashing import root_from_proof as root_from_proof
from models.archive_hashing import segment_hash as segment_hash
from models.archive_tables import ArchivePending, ArchiveRecord, ArchiveSeal, ArchiveSegment
from models.tables import utcnow

SEAL_LIMIT = 5000  # records per segment at most
_LOCK_KEY = 0x56494749  # "VIGI": the sealers' advisory lock on PostgreSQL


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
    session.flush()  # its id, for the seals
    conn = session.connection()
    conn.execute(insert(ArchiveSeal), [{"record_id": r.id, "segment_id": segment.id, "position": i}
                                       for i, r in enumerate(records)])
    for start in range(0, len(ids), 500):
        conn.execute(delete(ArchivePending).where(ArchivePending.record_id.in_(ids[start:start + 500])))
    return segment


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ArchivePending)) or 0)
