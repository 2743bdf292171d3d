"""`vigie import FILE`: backfills from a file, through the one ingest entry point (`collectors.ingest`).

An import reads a JSONL file (one JSON object a line) or a CSV file (a header row, then one
post a row) through a field mapping (`collectors.mapping`), and stores it under a source of
kind ``import`` (its own row, not one configured in sources.yaml), ``settings.batch_size``
lines per transaction with the source's cursor. The cursor holds the byte offset and the
line number reached, and the SHA-256 of every byte before that offset. Run again, the import
resumes at the offset only if the file still begins with exactly those bytes (an interrupted
import, or a file that has grown since); a file that changed in any other way is read again
from the start, and the posts already stored are skipped as duplicates (posts are unique per
source and id), so no line is ever skipped unread. ``rescan=True`` reads from the start anyway.

Bad lines (not JSON, not an object, no id, no text, an unreadable time, a CSV row with the
wrong number of cells) are counted, kept in `rejected_items` with their line number, and the
import goes on.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from collectors.clean import clean_post
from collectors.ingest import RunReport, ingest, record_health, source_row
from collectors.mapping import FieldMapping, decode_json
from collectors.pipeline import Enricher
from collectors.types import CollectorError, Parsed, RawPost, Rejected
from config.settings import Settings
from models.db import Database
from models.tables import SourceRow

log = logging.getLogger("vigie.import")

FORMATS = ("jsonl", "csv")
_HASH_CHUNK = 1024 * 1024


def format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise CollectorError(f"{path.name}: cannot tell the format from the extension; give --format jsonl or csv", True)


@dataclass
class ImportReport:
    stored: int = 0
    queued: int = 0
    copies: int = 0
    duplicates: int = 0
    rejected: int = 0
    lines: int = 0  # the file's last line read
    started_at_line: int = 0  # lines already imported before this run
    note: str | None = None  # why the file is read from the start although a cursor was kept
    problems: list[str] = field(default_factory=list)


class _Lines:
    """The file's lines as text from a byte offset, counting bytes and lines and hashing them as
    they are consumed, so the position after each CSV record (which may span lines) is exact."""

    def __init__(self, stream: Any, offset: int, line: int, hasher: Any) -> None:
        self.stream, self.offset, self.line, self.hasher = stream, offset, line, hasher

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self.stream.readline()
        if not raw:
            raise StopIteration
        self.offset += len(raw)
        self.line += 1
        self.hasher.update(raw)
        text: str = raw.decode("utf-8", "replace")
        return text.lstrip("\ufeff") if self.offset == len(raw) else text  # a BOM (Excel's CSV) is not data


class FileImport:
    """One import of ``path`` into source ``source_name``: `prepare()` finds where to start, `run()` stores."""

    def __init__(self, db: Database, settings: Settings, path: Path, source_name: str, fmt: str,
                 mapping: FieldMapping, delimiter: str = ",") -> None:
        self.db, self.settings, self.path, self.fmt = db, settings, path, fmt
        self.source_name, self.mapping, self.delimiter = source_name, mapping, delimiter
        self.size = path.stat().st_size
        self.source_id = 0
        self.cursor: str | None = None  # the source's cursor as last stored
        self.offset, self.line = 0, 0
        self.hasher = hashlib.sha256()
        self.report = ImportReport()

    def prepare(self, rescan: bool = False) -> None:
        """Find or create the source row and decide where to start (see the module docstring)."""
        source_id, kind = source_row(self.db, self.source_name, "import")
        if kind != "import":
            raise CollectorError(f"source {self.source_name!r} is a {kind} source; give the import its own name", True)
        self.source_id = source_id
        with self.db.read() as session:
            cursor = session.scalar(select(SourceRow.cursor).where(SourceRow.id == source_id))
        self.cursor = cursor
        kept = _read_cursor(cursor)
        if rescan or kept is None:
            return
        offset, line = kept.get("offset"), kept.get("line")
        if kept.get("format") != self.fmt or not isinstance(offset, int) or not isinstance(line, int):
            self.report.note = "the last import under this source was another file: reading from the start"
            return
        if offset > self.size or _prefix_sha256(self.path, offset).hexdigest() != kept.get("sha256"):
            self.report.note = (f"{self.path.name} is not the file (or no longer begins as the file) last imported "
                                "under this source: reading from the start; posts already stored are skipped")
            return
        self.offset, self.line, self.hasher = offset, line, _prefix_sha256(self.path, offset)
        self.report.started_at_line = line

    def run(self, progress: Callable[[int], None] = lambda _done: None) -> ImportReport:
        """Store the file from the prepared position, then record the source's health; ``progress``
        gets the bytes read after each batch."""
        enricher = Enricher(self.settings)
        pending: list[tuple[int, Any]] = []  # (line number, item or Rejected), in file order
        for record in self._records():
            pending.append(record)
            if len(pending) >= self.settings.batch_size:
                self._store(enricher, pending, progress)
                pending = []
        self._store(enricher, pending, progress)
        self.report.lines = self.line
        record_health(self.db, self.source_name, RunReport(
            self.source_name, stored=self.report.stored, queued=self.report.queued, copies=self.report.copies,
            skipped=self.report.duplicates, rejected=self.report.rejected, problems=self.report.problems))
        return self.report

    def _records(self) -> Iterator[tuple[int, Any]]:
        with self.path.open("rb") as stream:
            if self.fmt == "csv":
                yield from self._csv_records(stream)
                return
            stream.seek(self.offset)
            for raw in stream:
                if not raw.endswith(b"\n"):
                    # The last line may still be being written: the cursor stays before it. Read
                    # whole, it is stored now and skipped by id next time; cut, it waits for the rest.
                    try:
                        yield self.line + 1, decode_json(raw)
                    except (ValueError, RecursionError):
                        log.warning("%s: last line has no newline and is not valid JSON yet: left for the "
                                    "next import", self.path)
                    return
                self.offset += len(raw)
                self.line += 1
                self.hasher.update(raw)
                if not raw.strip():
                    continue
                item: Any
                try:
                    item = decode_json(raw.rstrip(b"\r\n"))  # without the newline the parser says "unterminated"
                except (ValueError, RecursionError) as exc:
                    text = raw.decode("utf-8", "replace").rstrip("\r\n")
                    reason = f"line {self.line}: invalid JSON: {exc}"
                    item = Rejected(_line_id(self.line, raw), reason, {"line": self.line, "text": text})
                yield self.line, item

    def _csv_records(self, stream: Any) -> Iterator[tuple[int, Any]]:
        header = next(csv.reader(_Lines(stream, 0, 0, hashlib.sha256()), delimiter=self.delimiter), None)
        if not header:
            return
        stream.seek(self.offset)
        lines = _Lines(stream, self.offset, self.line, self.hasher)
        reader = csv.reader(lines, delimiter=self.delimiter)
        if self.offset == 0:  # the header line, read again: the cursor covers it like any other line
            next(reader)
        while True:
            first = lines.line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row, reason = None, f"line {first}: unreadable CSV: {exc}"
            self.offset, self.line = lines.offset, lines.line
            if row is None:
                yield first, Rejected(f"line {first}", reason, {"line": first})
            elif len(row) != len(header):
                reason = f"line {first}: expected {len(header)} cells (the header's), got {len(row)}"
                yield first, Rejected(_line_id(first, "\x1f".join(row).encode()), reason, {"line": first, "row": row})
            elif any(cell for cell in row):
                yield first, dict(zip(header, row, strict=True))

    def _store(self, enricher: Enricher, pending: list[tuple[int, Any]], progress: Callable[[int], None]) -> None:
        received_at = datetime.now(UTC)
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        for line, item in pending:
            mapped = item if isinstance(item, Rejected) else self.mapping.map_item(item, received_at)
            if isinstance(mapped, RawPost):  # cleaned again by ingest (a no-op): here to name the line
                mapped = clean_post(mapped)
            if isinstance(mapped, RawPost):
                posts.append(mapped)
            elif mapped is item:  # unreadable line: already named and explained
                rejected.append(mapped)
            else:  # the item as read, with its line: the same line read again is the same item
                raw = mapped.raw if mapped.identity is None else item
                rejected.append(Rejected(mapped.external_id, f"line {line}: {mapped.reason}",
                                         {"line": line, "item": raw}))
        cursor = json.dumps({"format": self.fmt, "offset": self.offset, "line": self.line,
                             "sha256": self.hasher.hexdigest(), "file": self.path.name})
        batch = ingest(self.db, self.source_id, enricher, Parsed(posts, rejected), received_at,
                       RunReport(self.source_name), chunk_size=self.settings.batch_size, cursor=self.cursor,
                       next_cursor=cursor)
        self.cursor = cursor
        self.report.stored += batch.stored
        self.report.queued += batch.queued
        self.report.copies += batch.copies
        self.report.duplicates += batch.skipped
        self.report.rejected += batch.rejected
        self.report.problems.extend(batch.problems)
        progress(self.offset)


def _line_id(line: int, raw: bytes) -> str:
    """A bad line's name: its number and a digest, so reading the same file again keeps it once."""
    return f"line {line} sha1:{hashlib.sha1(raw).hexdigest()[:12]}"


def _read_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(cursor)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _prefix_sha256(path: Path, length: int) -> Any:
    """The running SHA-256 of the file's first ``length`` bytes (kept going as the import reads on)."""
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        left = length
        while left > 0:
            chunk = stream.read(min(_HASH_CHUNK, left))
            if not chunk:
                break
            hasher.update(chunk)
            left -= len(chunk)
    return hasher
