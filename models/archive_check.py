"""The offline check of an archive export (`vigie archive verify-export DIR`): no database, no
SQLAlchemy, nothing but the standard library and the archive's pure hashing rules
(`models.archive_hashing`), so an auditor can run it on any machine with Python 3.11 and a copy
of Vigie's source (``python -m models.archive_check DIR --head HASH``).

What it checks, reading every file once, line by line (memory holds the roots of the segments
the records sit in, not the records):

1. ``manifest.json``: its format, and the SHA-256 of every file it lists; each message's SHA-256
   (listed per record in ``manifest-records.jsonl``); no message more or less than listed;
2. the segments (``manifest-segments.jsonl``): numbered 1, 2, 3… up to the head, each header
   hashing to its hash, each naming the previous one's hash (the first: 64 zeros), the last
   being the manifest's head;
3. each record: its content hashes to its SHA-256, its leaf fields (what the JSONL line says of
   it) hash to its leaf, its audit path leads from the leaf to its segment's root; a tombstone
   (content purged) only if its retention ended before the export's head was sealed;
4. what an auditor reads: every format file found in the folder, listed in the manifest or not
   (one that is not fails), is rebuilt from the verified leaf and content with the exporter's own
   functions (`models.archive_formats`) and compared: each JSONL line field by field, each CSV
   cell (the text, the author, the time…) and then the whole file byte for byte, each message
   byte for byte (From, Date, Subject, X-Vigie-* headers, text, attachment);
5. with ``--head`` (a hash anchored outside the archive, e.g. from the anchor file or the daily
   message to compliance): that hash is a segment of the chain, so everything up to it is what
   the archive held when it was anchored.

Without an anchored head the check proves the export is whole and consistent with its own
head; only the anchor (or the manifest's SHA-256, kept in the archive's export record) ties it
to the archive.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any

from models import archive_formats as fmt
from models.archive_check_formats import CsvRebuild, check_line, check_message, check_row, csv_rows, present_formats
from models.archive_hashing import (
    GENESIS,
    LEAF_COLUMNS,
    leaf_hash,
    root_from_proof,
    segment_hash,
)

SHOWN_FAILURES = 20


@dataclass
class CheckResult:
    files: int = 0
    segments: int = 0
    records: int = 0
    tombstones: int = 0
    restricted: int = 0
    messages: int = 0
    csv_rows: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    head_sealed_at: str | None = None
    anchored: list[tuple[str, int | None]] = field(default_factory=list)  # (hash, its seq or None)
    after_anchor: int = 0  # records sealed after the newest anchored segment
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    def fail(self, where: str, why: str) -> None:
        self.failure_count += 1
        if len(self.failures) < SHOWN_FAILURES:
            self.failures.append(f"{where}: {why}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _lines(path: Path, result: CheckResult) -> Iterator[dict[str, Any] | None]:
    """Each line of a JSONL file parsed (None for a line that is not a JSON object)."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as stream:
        for number, line in enumerate(stream, 1):
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                result.fail(f"{path.name} line {number}", "not a JSON object")
                value = None
            yield value


def _check_files(root: Path, manifest: dict[str, Any], result: CheckResult) -> None:
    files = manifest.get("files")
    if not isinstance(files, dict) or fmt.MANIFEST_RECORDS not in files or fmt.MANIFEST_SEGMENTS not in files:
        result.fail(fmt.MANIFEST, "does not list the manifest's record and segment files")
        return
    for name, expected in sorted(files.items()):
        path = root / name
        if "/" in name or "\\" in name or not path.is_file():
            result.fail(name, "listed in the manifest, missing from the export")
            continue
        result.files += 1
        if file_sha256(path) != expected:
            result.fail(name, "its SHA-256 differs from the manifest's (the file was changed)")


def _check_segments(root: Path, manifest: dict[str, Any], wanted: set[int], result: CheckResult,
                    anchors: Sequence[str]) -> dict[int, tuple[str, int]]:
    """The chain from genesis to the head; the (root, count) of the segments in ``wanted``."""
    roots: dict[int, tuple[str, int]] = {}
    previous, expected_seq = GENESIS, 1
    for line in _lines(root / fmt.MANIFEST_SEGMENTS, result):
        if line is None:
            continue
        seq = line.get("seq")
        where = f"segment {seq}"
        header = {k: line.get(k) for k in ("seq", "prev_hash", "root", "count", "first_record_id", "last_record_id",
                                           "sealed_at")}
        if seq != expected_seq:
            result.fail(where, f"expected segment {expected_seq} here (the chain has a gap or is out of order)")
        if line.get("prev_hash") != previous:
            result.fail(where, "does not name the previous segment's hash")
        if segment_hash(header) != line.get("hash"):
            result.fail(where, "its header does not hash to its hash")
        if isinstance(seq, int) and seq in wanted:
            roots[seq] = (str(line.get("root")), int(line.get("count") or 0))
        for anchor in anchors:
            if line.get("hash") == anchor:
                result.anchored.append((anchor, seq if isinstance(seq, int) else None))
        previous = str(line.get("hash"))
        expected_seq = (seq + 1) if isinstance(seq, int) else expected_seq + 1
        result.segments += 1
        result.head_seq, result.head_hash = seq if isinstance(seq, int) else None, previous
        result.head_sealed_at = str(line.get("sealed_at"))
    head = manifest.get("head") or {}
    if result.segments and (head.get("seq") != result.head_seq or head.get("hash") != result.head_hash):
        result.fail(fmt.MANIFEST_SEGMENTS, "its last segment is not the manifest's head (the chain was cut or "
                    "extended)")
    if not result.segments and manifest.get("head"):
        result.fail(fmt.MANIFEST_SEGMENTS, "holds no segment, the manifest names a head")
    for anchor in anchors:
        if all(found != anchor for found, _ in result.anchored):
            result.fail(f"head {anchor}", "is no segment of this export's chain (not the archive anchored, or "
                        "the chain was rewritten)")
    return roots


def _wanted_segments(root: Path, result: CheckResult) -> set[int]:
    scratch = CheckResult()  # the records pass reports the bad lines once
    return {line["segment"] for line in _lines(root / fmt.MANIFEST_RECORDS, scratch)
            if line is not None and isinstance(line.get("segment"), int)}


def _check_record(entry: dict[str, Any], roots: dict[int, tuple[str, int]], result: CheckResult) -> bool:
    """Whether the record's leaf is verified: complete and leading by its audit path to its segment's root."""
    where = f"record {entry.get('id')}"
    leaf = entry.get("leaf")
    if not isinstance(leaf, dict) or set(leaf) != set(LEAF_COLUMNS) or leaf.get("id") != entry.get("id") \
            or leaf.get("sha256") != entry.get("sha256"):
        result.fail(where, f"{fmt.MANIFEST_RECORDS}: its leaf fields are incomplete or disagree with it")
        return False
    segment = roots.get(entry.get("segment"))  # type: ignore[arg-type]
    if segment is None:
        result.fail(where, f"its segment {entry.get('segment')} is not in the chain")
        return False
    seg_root, size = segment
    position, proof = entry.get("position"), entry.get("proof")
    if entry.get("size") != size or not isinstance(position, int) or not isinstance(proof, list):
        result.fail(where, "its position or audit path does not fit its segment")
        return False
    if root_from_proof(leaf_hash(leaf), position, size, [str(p) for p in proof]) != seg_root:
        result.fail(where, f"its leaf and audit path do not lead to segment {entry.get('segment')}'s root (a field "
                    "of it changed)")
        return False
    return True


def _utc(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_tombstone(entry: dict[str, Any], result: CheckResult) -> None:
    """A content is purged only once its retention is over (`models.retention`): a record whose
    retention had not ended when the export's head was sealed cannot be a tombstone. The flag is
    not in the leaf, so without this anyone could take a content out and call the record purged."""
    until = (entry.get("leaf") or {}).get("retain_until")
    ended, sealed = _utc(until), _utc(result.head_sealed_at)
    # sealed_at is kept to the second (rounded down): a purge after the retention's end and a seal
    # after the purge can share the head's second
    if ended is None or sealed is None or ended >= sealed + timedelta(seconds=1):
        result.fail(f"record {entry.get('id')}", f"a tombstone whose retention ran until {until}, not before the "
                    f"export's head was sealed ({result.head_sealed_at}): its content cannot have been purged")


def check_export(root: Path, heads: Sequence[str] = ()) -> CheckResult:
    """Check the export in ``root`` (see the module's docstring), against anchored ``heads``."""
    result = CheckResult()
    try:
        text = (root / fmt.MANIFEST).read_bytes().decode("utf-8")
        manifest = json.loads(text)
    except (OSError, ValueError) as exc:
        result.fail(fmt.MANIFEST, f"unreadable ({exc})")
        return result
    if not isinstance(manifest, dict) or manifest.get("format") != fmt.FORMAT or manifest.get("version") != fmt.VERSION:
        result.fail(fmt.MANIFEST, f"not a {fmt.FORMAT} manifest of version {fmt.VERSION}")
        return result
    if fmt.manifest_text(manifest) != text:
        result.fail(fmt.MANIFEST, "its text does not hash to its self_sha256 (the file was changed)")
    _check_files(root, manifest, result)
    roots = _check_segments(root, manifest, _wanted_segments(root, result), result, heads)
    formats = present_formats(root, manifest, result)
    eml_listed = "eml" in (manifest.get("formats") or [])
    jsonl = _lines(root / fmt.RECORDS_JSONL, result) if "jsonl" in formats else iter(())
    rows = csv_rows(root / fmt.RECORDS_CSV) if "csv" in formats else iter(())
    rebuild = CsvRebuild()
    if "csv" in formats:
        rebuild.header(next(rows, None), result)
    newest_anchor = max((seq for _, seq in result.anchored if seq is not None), default=None)
    for entry, line, row in zip_longest(_lines(root / fmt.MANIFEST_RECORDS, result), jsonl, rows):
        if entry is None:
            if line is not None or row is not None:
                result.fail(f"record {(line or {}).get('id', row[0] if row else '?')}", "not in the manifest")
                rebuild.whole = False
            continue
        result.records += 1
        result.tombstones += bool(entry.get("tombstone"))
        result.restricted += bool(entry.get("restricted"))
        verified = _check_record(entry, roots, result)
        if entry.get("tombstone"):
            _check_tombstone(entry, result)
        if "jsonl" in formats:
            check_line(entry, verified, line, result)
        if "csv" in formats:
            result.csv_rows += row is not None
            check_row(entry, verified, row, rebuild, result)
        if "eml" in formats:
            check_message(root, entry, verified, eml_listed, result)
        if newest_anchor is not None and isinstance(entry.get("segment"), int) and entry["segment"] > newest_anchor:
            result.after_anchor += 1
    if "csv" in formats:
        rebuild.finish(file_sha256(root / fmt.RECORDS_CSV), result)
    for key, found in (("records", result.records), ("tombstones", result.tombstones),
                       ("restricted", result.restricted)):
        if manifest.get(key) != found:
            result.fail(fmt.MANIFEST, f"says {manifest.get(key)} {key}, the export holds {found}")
    eml_dir = root / fmt.EML_DIR
    found = sum(1 for _ in eml_dir.iterdir()) if eml_dir.is_dir() else 0
    if found != result.messages:
        result.fail(fmt.EML_DIR, f"holds {found} files, the manifest lists {result.messages} messages")
    return result


def report(result: CheckResult, root: Path) -> list[str]:
    """What was checked, then OK or the first failures: the lines the command prints."""
    lines = [f"{result.files} file(s) hashed against the manifest ({root / fmt.MANIFEST}, SHA-256 "
             f"{file_sha256(root / fmt.MANIFEST) if (root / fmt.MANIFEST).is_file() else '(missing)'})",
             f"{result.segments} segment header(s) chained from genesis to the head"
             + (f": segment {result.head_seq} {result.head_hash}" if result.head_seq is not None else ""),
             f"{result.records} record(s): content -> SHA-256 -> leaf -> audit path -> segment root "
             f"({result.tombstones} tombstone(s), {result.restricted} restricted)",
             f"{result.messages} message(s) and {result.csv_rows} CSV row(s) matched to their records"]
    for anchor, seq in result.anchored:
        lines.append(f"anchored head {anchor} is segment {seq} of the chain")
    if result.after_anchor:
        lines.append(f"{result.after_anchor} record(s) sealed after the newest anchored head: proven against this "
                     "export's head only (check it against a later anchor)")
    if result.ok:
        lines.append("OK: every file, record, proof and segment checks")
    else:
        lines.extend(f"FAILED {failure}" for failure in result.failures)
        if result.failure_count > len(result.failures):
            lines.append(f"… and {result.failure_count - len(result.failures)} more failure(s)")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m models.archive_check DIR [--head HASH]...``: the check without Vigie installed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m models.archive_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--head", action="append", default=[], help="a head hash anchored outside the archive")
    args = parser.parse_args(argv)
    result = check_export(args.directory, args.head)
    print("\n".join(report(result, args.directory)))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
