"""What the /archive page reads: record search, an item's record history, the last verifications,
the head and the anchored heads. Plain functions, session first, bounded, keyset-paged (by record
id, newest first for the search, oldest first for a history), never committing.

Records of an author under a data-protection request (an `ErasureRequest` restricted or erased)
are left out unless the caller asks for them (``include_restricted``: compliance only); when
included they are marked ``restricted``. The free-text search is a case-insensitive LIKE on the
records' canonical JSON, so it finds words as they are stored there (a quote or a line break in a
post is escaped in JSON: search for the words around it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from models.archive_seal import head, pending_count
from models.archive_tables import (
    ArchiveContent,
    ArchiveRecord,
    ArchiveSeal,
    ArchiveSegment,
    ArchiveVerification,
    ErasureRequest,
)

SEARCH_LIMIT = 200  # results per page of a search, at most
HISTORY_LIMIT = 200  # records per page of an item's history
RESTRICTING = ("restricted", "erased")  # erasure-request states that hide an author's records
ANCHOR_TAIL_BYTES = 64 * 1024  # the anchor file is read from its end, this much at most
ANCHOR_LINE_CHARS = 400


@dataclass(frozen=True)
class RecordFilter:
    """What a search asks for; every field optional. ``until`` is exclusive."""

    kind: str | None = None
    subject: str | None = None
    author: str | None = None  # "network:handle"
    mention_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None  # in the content, case-insensitive


@dataclass(frozen=True)
class RecordRow:
    id: int
    kind: str
    subject: str
    at: datetime
    sha256: str
    retention_class: str
    retain_until: datetime
    mention_id: int | None
    author: str | None
    segment_seq: int | None  # None: waiting to be sealed
    position: int | None  # in its segment
    tombstone: bool  # its content was purged
    restricted: bool  # its author is under a data-protection request


@dataclass(frozen=True)
class HistoryEntry:
    record: RecordRow
    content: Any  # the record's JSON content, parsed; None for a tombstone


@dataclass(frozen=True)
class AnchorLine:
    seq: int | None
    hash: str | None
    text: str  # an anchor's other fields ("anchored_at …, records …"), or a line that is not one as written
    in_chain: bool | None  # the segment of that seq has that hash (None: not an anchor line)


def _restricting() -> Any:
    """A request names the record's author (handles have no case: compared lower case)."""
    return exists().where(func.lower(ErasureRequest.author) == func.lower(ArchiveRecord.author),
                          ErasureRequest.status.in_(RESTRICTING))


def _restricted_column() -> Any:
    return _restricting().label("restricted")


def _rows() -> Select[*tuple[Any, ...]]:
    return (select(ArchiveRecord.id, ArchiveRecord.kind, ArchiveRecord.subject, ArchiveRecord.at,
                   ArchiveRecord.sha256, ArchiveRecord.retention_class, ArchiveRecord.retain_until,
                   ArchiveRecord.mention_id, ArchiveRecord.author, ArchiveSegment.seq, ArchiveSeal.position,
                   ArchiveContent.record_id.is_(None).label("tombstone"), _restricted_column())
            .join(ArchiveSeal, ArchiveSeal.record_id == ArchiveRecord.id, isouter=True)
            .join(ArchiveSegment, ArchiveSegment.id == ArchiveSeal.segment_id, isouter=True)
            .join(ArchiveContent, ArchiveContent.record_id == ArchiveRecord.id, isouter=True))


def _row(r: Any) -> RecordRow:
    return RecordRow(r.id, r.kind, r.subject, r.at, r.sha256, r.retention_class, r.retain_until, r.mention_id,
                     r.author, r.seq, r.position, bool(r.tombstone), bool(r.restricted))


def _hide_restricted(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    # A record without an author (a config change, a verification) is never restricted.
    return query.where(~_restricting())


def like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its own % _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_records(session: Session, wanted: RecordFilter, include_restricted: bool, before_id: int | None = None,
                   limit: int = SEARCH_LIMIT) -> list[RecordRow]:
    """The newest records matching ``wanted`` (ids below ``before_id``: the next page), at most
    ``limit`` (never more than `SEARCH_LIMIT`)."""
    query = _rows()
    if wanted.kind:
        query = query.where(ArchiveRecord.kind == wanted.kind)
    if wanted.subject:
        query = query.where(ArchiveRecord.subject == wanted.subject.strip())
    if wanted.author:
        query = query.where(ArchiveRecord.author == wanted.author.strip())
    if wanted.mention_id is not None:
        query = query.where(ArchiveRecord.mention_id == wanted.mention_id)
    if wanted.since is not None:
        query = query.where(ArchiveRecord.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(ArchiveRecord.at < wanted.until)
    if wanted.text and wanted.text.strip():
        query = query.where(ArchiveContent.body.ilike(like_pattern(wanted.text.strip()), escape="\\"))
    if before_id is not None:
        query = query.where(ArchiveRecord.id < before_id)
    if not include_restricted:
        query = _hide_restricted(query)
    query = query.order_by(ArchiveRecord.id.desc()).limit(max(1, min(limit, SEARCH_LIMIT)))
    return [_row(r) for r in session.execute(query)]


def mention_history(session: Session, mention_id: int, include_restricted: bool, after_id: int = 0,
                    limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """Every record about ``mention_id`` (the post as received, each event, each reply's), in id
    order from ``after_id`` on, with its content; at most ``limit`` (never more than `HISTORY_LIMIT`)."""
    query = (_rows().add_columns(ArchiveContent.body)
             .where(ArchiveRecord.mention_id == mention_id, ArchiveRecord.id > after_id))
    if not include_restricted:
        query = _hide_restricted(query)
    query = query.order_by(ArchiveRecord.id).limit(max(1, min(limit, HISTORY_LIMIT)))
    out = []
    for r in session.execute(query):
        try:
            content = json.loads(r.body) if r.body is not None else None
        except ValueError:  # an altered body: shown as stored (verify reports it)
            content = r.body
        out.append(HistoryEntry(_row(r), content))
    return out


def restricted_authors(session: Session, authors: Iterable[str | None]) -> set[str]:
    """Which of ``authors`` are under a data-protection request (any case: each as given)."""
    given = sorted({a for a in authors if a})[:500]
    if not given:
        return set()
    named = {a.lower() for a in session.scalars(select(ErasureRequest.author).where(
        func.lower(ErasureRequest.author).in_(sorted({a.lower() for a in given})),
        ErasureRequest.status.in_(RESTRICTING)))}
    return {a for a in given if a.lower() in named}


def last_verifications(session: Session, limit: int = 10) -> list[ArchiveVerification]:
    return list(session.scalars(select(ArchiveVerification).order_by(ArchiveVerification.id.desc())
                                .limit(max(1, min(limit, 100)))))


@dataclass(frozen=True)
class ChainState:
    head: ArchiveSegment | None
    pending: int  # records waiting to be sealed


def chain_state(session: Session) -> ChainState:
    return ChainState(head(session), pending_count(session))


def anchor_tail(session: Session, path: Path, lines: int = 10) -> list[AnchorLine]:
    """The last ``lines`` lines of the anchor file (read from its end, at most `ANCHOR_TAIL_BYTES`;
    nothing when it does not exist or cannot be read), each checked against the chain."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - ANCHOR_TAIL_BYTES))
            data = handle.read(ANCHOR_TAIL_BYTES)
    except OSError:
        return []
    text = data.decode("utf-8", "replace")
    found = [line for line in text.splitlines()[1 if size > ANCHOR_TAIL_BYTES else 0:] if line.strip()][-lines:]
    parsed: list[tuple[int | None, str | None, str]] = []
    for line in found:
        try:
            entry = json.loads(line)
            rest = ", ".join(f"{k} {v}" for k, v in entry.items() if k not in ("seq", "hash"))
            parsed.append((int(entry["seq"]), str(entry["hash"]), rest[:ANCHOR_LINE_CHARS]))
        except (ValueError, KeyError, TypeError):
            parsed.append((None, None, line[:ANCHOR_LINE_CHARS]))
    seqs = [seq for seq, _h, _t in parsed if seq is not None]
    chain: dict[int, str] = {}
    if seqs:
        chain = {seq: digest for seq, digest in session.execute(select(ArchiveSegment.seq, ArchiveSegment.hash)
                                                                .where(ArchiveSegment.seq.in_(seqs)))}
    return [AnchorLine(seq, digest, line, None if seq is None else chain.get(seq) == digest)
            for seq, digest, line in parsed]
