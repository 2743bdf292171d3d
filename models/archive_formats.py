"""What an archive export holds, file by file, and how one record becomes a JSONL line, an RFC 5322
message and a CSV row. Standard library only: the exporter (`models.archive_export`) writes with
these functions and the offline check (`models.archive_check`) reads back with them.

An export directory::

    manifest.json            the selection, the counts, the head, the SHA-256 of every file below
    manifest-records.jsonl   per record: id, sha256, leaf fields, segment seq, position, segment size,
                             Merkle audit path, restricted, tombstone, and its .eml file's SHA-256
    manifest-segments.jsonl  the header and hash of every segment from 1 to the head
    records.jsonl            per record: its leaf fields, segment, position, flags and its content
    records.csv              the same, one row a record, formula-safe (UTF-8 with a byte-order mark)
    eml/<id>.eml             one RFC 5322 message per record, the canonical JSON attached

Times are UTC: record times as the archive hashes them (ISO 8601 without an offset), message
``Date`` headers with ``+0000``. Every file lists records in id order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from models.archive_hashing import LEAF_COLUMNS, canonical
from models.safe_csv import safe_cell

FORMAT = "vigie-archive-export"
VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_RECORDS = "manifest-records.jsonl"
MANIFEST_SEGMENTS = "manifest-segments.jsonl"
RECORDS_JSONL = "records.jsonl"
RECORDS_CSV = "records.csv"
EML_DIR = "eml"
FORMATS = ("jsonl", "eml", "csv")
FORMAT_FILES = {"jsonl": RECORDS_JSONL, "csv": RECORDS_CSV}
CSV_COLUMNS = (*LEAF_COLUMNS, "segment", "position", "restricted", "tombstone", "text", "content")
MAIL_DOMAIN = "vigie-archive.invalid"  # RFC 2606: never a real address
# CRLF line ends, 7-bit headers (RFC 2047), lines up to RFC 5322's hard limit: folding at 78 splits
# encoded words and Python's parser then drops the spaces between them ("ça coûte" -> "çacoûte").
class _Headers(HeaderRegistry):
    """The standard header registry, its classes made once: the stock one builds a new class for
    every header it parses (a third of an export's time went there)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._made:
            self._made[key] = super().__getitem__(name)
        return self._made[key]


MAIL_POLICY = SMTP.clone(max_line_length=998, header_factory=_Headers())
BOUNDARY = "=_vigie_archive_record_="
_SUMMARY_MAX = 2000  # characters of an event's summary in a message body


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """manifest.json's exact text: indented, keys sorted, with ``self_sha256`` (the SHA-256 of that
    same text without it), so that changing any byte of the file is seen by the check."""
    def dumps(value: Mapping[str, Any]) -> str:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    body = {k: v for k, v in manifest.items() if k != "self_sha256"}
    return dumps({**body, "self_sha256": hashlib.sha256(dumps(body).encode("utf-8")).hexdigest()})


def eml_name(record_id: int) -> str:
    return f"{EML_DIR}/{record_id}.eml"


def record_line(meta: Mapping[str, Any], content: Any, body: str | None) -> dict[str, Any]:
    """A records.jsonl object: the leaf fields, where it is sealed, its flags and its content
    parsed (None for a tombstone). ``content_json`` carries the exact canonical text only in
    the rare case parsing and re-serialising would not give the same bytes back."""
    line = {**meta, "content": content}
    if body is not None and canonical(content) != body:
        line["content_json"] = body
    return line


def dumps_line(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) + "\n"


def text_of(kind: str, content: Any) -> str:
    """The readable text of a record: a post's text, a reply's text, or an event's summary."""
    if not isinstance(content, Mapping):
        return ""
    if kind == "post":
        mention = content.get("mention") or {}
        return str(mention.get("text") or "") if isinstance(mention, Mapping) else ""
    after = content.get("after")
    if isinstance(after, Mapping) and isinstance(after.get("text"), str):  # a reply's events carry its text
        return str(after["text"])
    if kind == "event":
        summary = f"{content.get('actor', '')} {content.get('action', '')}".strip()
        if content.get("reason"):
            summary += f" (reason: {content['reason']})"
        before = content.get("before")
        before = before if isinstance(before, Mapping) else {}
        changed = {k: v for k, v in after.items() if before.get(k) != v} if isinstance(after, Mapping) else {}
        if changed:
            summary += "\n" + json.dumps(changed, ensure_ascii=False, sort_keys=True)[:_SUMMARY_MAX]
        return summary
    return ""


def csv_row(meta: Mapping[str, Any], kind: str, content: Any, body: str | None) -> list[str]:
    """One records.csv row: every cell through `safe_cell` (a spreadsheet never runs a formula)."""
    cells = [meta.get(c) for c in CSV_COLUMNS[:-2]]
    return [safe_cell(cell) for cell in (*cells, text_of(kind, content), body)]


def _one_line(value: Any, limit: int = 200) -> str:
    """A header value from untrusted text: control characters (CR, LF: header injection) as spaces."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return " ".join(text.split())[:limit]


def _address(name: Any, key: str) -> Address:
    """A display name and an address in the reserved .invalid domain (an archive message is never sent)."""
    local = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "-" for ch in key).strip(".-")
    return Address(display_name=_one_line(name, 120), username=(local or "unknown")[:64], domain=MAIL_DOMAIN)


def _parties(meta: Mapping[str, Any], kind: str, content: Any) -> tuple[Address, Address]:
    data = content if isinstance(content, Mapping) else {}
    author = meta.get("author") or ""
    if kind == "post":
        found = data.get("mention")
        mention: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        name = mention.get("author_name") or author or "unknown author"
        sender = _address(name, author.replace(":", ".") or "author")
        brand = meta.get("brand") or "vigie"
        return sender, _address(brand, f"{meta.get('network') or 'net'}.{brand}")
    actor = str(data.get("actor") or data.get("by") or "vigie")
    receiver = _address(author, author.replace(":", ".")) if author else _address("archive", "archive")
    return _address(actor, actor), receiver


def eml_bytes(meta: Mapping[str, Any], kind: str, content: Any, body: str | None) -> bytes:
    """One record as an RFC 5322 message (CRLF line ends, headers RFC 2047-encoded): From, To,
    Date, Subject, Message-ID, the X-Vigie-* headers, a text/plain UTF-8 part with the post's or
    reply's text, and the canonical JSON attached as application/json (none for a tombstone)."""
    record_id, sha = meta["id"], meta["sha256"]
    at = datetime.fromisoformat(str(meta["at"])).replace(tzinfo=UTC)
    message = EmailMessage(policy=MAIL_POLICY)
    sender, receiver = _parties(meta, kind, content)
    message["From"] = sender
    message["To"] = receiver
    message["Date"] = format_datetime(at)
    text = text_of(kind, content)
    message["Subject"] = _one_line(f"[{kind}] {meta.get('subject')}" + (f": {text}" if text else ""), 160)
    message["Message-ID"] = f"<{record_id}.{sha[:32]}@{MAIL_DOMAIN}>"
    for key in LEAF_COLUMNS:
        if meta.get(key) is not None:
            message[f"X-Vigie-{key.replace('_', '-').title()}"] = _one_line(meta[key], 200)
    for key in ("segment", "position"):
        if meta.get(key) is not None:
            message[f"X-Vigie-{key.title()}"] = str(meta[key])
    message["X-Vigie-Restricted"] = "yes" if meta.get("restricted") else "no"
    message["X-Vigie-Tombstone"] = "yes" if body is None else "no"
    lines = []
    if meta.get("restricted"):
        lines.append("[restricted: a data-protection request names this author; shown to compliance only]")
    if body is None:
        lines.append(f"[tombstone: this record's content was purged by retention; its SHA-256 was {sha}]")
    lines.append(text or f"({kind} {meta.get('subject')}: see the attached JSON)")
    message.set_content("\n\n".join(lines) + "\n", charset="utf-8")
    if body is not None:
        message.add_attachment(body.encode("utf-8"), maintype="application", subtype="json",
                               filename=f"record-{record_id}.json")
        # One boundary set for every message, not drawn: the same record gives the same bytes, and
        # parsing the messages back compiles one pattern, not one per message. The generator does
        # not check a set boundary against the text: a text holding it (someone's post can) gets
        # one carrying the record's own SHA-256, which a text cannot hold (it would contain the
        # hash of itself).
        text_part = "\n\n".join(lines)
        message.set_boundary(BOUNDARY if BOUNDARY not in text_part else f"{BOUNDARY}{sha}")
    return message.as_bytes(policy=MAIL_POLICY)
