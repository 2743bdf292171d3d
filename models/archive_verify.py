"""`vigie archive verify`: re-derive every hash of the archive and report what fails.

Checked, segment by segment in ``seq`` order (a page of segments per statement, one segment's
records at a time: memory stays flat):

* the segments run 1, 2, 3… without a gap, each naming the previous one's hash;
* each segment's hash is that of its header, its root that of its records' leaves, in position
  order (0, 1, 2…, ids ascending), and it holds as many records as its header says;
* each record's content, sealed or waiting to be, hashes to the record's ``sha256``; a record
  without content (a tombstone) must be named by a purge record (itself unaltered, written after
  it, not dated in the future) made at or after the record's ``retain_until``;
* every record is sealed in a segment or waiting to be (`archive_pending`), never both, and no
  waiting row or content outlives its record;
* each anchored head (a line of the anchor file: seq and hash) is in the chain, unchanged: this
  is what catches a chain rewritten from some point on, or cut short.

The first failures are reported (record or segment, and why), up to ``max_failures``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

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


def purges(session: Session, now: datetime | None = None, page: int = 200) -> dict[int, datetime]:
    """Each record a purge record names, with the purge's time: what may be a tombstone.

    Only a purge record whose content still matches its SHA-256 counts, only for records written
    before it, and (with ``now``) not one dated in the future: a purge record forged beside a
    deleted content (by someone able to write to the database) must also name a record whose
    retention had run out at the purge's time, and `_check_content` checks that against the
    record's sealed ``retain_until``."""
    out: dict[int, datetime] = {}
    last = 0
    while True:
        rows = session.execute(
            select(ArchiveRecord.id, ArchiveRecord.at, ArchiveRecord.sha256, ArchiveContent.body)
            .join(ArchiveContent, ArchiveContent.record_id == ArchiveRecord.id)
            .where(ArchiveRecord.kind == "purge", ArchiveRecord.id > last).order_by(ArchiveRecord.id).limit(page)).all()
        for record_id, at, digest, body in rows:
            last = record_id
            if sha256_text(body) != digest or (now is not None and at > now):
                continue  # an altered or future purge record removes nothing (its own check reports it)
            try:
                named = [int(i) for i in json.loads(body).get("record_ids", [])]
            except (ValueError, TypeError, AttributeError):
                continue
            for named_id in named:
                if named_id < record_id:
                    out.setdefault(named_id, at)
        if len(rows) < page:
            return out


def purged_ids(session: Session, page: int = 200) -> set[int]:
    """Every record id a (valid) purge record names (their content was removed by retention)."""
    return set(purges(session, page=page))


def _check_content(record: ArchiveRecord, body: str | None, purged: Mapping[int, datetime],
                   result: VerifyResult) -> None:
    """A record's content hashes to its SHA-256, or it is gone and a purge made after the end of
    its retention names it."""
    if body is None:
        purged_at = purged.get(record.id)
        if purged_at is None:
            result.failures.append(Failure(f"record {record.id}", "its content was deleted, and no purge record "
                                           "names it"))
        elif purged_at < record.retain_until:
            result.failures.append(Failure(f"record {record.id}", f"its content was purged at {purged_at}, before "
                                           f"the end of its retention ({record.retain_until})"))
    elif sha256_text(body) != record.sha256:
        result.failures.append(Failure(f"record {record.id}", "its content does not match its SHA-256"))


def _segments(session: Session, page: int = 100) -> Iterator[ArchiveSegment]:
    last = 0
    while True:
        rows = session.scalars(select(ArchiveSegment).where(ArchiveSegment.seq > last)
                               .order_by(ArchiveSegment.seq).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1].seq


def _check_segment(session: Session, segment: ArchiveSegment, purged: Mapping[int, datetime],
                   result: VerifyResult) -> None:
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
        _check_content(record, body, purged, result)
        leaves.append(leaf_hash(leaf_fields(record)))
    if len(rows) != segment.count:
        result.failures.append(Failure(where, f"holds {len(rows)} records, its header says {segment.count}"))
    elif merkle_root(leaves) != segment.root:
        result.failures.append(Failure(where, "its records do not hash to its root (a record changed, added, "
                                       "removed or moved)"))
    elif rows and (rows[0][1].id != segment.first_record_id or rows[-1][1].id != segment.last_record_id):
        result.failures.append(Failure(where, "its first or last record differs from its header"))


def _check_waiting(session: Session, purged: Mapping[int, datetime], result: VerifyResult, page: int = 500) -> None:
    """The records waiting to be sealed: each has its record row, and its content matches its hash
    (what they say is not yet sealed: only their content can be checked against their hash)."""
    last = 0
    while True:
        rows = session.execute(
            select(ArchivePending.record_id, ArchiveRecord, ArchiveContent.body)
            .join(ArchiveRecord, ArchiveRecord.id == ArchivePending.record_id, isouter=True)
            .join(ArchiveContent, ArchiveContent.record_id == ArchivePending.record_id, isouter=True)
            .where(ArchivePending.record_id > last).order_by(ArchivePending.record_id).limit(page)).all()
        for record_id, record, body in rows:
            last = record_id
            if record is None:
                result.failures.append(Failure(f"record {record_id}", "is waiting to be sealed but was deleted"))
            else:
                _check_content(record, body, purged, result)
        if len(rows) < page:
            return


def _check_orphans(session: Session, result: VerifyResult) -> None:
    """Rows left by a deletion: contents whose record is gone; records neither sealed nor waiting."""
    orphans = session.scalars(select(ArchiveContent.record_id).where(
        ~exists().where(ArchiveRecord.id == ArchiveContent.record_id)).limit(5)).all()
    for record_id in orphans:
        result.failures.append(Failure(f"record {record_id}", "its content is there but its record was deleted"))
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
    # Seals must all belong to the chain walked above (segments numbered from 1): a segment outside it
    # (numbered 0 or below, added by INSERTs the triggers allow) would pass its records off as sealed.
    outside = session.scalars(select(ArchiveSegment.seq).where(ArchiveSegment.seq < 1).limit(5)).all()
    for seq in outside:
        result.failures.append(Failure(f"segment {seq}", "is numbered outside the chain (segments start at 1)"))
    sealed = int(session.scalar(select(func.count()).select_from(ArchiveSeal)) or 0)
    declared = int(session.scalar(select(func.coalesce(func.sum(ArchiveSegment.count), 0))) or 0)
    if sealed != declared:
        result.failures.append(Failure("seals", f"{sealed} records are sealed, the segments' headers count {declared}"))


def verify(session: Session, anchors: Sequence[Anchor] = (), max_failures: int = 20,
           now: datetime | None = None) -> VerifyResult:
    """Check the whole archive (see the module's docstring). ``now`` (the CLI passes the clock):
    a purge record dated later removes nothing."""
    result = VerifyResult()
    purged = purges(session, now)
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
    _check_waiting(session, purged, result)
    _check_orphans(session, result)
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
