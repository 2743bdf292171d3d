"""Exports for auditors: the records a selection picks (a date range, a legal hold's matter, an
author, an item), as JSONL, RFC 5322 messages and CSV, with a manifest that lets anyone check
the export offline against the archive's head (`models.archive_check`, `vigie archive
verify-export`). The files and their layout: `models.archive_formats`.

Streamed: records are read in keyset pages of ids and written as they come; the manifest is
written as it goes too (one line per record, one per segment), so memory holds one page of
records and the proofs of at most a few segments (`models.archive_export_proofs`) (a segment has at most 5,000
records), whatever the export's size.

What an export holds:

* only records already **sealed** when it is read: a record's proof needs its segment. The
  command seals every waiting record first (`seal_waiting`), so what is left out is what was
  written while it ran; the manifest and the summary count it (``unsealed_left_out``);
* records whose author a data-protection request names (`ErasureRequest`, restricted or erased)
  are **left out**, unless ``include_restricted`` (compliance only: the caller checks the role),
  and then marked restricted in every file;
* **tombstones** (content purged by retention) as their metadata and hash, no content.

`export_archive` only reads (give it one snapshot: REPEATABLE READ on PostgreSQL); the caller
then records who exported what with `record_export` in a write transaction.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from i18n import _
from models import archive_formats as fmt
from models.archive_check import file_sha256
from models.archive_export_proofs import LEAF_SELECT, SegmentProofs, write_segments
from models.archive_hashing import leaf_fields
from models.archive_seal import seal
from models.archive_tables import ArchiveContent, ArchiveRecord, ArchiveSeal, ErasureRequest, LegalHold
from models.audit_log import record_event
from models.db import Database
from models.holds import HoldScope, scope_matches
from models.tables import SourceRow, to_naive_utc, utcnow

PAGE = 500
COUNT_CAP = 10_000_000  # the progress bar's COUNT stops there: a bounded statement
RESTRICTED = ("restricted", "erased")


class ExportError(Exception):
    """The export cannot be made (unknown hold, output folder in use, unknown format)."""


@dataclass(frozen=True)
class Selection:
    """Which records: all of these that are given (``at`` in [since, until), naive or aware UTC)."""

    since: datetime | None = None
    until: datetime | None = None
    hold_id: int | None = None  # a legal hold's scope: its matter
    author: str | None = None  # "network:handle"
    mention_id: int | None = None
    include_restricted: bool = False

    def describe(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ExportSummary:
    records: int
    files: int
    manifest: Path
    head: str | None  # the newest segment's hash when the export was read
    head_seq: int | None = None
    manifest_sha256: str = ""
    tombstones: int = 0
    restricted: int = 0  # included and marked (include_restricted)
    restricted_left_out: int = 0
    unsealed_left_out: int = 0
    expected: int | None = None  # the bounded COUNT, when asked for (total_hint)
    problems: tuple[str, ...] = field(default_factory=tuple)  # segments whose records do not hash to their root


def _hold_conditions(session: Session, hold_id: int) -> tuple[list[ColumnElement[bool]], HoldScope]:
    """A hold's scope as conditions that narrow the statement (its items, authors or sources: any of
    them; its date range); each record read is then checked by the holds' own rule
    (`models.holds.scope_matches`: authors without case, the query in the content), so an export of
    a matter holds exactly what the hold keeps — a tombstone too, whose content no query can rule out."""
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise ExportError(_("legal hold {id} does not exist").format(id=hold_id))
    scope = HoldScope.from_json(hold.scope or {})
    any_of: list[ColumnElement[bool]] = []
    if scope.mention_ids:
        any_of.append(ArchiveRecord.mention_id.in_(scope.mention_ids))
    if scope.authors:
        any_of.append(func.lower(ArchiveRecord.author).in_([a.lower() for a in scope.authors]))
    if scope.source_ids:
        any_of.append(ArchiveRecord.source_id.in_(scope.source_ids))
    if scope.sources:
        any_of.append(ArchiveRecord.source_id.in_(select(SourceRow.id).where(SourceRow.name.in_(scope.sources))))
    conditions = [or_(*any_of)] if any_of else []
    if scope.since is not None:
        conditions.append(ArchiveRecord.at >= scope.since)
    if scope.until is not None:
        conditions.append(ArchiveRecord.at < scope.until)
    return conditions, scope


def _conditions(session: Session, selection: Selection) -> tuple[list[ColumnElement[bool]], HoldScope | None]:
    conditions: list[ColumnElement[bool]] = []
    if selection.since is not None:
        conditions.append(ArchiveRecord.at >= to_naive_utc(selection.since))
    if selection.until is not None:
        conditions.append(ArchiveRecord.at < to_naive_utc(selection.until))
    if selection.author is not None:
        conditions.append(ArchiveRecord.author == selection.author)
    if selection.mention_id is not None:
        conditions.append(ArchiveRecord.mention_id == selection.mention_id)
    scope = None
    if selection.hold_id is not None:
        held, scope = _hold_conditions(session, selection.hold_id)
        conditions.extend(held)
    return conditions, scope


def count_selection(session: Session, selection: Selection, cap: int = COUNT_CAP) -> int:
    """How many records the selection reads (before the matter's own rule and the restricted leave
    some out): one COUNT over at most ``cap`` ids, for a progress bar."""
    conditions, _ = _conditions(session, selection)
    ids = select(ArchiveRecord.id).where(*conditions).limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(ids)) or 0)


def _pages(session: Session, conditions: Sequence[ColumnElement[bool]]) -> Iterator[Sequence[Any]]:
    last = 0
    while True:
        rows = session.execute(
            select(*LEAF_SELECT, ArchiveContent.body, ArchiveSeal.segment_id, ArchiveSeal.position)
            .join(ArchiveContent, ArchiveContent.record_id == ArchiveRecord.id, isouter=True)
            .join(ArchiveSeal, ArchiveSeal.record_id == ArchiveRecord.id, isouter=True)
            .where(ArchiveRecord.id > last, *conditions).order_by(ArchiveRecord.id).limit(PAGE)).all()
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        last = rows[-1].id


def _restricted(session: Session, authors: set[str]) -> set[str]:
    """Which of ``authors`` a request names, lower case (handles have no case: compare ``author.lower()``)."""
    wanted = sorted({a.lower() for a in authors})
    if not wanted:
        return set()
    return {a.lower() for a in session.scalars(select(ErasureRequest.author).where(
        func.lower(ErasureRequest.author).in_(wanted), ErasureRequest.status.in_(RESTRICTED)))}


def _prepare(out_dir: Path) -> Path:
    """A fresh folder beside ``out_dir`` to write into (renamed to ``out_dir`` at the end, so a
    folder with that name is always a finished export)."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir}: exists and is not an empty folder")
    part = out_dir.with_name(out_dir.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    (part / fmt.EML_DIR).mkdir(parents=True)
    return part


def export_archive(session: Session, out_dir: Path, selection: Selection, formats: Sequence[str] = fmt.FORMATS,
                   progress: Callable[[int], None] | None = None, total_hint: bool = True) -> ExportSummary:
    """Write the records ``selection`` picks into ``out_dir`` (new or empty) in ``formats`` with
    their manifest; ``progress`` is called with the number of records read after each page."""
    formats = tuple(dict.fromkeys(formats))
    if not formats or set(formats) - set(fmt.FORMATS):
        raise ExportError(f"formats: expected some of {', '.join(fmt.FORMATS)}, got {', '.join(formats) or 'none'}")
    conditions, scope = _conditions(session, selection)
    expected = count_selection(session, selection) if total_hint else None
    part = _prepare(out_dir)
    try:
        return _export(session, out_dir, part, selection, formats, conditions, scope, progress, expected)
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)  # never a half-written export left behind
        raise


def _export(session: Session, out_dir: Path, part: Path, selection: Selection, formats: tuple[str, ...],
            conditions: Sequence[ColumnElement[bool]], scope: HoldScope | None, progress: Callable[[int], None] | None,
            expected: int | None) -> ExportSummary:
    counts = {"records": 0, "tombstones": 0, "restricted": 0, "restricted_left_out": 0, "unsealed_left_out": 0}
    segments = SegmentProofs(session)
    files = 0
    with (part / fmt.MANIFEST_RECORDS).open("w", encoding="utf-8") as manifest_out, \
            (part / fmt.RECORDS_JSONL).open("w", encoding="utf-8") as jsonl_out, \
            (part / fmt.RECORDS_CSV).open("w", encoding="utf-8-sig", newline="") as csv_out:
        writer = csv.writer(csv_out)
        writer.writerow(fmt.CSV_COLUMNS)
        for rows in _pages(session, conditions):
            restricted = _restricted(session, {r.author for r in rows if r.author})
            for row in rows:
                if scope is not None and not scope_matches(scope, row):
                    continue  # the matter's own rule (its query, authors without case)
                if row.segment_id is None:
                    counts["unsealed_left_out"] += 1
                    continue
                is_restricted = bool(row.author) and row.author.lower() in restricted
                if is_restricted and not selection.include_restricted:
                    counts["restricted_left_out"] += 1
                    continue
                leaf = leaf_fields(row._mapping)
                proofs = segments.get(row.segment_id)
                meta = {**leaf, "segment": proofs.seq, "position": row.position,
                        "restricted": is_restricted, "tombstone": row.body is None}
                content = json.loads(row.body) if row.body is not None else None
                entry = {"id": row.id, "sha256": row.sha256, "leaf": leaf, "segment": proofs.seq,
                         "position": row.position, "size": proofs.size, "proof": proofs.paths[row.position],
                         "restricted": meta["restricted"], "tombstone": meta["tombstone"]}
                if "jsonl" in formats:
                    jsonl_out.write(fmt.dumps_line(fmt.record_line(meta, content, row.body)))
                if "csv" in formats:
                    writer.writerow(fmt.csv_row(meta, row.kind, content, row.body))
                if "eml" in formats:
                    message = fmt.eml_bytes(meta, row.kind, content, row.body)
                    (part / fmt.eml_name(row.id)).write_bytes(message)
                    entry["eml_sha256"] = hashlib.sha256(message).hexdigest()
                    files += 1
                manifest_out.write(fmt.dumps_line(entry))
                counts["records"] += 1
                counts["tombstones"] += row.body is None
                counts["restricted"] += meta["restricted"]
            if progress is not None:
                progress(len(rows))
    newest = write_segments(session, part / fmt.MANIFEST_SEGMENTS)
    listed = [fmt.MANIFEST_RECORDS, fmt.MANIFEST_SEGMENTS, *(fmt.FORMAT_FILES[f] for f in formats if f != "eml")]
    for name in (fmt.RECORDS_JSONL, fmt.RECORDS_CSV):
        if name not in listed:
            (part / name).unlink()
    if "eml" not in formats:
        (part / fmt.EML_DIR).rmdir()
    manifest = {
        "format": fmt.FORMAT, "version": fmt.VERSION, "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        "selection": selection.describe(), "formats": list(formats), **counts,
        "head": {"seq": newest.seq, "hash": newest.hash, "sealed_at": newest.sealed_at.isoformat()} if newest else None,
        "files": {name: file_sha256(part / name) for name in listed},
        "problems": segments.problems,
    }
    (part / fmt.MANIFEST).write_bytes(fmt.manifest_text(manifest).encode("utf-8"))
    if out_dir.exists():
        out_dir.rmdir()
    os.replace(part, out_dir)
    return ExportSummary(records=counts["records"], files=files + len(listed) + 1, manifest=out_dir / fmt.MANIFEST,
                         head=newest.hash if newest else None, head_seq=newest.seq if newest else None,
                         manifest_sha256=file_sha256(out_dir / fmt.MANIFEST), tombstones=counts["tombstones"],
                         restricted=counts["restricted"], restricted_left_out=counts["restricted_left_out"],
                         unsealed_left_out=counts["unsealed_left_out"], expected=expected,
                         problems=tuple(segments.problems))


def seal_waiting(db: Database, by: str) -> int:
    """Seal every record waiting (one write transaction per segment), so an export made next
    holds everything written before it; the number sealed."""
    total = 0
    while True:
        with db.write.begin() as session:
            segment = seal(session, by)
            if segment is None:
                return total
            total += segment.count


def record_export(session: Session, actor: str, selection: Selection, formats: Sequence[str],
                  summary: ExportSummary) -> None:
    """Who exported what: an audit event, and with it its archive record, in the caller's write
    transaction. The manifest's SHA-256 lets anyone tie the files handed over to this record."""
    record_event(session, actor, "archive.export", subject=f"export:{summary.manifest_sha256[:16]}",
                 after={"selection": selection.describe(), "formats": list(formats), "records": summary.records,
                        "tombstones": summary.tombstones, "restricted": summary.restricted,
                        "restricted_left_out": summary.restricted_left_out,
                        "unsealed_left_out": summary.unsealed_left_out, "head_seq": summary.head_seq,
                        "head": summary.head, "manifest_sha256": summary.manifest_sha256,
                        "folder": summary.manifest.parent.name})
