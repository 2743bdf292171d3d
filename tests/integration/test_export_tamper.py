"""The offline export check (`models.archive_check`) checks what an auditor reads, not only the
hashes: someone who edits a CSV cell or a message header and recomputes every file hash, drops a
format from the manifest to hide an edited file, or passes a record off as purged, is caught.
(From a review's failing scenarios: each of these verified before the fix.)"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from models import archive_formats as fmt
from models.archive_check import check_export, file_sha256
from models.db import Database
from tests.integration.test_archive_export import _seal_all, build, export


def _made(db: Database, out: Path) -> dict[str, Any]:
    made = build(db)
    _seal_all(db)
    export(db, out)
    assert check_export(out).ok
    return made


def _entries(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / fmt.MANIFEST_RECORDS).read_text(encoding="utf-8").splitlines()]


def _write_entries(out: Path, entries: list[dict[str, Any]]) -> None:
    (out / fmt.MANIFEST_RECORDS).write_text("".join(fmt.dumps_line(e) for e in entries), encoding="utf-8")


def _rehash(out: Path, **changes: Any) -> None:
    """What a forger does last: every listed file's SHA-256 and the manifest's own recomputed."""
    manifest = {**json.loads((out / fmt.MANIFEST).read_text(encoding="utf-8")), **changes}
    manifest["files"] = {name: file_sha256(out / name) for name in manifest["files"]}
    (out / fmt.MANIFEST).write_bytes(fmt.manifest_text(manifest).encode("utf-8"))


def _csv(out: Path) -> list[list[str]]:
    with (out / fmt.RECORDS_CSV).open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def _write_csv(out: Path, rows: list[list[str]]) -> None:
    with (out / fmt.RECORDS_CSV).open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows(rows)


def _set_eml_sha(out: Path, record_id: int, data: bytes) -> None:
    entries = _entries(out)
    for entry in entries:
        if entry["id"] == record_id:
            entry["eml_sha256"] = hashlib.sha256(data).hexdigest()
    _write_entries(out, entries)


def test_a_changed_csv_cell_is_caught_in_every_column(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "export"
    made = _made(db, out)
    original = _csv(out)
    for column, forged in (("text", "FORGED: all is fine"), ("author", "x:somebody_else"),
                           ("at", "1999-01-01T00:00:00"), ("restricted", "True"), ("subject", "mention:6")):
        rows = [list(row) for row in original]
        alice = next(row for row in rows[1:] if row[0] == str(made["jan"][0]))
        alice[rows[0].index(column)] = forged
        _write_csv(out, rows)
        _rehash(out)
        assert check_export(out).failures == [f"record {made['jan'][0]} ({fmt.RECORDS_CSV}): its {column} differs "
                                              "from the record's (the row was changed)"], column


def test_a_csv_header_renamed_or_requoted_is_caught(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "export"
    _made(db, out)
    rows = _csv(out)
    original = [list(r) for r in rows]
    text, author = rows[0].index("text"), rows[0].index("author")
    rows[0][text], rows[0][author] = rows[0][author], rows[0][text]  # the auditor reads authors as texts
    _write_csv(out, rows)
    _rehash(out)
    assert check_export(out).failures == [f"{fmt.RECORDS_CSV}: its header is not {', '.join(fmt.CSV_COLUMNS)}"]
    with (out / fmt.RECORDS_CSV).open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream, quoting=csv.QUOTE_ALL).writerows(original)  # same cells, other bytes
    _rehash(out)
    assert check_export(out).failures == [f"{fmt.RECORDS_CSV}: its bytes differ from the file rebuilt from the "
                                          "verified records"]


def test_a_changed_message_header_or_body_is_caught(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "export"
    made = _made(db, out)
    path = out / fmt.eml_name(made["jan"][0])
    original = path.read_bytes()
    for old, new in ((b"Date: ", b"Date: Fri, 01 Jan 1999 00:00:00 +0000\r\nX-Old-Date: "),
                     (b"From: ", b"From: Someone Else <x.someone@vigie-archive.invalid>\r\nX-Old-From: "),
                     (b"X-Vigie-Author: x:alice", b"X-Vigie-Author: x:mallory"),
                     (b"X-Vigie-Restricted: no", b"X-Vigie-Restricted: yes"),
                     (b"\r\n\r\n=HYPERLINK", b"\r\n\r\nall good =HYPERLINK")):
        assert old in original, old
        data = original.replace(old, new, 1)
        path.write_bytes(data)
        _set_eml_sha(out, made["jan"][0], data)
        _rehash(out)
        assert check_export(out).failures == [f"{fmt.eml_name(made['jan'][0])}: its bytes differ from the message "
                                              "rebuilt from the verified record (a header or its text was changed)"], \
            new


def test_a_record_passed_off_as_a_tombstone_is_refused(db: Database, tmp_path: Path) -> None:
    """A record whose retention has not ended cannot have been purged: its content was taken out."""
    out = tmp_path / "export"
    made = _made(db, out)
    entries = _entries(out)
    victim = next(e for e in entries if not e["tombstone"])
    vid = victim["id"]
    victim["tombstone"] = True
    meta = {**victim["leaf"], "segment": victim["segment"], "position": victim["position"],
            "restricted": victim["restricted"], "tombstone": True}
    lines = [json.loads(line) for line in (out / fmt.RECORDS_JSONL).read_text(encoding="utf-8").splitlines()]
    lines = [fmt.record_line(meta, None, None) if line["id"] == vid else line for line in lines]
    (out / fmt.RECORDS_JSONL).write_text("".join(fmt.dumps_line(line) for line in lines), encoding="utf-8")
    rows = _csv(out)
    rows = [fmt.csv_row(meta, victim["leaf"]["kind"], None, None) if row[0] == str(vid) else row for row in rows]
    _write_csv(out, rows)
    message = fmt.eml_bytes(meta, victim["leaf"]["kind"], None, None)
    (out / fmt.eml_name(vid)).write_bytes(message)
    victim["eml_sha256"] = hashlib.sha256(message).hexdigest()
    _write_entries(out, entries)
    manifest = json.loads((out / fmt.MANIFEST).read_text(encoding="utf-8"))
    _rehash(out, tombstones=manifest["tombstones"] + 1)
    result = check_export(out)
    assert result.failures == [f"record {vid}: a tombstone whose retention ran until {victim['leaf']['retain_until']}"
                               f", not before the export's head was sealed ({manifest['head']['sealed_at']}): its "
                               "content cannot have been purged"]
    assert made["purged"] != vid  # the true tombstone (its retention over) passed


def test_a_format_dropped_from_the_manifest_is_still_checked(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "export"
    made = _made(db, out)
    with (out / fmt.RECORDS_CSV).open(encoding="utf-8-sig", newline="") as stream:
        text = stream.read()
    with (out / fmt.RECORDS_CSV).open("w", encoding="utf-8-sig", newline="") as stream:
        stream.write(text.replace("click", "all good, no complaint"))
    manifest = json.loads((out / fmt.MANIFEST).read_text(encoding="utf-8"))
    del manifest["files"][fmt.RECORDS_CSV]
    _rehash(out, formats=[f for f in manifest["formats"] if f != "csv"], files=manifest["files"])
    assert check_export(out).failures == [
        f"{fmt.RECORDS_CSV}: in the export, not listed in the manifest",
        f"record {made['jan'][0]} ({fmt.RECORDS_CSV}): its content does not hash to its SHA-256"]


def test_messages_dropped_from_the_manifest_are_still_checked(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "export"
    made = _made(db, out)
    path = out / fmt.eml_name(made["jan"][0])
    path.write_bytes(path.read_bytes().replace(b"X-Vigie-Author: x:alice", b"X-Vigie-Author: x:mallory", 1))
    entries = _entries(out)
    for entry in entries:
        del entry["eml_sha256"]
    _write_entries(out, entries)
    manifest = json.loads((out / fmt.MANIFEST).read_text(encoding="utf-8"))
    _rehash(out, formats=[f for f in manifest["formats"] if f != "eml"])
    assert check_export(out).failures == [
        f"{fmt.EML_DIR}: in the export, not listed in the manifest's formats",
        f"{fmt.eml_name(made['jan'][0])}: its bytes differ from the message rebuilt from the verified record (a "
        "header or its text was changed)"]
