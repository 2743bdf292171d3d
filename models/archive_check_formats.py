"""What an auditor reads of an archive export, checked for `models.archive_check` (standard library
only, like it): each JSONL line, CSV row and message is rebuilt from the record's verified leaf
and content with the exporter's own functions (`models.archive_formats`, deterministic: a fixed
MIME boundary, sorted JSON keys) and compared with what the file holds, so that no header, cell
or text can be changed while the hashes alone still agree."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models import archive_formats as fmt
from models.archive_hashing import canonical, sha256_text
from models.safe_csv import unneutralised

if TYPE_CHECKING:
    from models.archive_check import CheckResult


def meta(entry: dict[str, Any]) -> dict[str, Any]:
    """What the exporter gives the format functions for a record (`models.archive_export`)."""
    return {**entry["leaf"], "segment": entry.get("segment"), "position": entry.get("position"),
            "restricted": entry.get("restricted"), "tombstone": entry.get("tombstone")}


def parsed(body: str | None) -> Any:
    return json.loads(body) if body is not None else None


def check_line(entry: dict[str, Any], verified: bool, line: dict[str, Any] | None, result: CheckResult) -> None:
    where = f"record {entry.get('id')} ({fmt.RECORDS_JSONL})"
    if line is None:
        result.fail(where, "missing")
        return
    body: str | None = None
    if not entry.get("tombstone"):
        found = line.get("content_json")
        body = found if isinstance(found, str) else canonical(line.get("content"))
        if sha256_text(body) != entry.get("sha256"):
            result.fail(where, "its content does not hash to its SHA-256 (the content changed)")
            return
    if verified and line != fmt.record_line(meta(entry), parsed(body), body):
        result.fail(where, "its fields differ from the record's (the line was changed)")


class CsvRebuild:
    """records.csv as the exporter writes it (UTF-8 with a byte-order mark, the csv module's
    quoting, CRLF) from the verified records, hashed as it goes: compared with the file's
    SHA-256 at the end, it catches what reading cells alone would not (quotes, line ends)."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256(codecs.BOM_UTF8)
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
        self.whole = True  # False once a row is missing, wrong or unverified: its failure says enough
        self.add(list(fmt.CSV_COLUMNS))

    def add(self, row: list[str]) -> None:
        self.writer.writerow(row)
        self.digest.update(self.buffer.getvalue().encode("utf-8"))
        self.buffer.seek(0)
        self.buffer.truncate()

    def header(self, row: list[str] | None, result: CheckResult) -> None:
        if row != list(fmt.CSV_COLUMNS):
            self.whole = False
            result.fail(fmt.RECORDS_CSV, f"its header is not {', '.join(fmt.CSV_COLUMNS)}")

    def finish(self, file_sha256: str, result: CheckResult) -> None:
        if self.whole and self.digest.hexdigest() != file_sha256:
            result.fail(fmt.RECORDS_CSV, "its bytes differ from the file rebuilt from the verified records")


def check_row(entry: dict[str, Any], verified: bool, row: list[str] | None, rebuild: CsvRebuild,
               result: CheckResult) -> None:
    where = f"record {entry.get('id')} ({fmt.RECORDS_CSV})"
    rebuild.whole = rebuild.whole and verified
    if row is None or len(row) != len(fmt.CSV_COLUMNS):
        result.fail(where, "missing or not a full row")
        rebuild.whole = False
        return
    cells = dict(zip(fmt.CSV_COLUMNS, row, strict=True))
    body = None if entry.get("tombstone") else unneutralised(cells["content"])
    if cells["id"] != str(entry.get("id")) or cells["sha256"] != entry.get("sha256"):
        result.fail(where, "its id or SHA-256 differs from the manifest's")
    elif body is not None and sha256_text(body) != entry.get("sha256"):
        result.fail(where, "its content does not hash to its SHA-256")
    elif verified:
        expected = fmt.csv_row(meta(entry), entry["leaf"]["kind"], parsed(body), body)
        changed = next((c for c, got, want in zip(fmt.CSV_COLUMNS, row, expected, strict=True) if got != want), None)
        if changed is None:
            rebuild.add(expected)
            return
        result.fail(where, f"its {changed} differs from the record's (the row was changed)")
    rebuild.whole = False


def check_message(root: Path, entry: dict[str, Any], verified: bool, listed: bool, result: CheckResult) -> None:
    name = fmt.eml_name(int(entry.get("id") or 0))
    path = root / name
    if not path.is_file():
        result.fail(name, "listed in the manifest, missing from the export")
        return
    data = path.read_bytes()
    result.messages += 1
    if listed and hashlib.sha256(data).hexdigest() != entry.get("eml_sha256"):
        result.fail(name, "its SHA-256 differs from the manifest's (the file was changed)")
    body: str | None = None
    if not entry.get("tombstone"):
        message = message_from_bytes(data, policy=fmt.MAIL_POLICY)
        assert isinstance(message, EmailMessage)
        attached = [part.get_payload(decode=True) for part in message.iter_attachments()]
        if len(attached) != 1 or not isinstance(attached[0], bytes) \
                or hashlib.sha256(attached[0]).hexdigest() != entry.get("sha256"):
            result.fail(name, "its attached JSON does not hash to the record's SHA-256")
            return
        body = attached[0].decode("utf-8")  # the bytes the archive hashed: UTF-8
    if verified and fmt.eml_bytes(meta(entry), entry["leaf"]["kind"], parsed(body), body) != data:
        result.fail(name, "its bytes differ from the message rebuilt from the verified record (a header or its "
                    "text was changed)")


def csv_rows(path: Path) -> Iterator[list[str]]:
    if not path.is_file():
        return
    csv.field_size_limit(1 << 30)  # a record's content (a raw platform payload) may be long
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
        yield from csv.reader(stream)


def present_formats(root: Path, manifest: dict[str, Any], result: CheckResult) -> set[str]:
    """The formats found in the folder, each checked whatever the manifest says: a records file
    or messages there but not in the manifest fail (an auditor would read them all the same)."""
    listed: list[Any] = manifest["formats"] if isinstance(manifest.get("formats"), list) else []
    files: dict[str, Any] = manifest["files"] if isinstance(manifest.get("files"), dict) else {}
    present = set()
    for name, path in fmt.FORMAT_FILES.items():
        if (root / path).exists():
            present.add(name)
            if path not in files or name not in listed:
                result.fail(path, "in the export, not listed in the manifest")
        elif name in listed:
            result.fail(path, "a format the manifest lists, missing from the export")
    if (root / fmt.EML_DIR).exists():
        present.add("eml")
        if "eml" not in listed:
            result.fail(fmt.EML_DIR, "in the export, not listed in the manifest's formats")
    elif "eml" in listed:
        result.fail(fmt.EML_DIR, "a format the manifest lists, missing from the export")
    for found in sorted(root.iterdir()):
        if found.name.startswith("records.") and found.name not in fmt.FORMAT_FILES.values():
            result.fail(found.name, "in the export, not a file an export holds")
    return present
