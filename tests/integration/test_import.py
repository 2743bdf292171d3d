"""`vigie import FILE` as a user runs it: JSONL and CSV, bad lines kept, progress shown, SIGKILL then
resume (every line stored once), re-import and changed files, into a real SQLite file."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from collectors.importer import FileImport
from collectors.mapping import FieldMapping
from config.settings import Settings
from models.db import Database, open_database
from models.tables import Mention, QueueItem, RejectedItem, SourceRow
from tests.kit import config_dir, db_upgrade, vigie_env
from tests.replay import FIXTURES
from tests.support import VIGIE

JSONL = FIXTURES / "import/mentions.jsonl"
CSV = FIXTURES / "import/export.csv"
CSV_FIELDS = ["--field", "external_id=Mention Id", "--field", "text=Full Text", "--field", "created_at=Date",
              "--field", "author_handle=Author", "--field", "author_followers=Followers", "--field", "url=Url"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = vigie_env(tmp_path / "vigie.db", config=config_dir(tmp_path), log_level="WARNING")
    db_upgrade(env)
    return env


def _vigie(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VIGIE, "import", *map(str, args)], env=env, capture_output=True, text=True, timeout=300)


def _db(env: dict[str, str]) -> Database:
    return open_database(env["DATABASE_URL"])


def _stored(db: Database, source: str) -> dict[str, Mention]:
    with db.read() as s:
        rows = s.scalars(select(Mention).join(SourceRow).where(SourceRow.name == source)).all()
    return {m.external_id: m for m in rows}


def _rejected(db: Database, source: str) -> list[tuple[str | None, str, Any]]:
    with db.read() as s:
        rows = s.scalars(select(RejectedItem).join(SourceRow).where(SourceRow.name == source)
                         .order_by(RejectedItem.id)).all()
    return [(r.external_id, r.reason, json.loads(r.raw)) for r in rows]


def _cursor(db: Database, source: str) -> dict[str, Any]:
    with db.read() as s:
        return json.loads(s.scalar(select(SourceRow.cursor).where(SourceRow.name == source)) or "null")


def test_jsonl_import_stores_good_lines_and_keeps_bad_ones(env: dict[str, str]) -> None:
    result = _vigie(env, JSONL, "--source", "backfill", "--network", "listening")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("mentions.jsonl lines 1-8 into source 'backfill': 4 stored (4 queued, 0 copies), "
                                     "0 duplicates, 3 rejected (kept in rejected_items)")
    assert "importing mentions.jsonl" in result.stderr  # the progress bar's label (not a terminal here)
    db = _db(env)
    stored = _stored(db, "backfill")
    assert set(stored) == {"j-1", "j-2", "j-5", "j-6"}
    assert (stored["j-1"].network, stored["j-1"].author_handle, stored["j-1"].author_followers) == (
        "listening", "@jroe", 15000)
    assert (stored["j-2"].network, stored["j-2"].language) == ("x", "fr")
    assert stored["j-5"].created_at.isoformat() == "2026-11-20T10:00:00"
    assert stored["j-6"].text == "שירות מעולה של בנק אורליה 👍"
    with db.read() as s:
        team = s.scalar(select(QueueItem.team).where(QueueItem.mention_id == stored["j-1"].id))
    assert team == "legal"
    kept = _rejected(db, "backfill")
    assert [reason for _, reason, _ in kept] == [
        "line 3: invalid JSON: Unterminated string starting at: line 1 column 23 (char 22)",
        "line 5: item 'j-4': no text: text missing or empty",
        "line 6: item is a list, not an object",
    ]
    assert kept[0][2] == {"line": 3, "text": '{"id": "j-3", "text": "broken'}
    assert kept[1][0] == "j-4" and kept[1][2] == {"line": 5, "item": {"id": "j-4"}}
    digest = hashlib.sha256(JSONL.read_bytes()).hexdigest()
    assert _cursor(db, "backfill") == {"format": "jsonl", "offset": JSONL.stat().st_size, "line": 8,
                                       "sha256": digest, "file": "mentions.jsonl"}
    with db.read() as s:
        row = s.scalars(select(SourceRow).where(SourceRow.name == "backfill")).one()
    assert (row.kind, row.items_last_run) == ("import", 4)
    assert (row.last_error or "").startswith("3 item(s) rejected (kept in rejected_items): line 3: invalid JSON")


def test_reimport_stores_nothing_new_and_rescan_finds_only_duplicates(env: dict[str, str]) -> None:
    assert _vigie(env, JSONL, "--source", "again").returncode == 0
    second = _vigie(env, JSONL, "--source", "again")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "nothing new: mentions.jsonl was imported into source 'again' up to its line 8"
    rescan = _vigie(env, JSONL, "--source", "again", "--rescan")
    assert rescan.returncode == 0, rescan.stderr
    # the 3 bad lines are already kept: duplicates, like the 4 posts (it said "3 rejected (kept)" and kept none)
    assert rescan.stdout.strip() == ("mentions.jsonl lines 1-8 into source 'again': 0 stored (0 queued, 0 copies), "
                                     "7 duplicates, 0 rejected (kept in rejected_items)")
    db = _db(env)
    assert len(_stored(db, "again")) == 4
    assert len(_rejected(db, "again")) == 3  # the bad lines are not kept twice either


def test_csv_import_with_a_field_mapping(env: dict[str, str]) -> None:
    result = _vigie(env, CSV, "--source", "brandwatch", *CSV_FIELDS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("export.csv lines 1-8 into source 'brandwatch': 3 stored (3 queued, 0 copies), "
                                     "0 duplicates, 3 rejected (kept in rejected_items)")
    db = _db(env)
    stored = _stored(db, "brandwatch")
    assert set(stored) == {"bw-1", "bw-2", "bw-6"}
    first = stored["bw-1"]
    assert (first.text, first.author_handle, first.author_followers, first.url, first.network) == (
        "Aurelia Bank charged me twice, fraud?", "@maria", 1204, "https://forum.example/t/1", "import")
    assert first.created_at.isoformat() == "2026-11-21T09:30:00"
    assert stored["bw-2"].text.startswith("Multi-line") and stored["bw-2"].text.endswith(
        "complaint about Aurelia app 😡")
    assert (stored["bw-6"].url, stored["bw-6"].created_at.isoformat()) == (None, "2026-11-21T10:00:00")
    assert [reason for _, reason, _ in _rejected(db, "brandwatch")] == [
        "line 5: item 'bw-3': no text: Full Text missing or empty",
        "line 6: expected 6 cells (the header's), got 7",
        "line 7: item 'bw-5': Date: Invalid isoformat string: '21/11/2026'",
    ]
    assert _cursor(db, "brandwatch")["line"] == 8


def test_progress_bar_on_a_terminal(env: dict[str, str]) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([VIGIE, "import", str(JSONL), "--source", "tty"], env=env, stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    text = output.decode("utf-8", "replace")
    assert "importing mentions.jsonl" in text and "100%" in text
    assert "4 stored" in text


def _big_file(path: Path, lines: int) -> tuple[set[str], dict[int, str]]:
    """A file of ``lines`` posts; every 2,500th line (from 1,234) is broken JSON. Returns the good ids
    and the id of each line number."""
    topics = ["app down again", "fees are a scam", "great service today", "card blocked abroad",
              "frais bancaires trop élevés", "merci pour votre aide 🙏", "cannot log in 😡", "خدمة ممتازة"]
    good: set[str] = set()
    by_line: dict[int, str] = {}
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            ext = f"b{i:05d}"
            if i % 2500 == 1234:
                out.write(f'{{"id": "{ext}", "text": "broken\n')
                continue
            item = {"id": ext, "text": f"Aurelia Bank {topics[i % len(topics)]} (report {i})",
                    "created_at": 1795000000 + i, "author": {"handle": f"user{i % 997}"}}
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            good.add(ext)
            by_line[i + 1] = ext
    return good, by_line


@pytest.mark.slow
def test_sigkill_mid_import_then_resume_stores_every_line_once(env: dict[str, str], tmp_path: Path) -> None:
    big = tmp_path / "history.jsonl"
    good, by_line = _big_file(big, 20_000)
    env = {**env, "VIGIE_BATCH_SIZE": "100"}
    db = _db(env)
    proc = subprocess.Popen([VIGIE, "import", str(big), "--source", "history"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    count = 0
    while count < 3000:  # let it write a good part, then kill it mid-stream
        assert time.monotonic() < deadline, "the import did not start writing"
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        with db.read() as s:
            count = s.scalar(select(func.count()).select_from(Mention)) or 0
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    cursor = _cursor(db, "history")
    stored = set(_stored(db, "history"))
    assert 3000 <= len(stored) < len(good), "killed too late to prove anything"
    # The cursor moved in the same transaction as the items: exactly the lines before it are stored.
    assert stored == {ext for line, ext in by_line.items() if line <= cursor["line"]}

    resumed = subprocess.run([VIGIE, "import", str(big), "--source", "history"], env=env, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith(f"history.jsonl lines {cursor['line'] + 1}-20000 into source 'history': "
                                     f"{len(good) - len(stored)} stored")
    with db.read() as s:
        ids = [r[0] for r in s.execute(select(Mention.external_id))]
        queued = s.scalar(select(func.count()).select_from(QueueItem))
        originals = s.scalar(select(func.count()).select_from(Mention).where(Mention.duplicate_of_id.is_(None)))
    assert len(ids) == len(set(ids)) == len(good) and set(ids) == good
    assert queued == originals
    kept = _rejected(db, "history")
    assert sorted(reason.split(":")[0] for _, reason, _ in kept) == sorted(
        f"line {i + 1}" for i in range(20_000) if i % 2500 == 1234)

    again = subprocess.run([VIGIE, "import", str(big), "--source", "history"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.stdout.strip() == "nothing new: history.jsonl was imported into source 'history' up to its line 20000"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == len(good)


def test_a_changed_file_is_read_again_not_skipped(env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "posts.jsonl"
    lines = [json.dumps({"id": f"c-{i}", "text": f"Aurelia Bank post number {i}"}) for i in range(1, 6)]
    data.write_text("\n".join(lines) + "\n")
    assert _vigie(env, data, "--source", "changing").returncode == 0
    # Grown only: resumes after the lines already imported.
    data.write_text("\n".join(lines + [json.dumps({"id": "c-6", "text": "Aurelia Bank six"})]) + "\n")
    grown = _vigie(env, data, "--source", "changing")
    assert grown.stdout.startswith("posts.jsonl lines 6-6 into source 'changing': 1 stored"), grown.stdout
    # Edited in the middle (same length): an offset would skip line 2; it is read again instead.
    lines[1] = json.dumps({"id": "x-2", "text": "Aurelia Bank post number two, edited"})
    data.write_text("\n".join(lines + [json.dumps({"id": "c-6", "text": "Aurelia Bank six"})]) + "\n")
    edited = _vigie(env, data, "--source", "changing")
    assert edited.returncode == 0, edited.stderr
    assert "is not the file (or no longer begins as the file) last imported under this source" in edited.stderr
    assert edited.stdout.startswith("posts.jsonl lines 1-6 into source 'changing': 1 stored (1 queued, 0 copies), "
                                    "5 duplicates"), edited.stdout
    assert set(_stored(_db(env), "changing")) == {"c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "x-2"}


@pytest.mark.parametrize(("args", "message"), [
    (["--field", "txt=message"], "--field: fields.txt: unknown field"),
    (["--field", "text"], "expected FIELD=PATH (e.g. text=message.body), got 'text'"),
    (["--source", "demo"], "'demo' is a demo source in sources.yaml; give the import its own name"),
    (["--source", "Bad Name"], "lower-case letters, digits, '-' or '_'"),
    (["--delimiter", ";;"], "expected one character"),
])
def test_bad_options_fail_with_a_message(env: dict[str, str], args: list[str], message: str) -> None:
    result = _vigie(env, JSONL, *args)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr


def test_unknown_extension_needs_a_format(env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "dump.txt"
    data.write_text('{"id": "t-1", "text": "Aurelia Bank"}\n')
    result = _vigie(env, data)
    assert result.returncode == 1 and "dump.txt: cannot tell the format from the extension" in result.stderr
    assert _vigie(env, data, "--format", "jsonl").returncode == 0
    assert set(_stored(_db(env), "import")) == {"t-1"}


def test_csv_import_interrupted_between_batches_resumes_at_the_next_record(
    sqlite_db: Database, base_settings: Settings
) -> None:
    """A record spanning two lines (bw-2) and batches of one: each stored cursor is exactly past a record."""
    settings = replace(base_settings, batch_size=1)
    mapping = FieldMapping.from_options(
        {"external_id": "Mention Id", "text": "Full Text", "created_at": "Date"}, "test", "import")
    seen: list[int] = []

    def stop_after_two_batches(offset: int) -> None:
        seen.append(offset)
        if len(seen) == 2:
            raise KeyboardInterrupt

    first = FileImport(sqlite_db, settings, CSV, "csv-resume", "csv", mapping)
    first.prepare()
    with pytest.raises(KeyboardInterrupt):
        first.run(stop_after_two_batches)
    cursor = _cursor(sqlite_db, "csv-resume")
    assert (cursor["line"], set(_stored(sqlite_db, "csv-resume"))) == (4, {"bw-1", "bw-2"})
    assert cursor["offset"] == CSV.read_bytes().index(b"bw-3")
    again = FileImport(sqlite_db, settings, CSV, "csv-resume", "csv", mapping)
    again.prepare()
    assert (again.line, again.report.note) == (4, None)
    report = again.run()
    assert (report.stored, report.duplicates, report.rejected) == (1, 0, 3)
    assert set(_stored(sqlite_db, "csv-resume")) == {"bw-1", "bw-2", "bw-6"}
    assert _cursor(sqlite_db, "csv-resume")["sha256"] == hashlib.sha256(CSV.read_bytes()).hexdigest()


def test_a_last_line_still_being_written_is_not_lost(env: dict[str, str], tmp_path: Path) -> None:
    """A log being appended to: its unfinished last line waits, and is stored once finished."""
    log = tmp_path / "growing.jsonl"
    first = json.dumps({"id": "a", "text": "Aurelia Bank app down again this morning"})
    second = json.dumps({"id": "b", "text": "Aurelia Bank charged me twice for the same transfer"})
    log.write_text(first + "\n" + second[:20])  # the writer is in the middle of line 2
    assert _vigie(env, log, "--source", "grow").returncode == 0
    assert set(_stored(_db(env), "grow")) == {"a"} and _rejected(_db(env), "grow") == []
    log.write_text(first + "\n" + second + "\n")  # the writer finished the line
    result = _vigie(env, log, "--source", "grow")
    assert result.returncode == 0, result.stderr
    assert set(_stored(_db(env), "grow")) == {"a", "b"} and _rejected(_db(env), "grow") == []
