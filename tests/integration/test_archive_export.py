"""Exports for auditors (`vigie archive export`, `models.archive_export`) and their offline check
(`vigie archive verify-export`, `models.archive_check`), on SQLite and PostgreSQL: an export made
here verifies in another process with no database at all; one byte changed in any of its files
fails the check and names the file; the messages parse back; CSV cells are formula-safe;
restricted authors stay out unless compliance asks; selections pick what they say; memory does not
grow with the export's size."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import tracemalloc
from dataclasses import replace
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from config.archive import Duration, Retention
from models import archive_export
from models import archive_formats as fmt
from models.archive import Entry, Scope, post_content, retention_of, sha256_text, write_many, write_record
from models.archive_check import check_export
from models.archive_export import ExportError, Selection, export_archive
from models.archive_seal import seal
from models.archive_tables import ArchiveContent, ArchiveRecord, ErasureRequest, LegalHold
from models.db import Database
from models.safe_csv import FORMULA_STARTS
from models.tables import AuditEvent, SourceRow, User
from tests.kit import vigie_env
from tests.support import VIGIE

REPO = Path(__file__).resolve().parents[2]
JAN, FEB, MAR = datetime(2024, 1, 15, 9, 30), datetime(2024, 2, 15, 10, 0), datetime(2024, 3, 15, 11, 0)
EVIL_AUTHOR = "x:mallory\r\nBcc: victim@example.com"


def _post(mention_id: int, author: str, text: str, source_id: int | None = None, name: str | None = None) -> Entry:
    network, handle = author.split(":", 1)
    mention = {"network": network, "author_handle": handle, "author_name": name or handle, "text": text,
               "brand": "Acme Bank"}
    return Entry("post", f"mention:{mention_id}", post_content(mention, {"id": str(mention_id), "body": text},
                                                               source_id),
                 Scope(mention_id, source_id, author, network, "Acme Bank", "service"))


def _event(mention_id: int, author: str, action: str, after: dict[str, Any]) -> Entry:
    return Entry("event", f"item:{mention_id}", {"actor": "agent1", "action": action, "before": {}, "after": after,
                                                 "reason": None},
                 Scope(mention_id, None, author, author.split(":")[0], "Acme Bank", "service"))


def build(db: Database) -> dict[str, Any]:
    """A small archive: posts and events over three months, a tombstone, a restricted author, a
    hold, a compliance account, sealed in several segments; what was written, by id."""
    with db.write.begin() as session:
        source = SourceRow(name="feed", kind="rss")
        session.add(source)
        session.add(User(name="cora", role="compliance", teams=[], created_at=JAN))
        session.add(User(name="ann", role="agent", teams=["service"], created_at=JAN))
        session.flush()
        source_id = source.id
        # bob's post: kept a day only, so that its purge (below) is one retention allows
        retention = retention_of(session)
        session.info["retention"] = Retention({**retention.classes, "day": Duration(1, "d")}, retention.default_class,
                                              retention.rules)
        jan = write_many(session, [
            _post(1, "x:alice", '=HYPERLINK("http://evil.example","click") ça coûte', source_id, "Alice « A »"),
            replace(_post(2, "x:bob", "+33 6 12 34 56 78\nsecond line", source_id), retention_class="day"),
            _event(1, "x:alice", "claim", {"status": "claimed", "assignee": "agent1"}),
        ], at=JAN)
        feb = write_many(session, [
            _post(3, "mastodon:eve", "delete my data please", None),
            _post(4, EVIL_AUTHOR, "@everyone -1 hidden fraud", None),
            _event(3, "mastodon:eve", "resolve", {"status": "resolved"}),
            Entry("event", "reply:9", {"actor": "agent1", "action": "reply.send", "before": {},
                                       "after": {"text": "Bonjour, nous vous rappelons. -Acme", "status": "sent"}},
                  Scope(1, None, "x:alice", "x", "Acme Bank", "service")),
        ], at=FEB)
        mar = write_many(session, [_post(5, "x:alice", "a question about the fraud", source_id),
                                   _post(6, "x:carol", "all good", None)], at=MAR)
        purged = jan[1]  # bob's post: its content purged by retention (over since 2024-01-16), a tombstone remains
        session.execute(delete(ArchiveContent).where(ArchiveContent.record_id == purged))
        purge = write_record(session, "purge", "archive:purge", {"record_ids": [purged], "reason": "retention"},
                             at=MAR)
        session.add(ErasureRequest(author="mastodon:eve", reason="GDPR art. 17", requested_by="cora",
                                   requested_at=MAR, status="restricted"))
        hold = LegalHold(matter="Fraud 2024", reason="complaint", placed_by="cora", placed_at=MAR,
                         scope={"authors": ["X:Alice"], "sources": ["feed"], "source_ids": [source_id],
                                "since": "2024-01-01T00:00:00", "until": "2024-04-01T00:00:00", "query": "FRAUD"})
        session.add(hold)
        session.flush()
        hold_id = hold.id
    for _ in range(5):  # small segments: records of one export sit in several
        with db.write.begin() as session:
            if seal(session, "test", limit=3) is None:
                break
    return {"jan": jan, "feb": feb, "mar": mar, "purged": purged, "purge": purge, "hold": hold_id,
            "eve": [feb[0], feb[2]], "source": source_id}


def _seal_all(db: Database) -> None:
    while True:
        with db.write.begin() as session:
            if seal(session, "test") is None:
                return


def export(db: Database, out: Path, selection: Selection | None = None,
           formats: tuple[str, ...] = fmt.FORMATS) -> Any:
    with db.read() as session:
        return export_archive(session, out, selection or Selection(), formats)


def exported_ids(out: Path) -> list[int]:
    with (out / fmt.MANIFEST_RECORDS).open(encoding="utf-8") as stream:
        return [json.loads(line)["id"] for line in stream]


def flip(path: Path, position: int) -> bytes:
    data = path.read_bytes()
    changed = bytearray(data)
    changed[position] ^= 0x01
    path.write_bytes(bytes(changed))
    return data


def test_an_export_verifies_offline_in_another_process_and_one_changed_byte_fails_naming_its_file(
        db: Database, db_url: str, tmp_path: Path) -> None:
    made = build(db)
    out = tmp_path / "export"
    run = subprocess.run([VIGIE, "archive", "export", "--out", str(out)], env=vigie_env(db_url), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with db.read() as session:  # who exported what: an audit event and its archive record
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "archive.export")).one()
        record = session.scalars(select(ArchiveRecord).where(ArchiveRecord.subject == event.subject)).one()
        content = json.loads(session.get(ArchiveContent, record.id).body)  # type: ignore[union-attr]
    manifest_sha = content["after"]["manifest_sha256"]
    assert event.actor == "vigie archive" and content["after"]["records"] == 8
    assert f"manifest SHA-256: {manifest_sha}" in run.stdout
    db.engine.dispose()
    if db_url.startswith("sqlite:///"):  # the database is gone: the check cannot use it
        Path(db_url.removeprefix("sqlite:///")).unlink()
    manifest = json.loads((out / fmt.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["records"] == 10 - 2 and manifest["restricted_left_out"] == 2  # eve's two records left out
    assert manifest["tombstones"] == 1 and made["purged"] in exported_ids(out)
    env = {k: v for k, v in vigie_env().items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # any use of it would fail

    def verify(*heads: str) -> subprocess.CompletedProcess[str]:
        args = [a for h in heads for a in ("--head", h)]
        return subprocess.run([VIGIE, "archive", "verify-export", str(out), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    ok = verify(manifest["head"]["hash"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: every file, record, proof and segment checks" in ok.stdout
    assert f"{manifest['records']} record(s): content -> SHA-256 -> leaf -> audit path -> segment root" in ok.stdout
    assert f"anchored head {manifest['head']['hash']} is segment {manifest['head']['seq']}" in ok.stdout
    assert f"SHA-256 {manifest_sha})" in ok.stdout
    wrong = verify("ab" * 32)
    assert wrong.returncode == 1 and f"FAILED head {'ab' * 32}: is no segment" in wrong.stdout

    rng = random.Random(14)
    files = [fmt.RECORDS_JSONL, fmt.RECORDS_CSV, fmt.MANIFEST, fmt.MANIFEST_RECORDS, fmt.MANIFEST_SEGMENTS,
             fmt.eml_name(made["jan"][0]), fmt.eml_name(made["mar"][1])]
    for name in files:
        path = out / name
        for position in sorted(rng.sample(range(path.stat().st_size), 12)):
            original = flip(path, position)
            try:
                result = check_export(out)
                assert not result.ok, f"byte {position} of {name} changed, the check passed"
                assert any(f.startswith(f"{name}:") for f in result.failures), (name, position, result.failures)
            finally:
                path.write_bytes(original)
    original = flip(out / fmt.RECORDS_JSONL, 10)
    failed = verify()
    assert failed.returncode == 1 and f"FAILED {fmt.RECORDS_JSONL}: its SHA-256 differs" in failed.stdout
    (out / fmt.RECORDS_JSONL).write_bytes(original)
    assert check_export(out).ok


def test_the_checker_runs_without_sqlalchemy(db: Database, tmp_path: Path) -> None:
    build(db)
    out = tmp_path / "export"
    export(db, out)
    code = ("import sys; from models.archive_check import main; rc = main(sys.argv[1:]); "
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'psycopg', 'config') "
            "or m in ('models.db', 'models.tables', 'models.archive')); "
            "print('loaded:', loaded); sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "loaded: []" in run.stdout and "OK: every file" in run.stdout


def test_a_tampered_record_in_every_format_at_once_is_still_caught_by_its_proof(db: Database, tmp_path: Path) -> None:
    """Someone changes a record's content and recomputes every file hash and the manifest's own:
    only the record's hash, leaf and proof to the segment root can tell. They do."""
    made = build(db)
    out = tmp_path / "export"
    export(db, out, formats=("jsonl",))
    lines = (out / fmt.RECORDS_JSONL).read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(lines) if json.loads(line)["id"] == made["mar"][0])
    forged = json.loads(lines[target])
    forged["content"]["mention"]["text"] = "nothing to see"
    lines[target] = fmt.dumps_line(forged).rstrip("\n")
    (out / fmt.RECORDS_JSONL).write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = json.loads((out / fmt.MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][fmt.RECORDS_JSONL] = sha256_text((out / fmt.RECORDS_JSONL).read_text(encoding="utf-8"))
    (out / fmt.MANIFEST).write_text(fmt.manifest_text(manifest), encoding="utf-8")
    result = check_export(out)
    assert result.failures == [f"record {made['mar'][0]} ({fmt.RECORDS_JSONL}): its content does not hash to its "
                               "SHA-256 (the content changed)"]


def test_messages_parse_back_and_csv_cells_never_start_a_formula(db: Database, tmp_path: Path) -> None:
    made = build(db)
    out = tmp_path / "export"
    summary = export(db, out)
    assert summary.records == 8 and check_export(out).ok
    for record_id in exported_ids(out):
        message = message_from_bytes((out / fmt.eml_name(record_id)).read_bytes(), policy=default_policy)
        assert isinstance(message, EmailMessage)
        for header in ("From", "To", "Date", "Subject", "Message-ID", "X-Vigie-Id", "X-Vigie-Sha256"):
            assert message[header], (record_id, header)
        assert message["Bcc"] is None  # an author's CR LF never starts a header
        assert message.get_body(("plain",)) is not None
        attachments = list(message.iter_attachments())
        if record_id == made["purged"]:
            assert attachments == [] and message["X-Vigie-Tombstone"] == "yes"
            continue
        payload = attachments[0].get_payload(decode=True)
        assert attachments[0].get_content_type() == "application/json"
        assert sha256_text(payload.decode("utf-8")) == message["X-Vigie-Sha256"]
    alice = message_from_bytes((out / fmt.eml_name(made["jan"][0])).read_bytes(), policy=default_policy)
    assert alice["From"].addresses[0].display_name == "Alice « A »"
    assert alice["Date"].datetime == JAN.replace(tzinfo=alice["Date"].datetime.tzinfo)
    assert "ça coûte" in alice.get_body(("plain",)).get_content()
    reply = message_from_bytes((out / fmt.eml_name(made["feb"][3])).read_bytes(), policy=default_policy)
    assert "Bonjour, nous vous rappelons. -Acme" in reply.get_body(("plain",)).get_content()
    mallory = message_from_bytes((out / fmt.eml_name(made["feb"][1])).read_bytes(), policy=default_policy)
    assert "\n" not in str(mallory["X-Vigie-Author"]) and "victim" in str(mallory["X-Vigie-Author"])

    with (out / fmt.RECORDS_CSV).open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert tuple(rows[0]) == fmt.CSV_COLUMNS
    texts = {int(row[0]): row[fmt.CSV_COLUMNS.index("text")] for row in rows[1:]}
    assert texts[made["jan"][0]].startswith("'=HYPERLINK(")
    assert texts[made["feb"][1]].startswith("'@everyone")
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) and not cell.lstrip().startswith(FORMULA_STARTS), cell


def test_restricted_records_are_left_out_unless_compliance_asks(db: Database, db_url: str, tmp_path: Path) -> None:
    made = build(db)
    default = export(db, tmp_path / "default")
    assert default.restricted_left_out == 2 and not set(made["eve"]) & set(exported_ids(tmp_path / "default"))
    shown = export(db, tmp_path / "shown", Selection(include_restricted=True))
    assert shown.restricted == 2 and set(made["eve"]) <= set(exported_ids(tmp_path / "shown"))
    with (tmp_path / "shown" / fmt.RECORDS_JSONL).open(encoding="utf-8") as stream:
        flags = {line["id"]: line["restricted"] for line in map(json.loads, stream)}
    assert {i for i, restricted in flags.items() if restricted} == set(made["eve"])
    message = message_from_bytes((tmp_path / "shown" / fmt.eml_name(made["eve"][0])).read_bytes(),
                                 policy=default_policy)
    assert message["X-Vigie-Restricted"] == "yes"
    assert check_export(tmp_path / "shown").ok

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([VIGIE, "archive", "export", "--include-restricted", *args], env=vigie_env(db_url),
                              capture_output=True, text=True, timeout=120)

    assert "needs --actor" in cli("--out", str(tmp_path / "a")).stderr
    assert "'ann': not an active compliance account" in cli("--actor", "ann", "--out", str(tmp_path / "b")).stderr
    done = cli("--actor", "cora", "--out", str(tmp_path / "c"))
    assert done.returncode == 0, done.stderr
    assert "2 restricted included" in done.stdout
    with db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "archive.export")).one()
    assert event.actor == "cora" and event.after["selection"]["include_restricted"] is True
    assert event.after["records"] == 10 and event.after["manifest_sha256"] in done.stdout


def test_selections_pick_what_they_say(db: Database, tmp_path: Path) -> None:
    made = build(db)
    jan, feb, mar = made["jan"], made["feb"], made["mar"]

    def ids(name: str, selection: Selection) -> list[int]:
        export(db, tmp_path / name, selection)
        assert check_export(tmp_path / name).ok
        return exported_ids(tmp_path / name)

    assert ids("range", Selection(since=datetime(2024, 2, 1), until=datetime(2024, 3, 15, 11, 0))) \
        == [feb[1], feb[3]]  # eve's restricted; March's at the excluded end
    assert ids("author", Selection(author="x:alice")) == [jan[0], jan[2], feb[3], mar[0]]
    assert ids("item", Selection(mention_id=1)) == [jan[0], jan[2], feb[3]]
    # the matter: alice's or the feed's records, January to March, whose content says "fraud" (the
    # holds' own rule: without case; bob's tombstone too, since no query can rule it out)
    assert ids("matter", Selection(hold_id=made["hold"])) == [made["purged"], mar[0]]
    assert ids("both", Selection(author="x:alice", until=datetime(2024, 2, 1))) == [jan[0], jan[2]]
    with pytest.raises(ExportError, match="legal hold 999 does not exist"):
        export(db, tmp_path / "none", Selection(hold_id=999))
    with pytest.raises(ExportError, match="exists and is not an empty folder"):
        export(db, tmp_path / "range", Selection())


def test_records_written_after_the_seal_are_left_out_and_counted(db: Database, tmp_path: Path) -> None:
    build(db)
    _seal_all(db)
    with db.write.begin() as session:
        late = write_record(session, "config", "config:routing", {"changed": True}, at=MAR)
    summary = export(db, tmp_path / "out")
    assert summary.unsealed_left_out == 1 and late not in exported_ids(tmp_path / "out")
    assert check_export(tmp_path / "out").ok


def _peak(db: Database, out: Path, selection: Selection) -> tuple[int, int, int]:
    tracemalloc.start()
    try:
        summary = export(db, out, selection)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert check_export(out).ok
        _, check_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return summary.records, peak, check_peak


def test_memory_stays_flat_when_the_export_is_four_times_larger(db: Database, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """tracemalloc's peak while exporting (and checking) N records, then 4N: a page of records and
    a few segments' proofs, whatever N. Pages of 25 records (the one patch) keep the test short
    while both exports span many pages and segments."""
    monkeypatch.setattr(archive_export, "PAGE", 25)
    n = 100
    with db.write.begin() as session:
        for month, at in enumerate((JAN, FEB, MAR, datetime(2024, 4, 15))):
            write_many(session, [_post(month * n + i, f"x:user{i % 50}", f"post {i} " + "words " * 40)
                                 for i in range(n)], at=at)
    while True:
        with db.write.begin() as session:
            if seal(session, "test", limit=50) is None:
                break
    export(db, tmp_path / "warm", Selection(mention_id=1))  # caches warmed
    small = _peak(db, tmp_path / "small", Selection(until=datetime(2024, 2, 1)))
    large = _peak(db, tmp_path / "large", Selection())
    assert (small[0], large[0]) == (n, 4 * n)
    print(f"peak memory: export {small[1]} B for {n} records, {large[1]} B for {4 * n}; "
          f"check {small[2]} B, {large[2]} B")
    assert large[1] < 1.5 * small[1], (small, large)
    assert large[2] < 1.5 * small[2], (small, large)


def test_an_older_anchored_head_proves_the_records_sealed_up_to_it_and_says_which_are_not(
        db: Database, tmp_path: Path) -> None:
    build(db)
    out = tmp_path / "out"
    export(db, out)
    with (out / fmt.MANIFEST_SEGMENTS).open(encoding="utf-8") as stream:
        first = json.loads(stream.readline())
    with (out / fmt.MANIFEST_RECORDS).open(encoding="utf-8") as stream:
        later = sum(1 for line in map(json.loads, stream) if line["segment"] > 1)
    result = check_export(out, [first["hash"]])
    assert result.ok and result.anchored == [(first["hash"], 1)]
    assert 0 < result.after_anchor == later
    assert not check_export(out, [first["prev_hash"]]).ok  # genesis is no segment
