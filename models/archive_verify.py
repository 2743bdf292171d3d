"""`vigie archive verify`: re-derive every hash of the archive and report what fails.

Checked, segment by segment in ``seq`` order (a page of segments per statement, one segment's
records at a time: memory stays flat):

* the segments run 1, 2, 3… without a gap, each naming the previous one's hash;
* each segment's hash is that of its header, its root that of its records' leaves, in position
  order (0, 1, 2…, ids ascending), and it holds as many records as its header says;
* each record's content hashes to the record's ``sha256``; a record without content (a tombstone)
  must be named by a purge record;
* every record is sealed in a segment or waiting to be (`archive_pending`), never both;
* each anchored head (a line of the anchor file: seq and hash) is in the chain, unchanged: this
  is what catches a chain rewritten from some point on, or cut short.

The first failures are reported (record or segment, and why), up to ``max_failures``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from models.archive import sha256_text
from models.archive_seal import GENESIS, header_fields, leaf_fields, leaf_hash, merkle_root, segment_hash
from models.archive_tables import ArchiveContent, ArchivePending, ArchiveRecord, ArchiveSeal, ArchiveSegment


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str


@dataclass(frozen=True)
class Failure:
    where: str  # "segment 12", "record 3456", "anchor 7"
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}"


@dataclass
class VerifyResult:
    records: int = 0
    segments: int = 0
    pending: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def read_anchors(lines: Iterable[str]) -> list[Anchor]:
    """Anchors from the anchor file's JSON lines ({"seq": …, "hash": …, …}); blank lines skipped."""
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            out.append(Anchor(int(data["seq"]), str(data["hash"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"anchor file line {number}: not an anchor ({exc})") from None
    return out


def purged_ids(session: Session, page: int = 200) -> set[int]:
    """Every record id a purge record names (their content was removed by retention)."""
    out: set[int] = set()
    last = 0
    while True:
        rows = session.execute(
            select(ArchiveRecord.id, ArchiveContent.body)
            .join(ArchiveContent, ArchiveContent.record_id == ArchiveRecord.id)
            .where(ArchiveRecord.kind == "purge", ArchiveRecord.id > last).order_by(ArchiveRecord.id).limit(page)).all()
        for record_id, body in rows:
            try:
                out.update(int(i) for i in json.loads(body).get("record_ids", []))
            except (ValueError, TypeError, AttributeError):
                pass  # a purge record altered: its own hash check reports it
            last = record_id
        if len(rows) < page:
            return out


def _segments(session: Session, page: int = 100) -> Iterator[ArchiveSegment]:
    last = 0
    while True:
        rows = session.scalars(select(ArchiveSegment).where(ArchiveSegment.seq > last)
                               .order_by(ArchiveSegment.seq).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1].seq


def _check_segment(session: Session, segment: ArchiveSegment, purged: set[int], result: VerifyResult) -> None:
    where = f"segment {segment.seq}"
    rows = session.execute(
        select(ArchiveSeal.position, ArchiveRecord, ArchiveContent.body)
        .join(ArchiveRecord, ArchiveRecord.id == ArchiveSeal.record_id, isouter=True)
        .join(ArchiveContent, ArchiveContent.record_id == ArchiveSeal.record_id, isouter=True)
        .where(ArchiveSeal.segment_id == segment.id).order_by(ArchiveSeal.position)).all()
    leaves: list[str] = []
    previous_id = 0
    for expected, (position, record, body) in enumerate(rows):
        if position != expected:
            result.failures.append(Failure(where, f"seal positions out of order at {position} (expected {expected})"))
            return
        if record is None:
            result.failures.append(Failure(where, f"the record sealed at position {position} is missing"))
            return
        result.records += 1
        if record.id <= previous_id:
            result.failures.append(Failure(f"record {record.id}", f"out of order in {where}"))
        previous_id = record.id
        if body is None:
            if record.id not in purged:
                result.failures.append(Failure(f"record {record.id}", "its content was deleted, and no purge record "
                                               "names it"))
        elif sha256_text(body) != record.sha256:
            result.failures.append(Failure(f"record {record.id}", "its content does not match its SHA-256"))
        leaves.append(leaf_hash(leaf_fields(record)))
    if len(rows) != segment.count:
        result.failures.append(Failure(where, f"holds {len(rows)} records, its header says {segment.count}"))
    elif merkle_root(leaves) != segment.root:
        result.failures.append(Failure(where, "its records do not hash to its root (a record changed, added, "
                                       "removed or moved)"))
    elif rows and (rows[0][1].id != segment.first_record_id or rows[-1][1].id != segment.last_record_id):
        result.failures.append(Failure(where, "its first or last record differs from its header"))


def verify(session: Session, anchors: Sequence[Anchor] = (), max_failures: int = 20) -> VerifyResult:
    """Check the whole archive (see the module's docstring)."""
    result = VerifyResult()
    purged = purged_ids(session)
    previous_hash, expected_seq = GENESIS, 1
    wanted = {a.seq for a in anchors}
    hashes: dict[int, str] = {}  # of the anchored segments only
    for segment in _segments(session):
        where = f"segment {segment.seq}"
        if segment.seq != expected_seq:
            result.failures.append(Failure(where, f"segments {expected_seq}…{segment.seq - 1} are missing"))
        if segment.prev_hash != previous_hash:
            result.failures.append(Failure(where, "does not name the previous segment's hash"))
        if segment_hash(header_fields(segment)) != segment.hash:
            result.failures.append(Failure(where, "its header does not hash to its hash"))
        _check_segment(session, segment, purged, result)
        result.segments += 1
        if segment.seq in wanted:
            hashes[segment.seq] = segment.hash
        previous_hash, expected_seq = segment.hash, segment.seq + 1
        result.head_seq, result.head_hash = segment.seq, segment.hash
        if len(result.failures) >= max_failures:
            break
    unsealed = session.scalars(
        select(ArchiveRecord.id)
        .where(~exists().where(ArchiveSeal.record_id == ArchiveRecord.id),
               ~exists().where(ArchivePending.record_id == ArchiveRecord.id))
        .order_by(ArchiveRecord.id).limit(5)).all()
    for record_id in unsealed:
        result.failures.append(Failure(f"record {record_id}", "is in no segment and not waiting to be sealed"))
    both = session.scalars(select(ArchivePending.record_id).where(
        exists().where(ArchiveSeal.record_id == ArchivePending.record_id)).limit(5)).all()
    for record_id in both:
        result.failures.append(Failure(f"record {record_id}", "is sealed and still listed as waiting"))
    result.pending = int(session.scalar(select(func.count()).select_from(ArchivePending)) or 0)
    for anchor in anchors:
        found = hashes.get(anchor.seq)
        if found is None:
            result.failures.append(Failure(f"anchor {anchor.seq}",
                                           "the anchored segment is not in the chain (cut short or rewritten)"))
        elif found != anchor.hash:
            result.failures.append(Failure(f"anchor {anchor.seq}", "the segment's hash differs from the anchored head "
                                           "(the chain was rewritten)"))
    result.failures = result.failures[:max_failures]
    return result
