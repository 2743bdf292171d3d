"""The proofs an export carries (`models.archive_export`): each record's audit path, computed once
per segment for the few segments the current records sit in, and the chain of segment headers
from 1 to the head. Only reads."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import archive_formats as fmt
from models.archive_hashing import LEAF_COLUMNS, header_fields, leaf_fields, leaf_hash, merkle_proofs
from models.archive_seal import head
from models.archive_tables import ArchiveRecord, ArchiveSeal, ArchiveSegment

PAGE = 500  # segment headers per statement
CACHED_SEGMENTS = 3  # records of one page may sit in a few segments (ids committed out of order)
LEAF_SELECT = [getattr(ArchiveRecord, c) for c in LEAF_COLUMNS]


@dataclass(frozen=True)
class Proofs:
    """One segment's number, size and every record's audit path, by position."""

    seq: int
    size: int
    paths: list[list[str]]


class SegmentProofs:
    """The audit paths of the few segments the current records sit in, each computed once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: OrderedDict[int, Proofs] = OrderedDict()
        self.problems: list[str] = []

    def get(self, segment_id: int) -> Proofs:
        if segment_id in self.cache:
            self.cache.move_to_end(segment_id)
            return self.cache[segment_id]
        segment = self.session.get(ArchiveSegment, segment_id)
        assert segment is not None  # the seal's foreign key
        rows = self.session.execute(select(*LEAF_SELECT).join(ArchiveSeal, ArchiveSeal.record_id == ArchiveRecord.id)
                                    .where(ArchiveSeal.segment_id == segment_id).order_by(ArchiveSeal.position)).all()
        root, paths = merkle_proofs([leaf_hash(leaf_fields(r._mapping)) for r in rows])
        if root != segment.root or len(rows) != segment.count:
            self.problems.append(f"segment {segment.seq}: its records do not hash to its root "
                                 "(run vigie archive verify)")
        proofs = Proofs(segment.seq, segment.count, paths)
        self.cache[segment_id] = proofs
        if len(self.cache) > CACHED_SEGMENTS:
            self.cache.popitem(last=False)
        return proofs


def write_segments(session: Session, path: Path) -> ArchiveSegment | None:
    """Every segment's header and hash from 1 to the head (read now: every record exported is in
    one of them), one JSON line each; the head."""
    newest = head(session)
    last = 0
    with path.open("w", encoding="utf-8") as out:
        while newest is not None and last < newest.seq:
            rows = session.scalars(select(ArchiveSegment).where(ArchiveSegment.seq > last, ArchiveSegment.seq
                                                                <= newest.seq).order_by(ArchiveSegment.seq)
                                   .limit(PAGE)).all()
            if not rows:
                break
            for segment in rows:
                out.write(fmt.dumps_line({**header_fields(segment), "hash": segment.hash}))
            last = rows[-1].seq
    return newest
