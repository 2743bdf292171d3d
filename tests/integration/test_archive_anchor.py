"""The daily anchor: the collector's ``archive:anchor`` job appends the head to the anchor file once
per UTC day from ``anchor_hour`` on (a controlled clock), records it and writes the compliance
channel's ``archive_head`` message; `vigie archive anchor` does it now; and a chain rewritten
consistently in the database is caught by `vigie archive verify` with that file alone."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from collectors.jobs.anchor_archive import log_line, run_anchor_archive
from config.notifications import NotificationChannel
from config.settings import Settings
from config.sources import Secret
from models.archive import write_record
from models.archive_seal import head, seal
from models.archive_tables import ArchiveRecord
from models.archive_verify import read_anchors, verify
from models.db import Database
from models.tables import Notification, utcnow
from tests.archive_tamper import drop_archive_triggers, read_facts, reseal
from vigie.cli_archive import archive

COMPLIANCE = NotificationChannel("compliance", Secret("json://127.0.0.1:9/hook"), frozenset({"archive_head"}))
KEYS = {"seq", "hash", "sealed_at", "anchored_at", "records"}


def anchoring(settings: Settings, path: Path, hour: int = 6) -> Settings:
    return replace(settings, archive=replace(settings.archive, anchor_file=str(path), anchor_hour=hour),
                   notifications=(COMPLIANCE,))


def write_and_seal(db: Database, count: int, limit: int = 3) -> None:
    with db.write.begin() as s:
        for n in range(count):
            write_record(s, "config", f"config:{n}", {"n": n, "text": f"rule {n}"})
    while True:
        with db.write.begin() as s:
            if seal(s, "test", limit=limit) is None:
                return


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def anchor_subjects(db: Database) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(ArchiveRecord.subject).where(ArchiveRecord.kind == "anchor")
                              .order_by(ArchiveRecord.id)))


def messages(db: Database) -> list[Notification]:
    with db.read() as s:
        return list(s.scalars(select(Notification).where(Notification.event == "archive_head")
                              .order_by(Notification.id)))


def test_the_head_is_anchored_once_per_utc_day_from_the_hour_on(db: Database, settings: Settings,
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "kept" / "heads.jsonl"  # its folder made on the first day
    settings = anchoring(settings, path, hour=6)
    assert run_anchor_archive(db, settings, datetime(2026, 3, 2, 7)).day is None  # nothing sealed yet
    assert not path.exists() and anchor_subjects(db) == []
    write_and_seal(db, 10)
    runs = [datetime(2026, 3, 2, 7), datetime(2026, 3, 2, 7, 10), datetime(2026, 3, 2, 23, 59),
            datetime(2026, 3, 3, 5, 59), datetime(2026, 3, 3, 6, 0), datetime(2026, 3, 3, 18),
            datetime(2026, 3, 5, 2)]  # the 4th: the collector was down at 06:00, the missed day at 02:00
    days = []
    for n, now in enumerate(runs):
        before = path.read_bytes() if path.exists() else b""
        if n == 5:
            write_and_seal(db, 4)  # new records: a new head for the next day
        report = run_anchor_archive(db, settings, now)
        days.append(report.day)
        assert path.read_bytes().startswith(before)  # appended, never rewritten
    assert days == ["2026-03-02", None, None, None, "2026-03-03", None, "2026-03-04"]
    kept = lines(path)
    assert len(kept) == 3 and all(set(line) == KEYS for line in kept)
    assert [line["anchored_at"] for line in kept] == ["2026-03-02T07:00:00Z", "2026-03-03T06:00:00Z",
                                                      "2026-03-05T02:00:00Z"]
    with db.read() as s:
        top = head(s)
        assert top is not None and (kept[-1]["seq"], kept[-1]["hash"]) == (top.seq, top.hash)
        assert kept[0]["seq"] < kept[-1]["seq"] and kept[-1]["records"] > kept[0]["records"]
        assert verify(s, read_anchors(path.read_text().splitlines()), now=utcnow()).ok
    assert anchor_subjects(db) == ["anchor:2026-03-02", "anchor:2026-03-03", "anchor:2026-03-04"]
    sent = messages(db)
    assert [m.channel for m in sent] == ["compliance"] * 3 and all(m.status == "pending" for m in sent)
    assert kept[0]["hash"] in sent[0].body and "2026-03-02" in sent[0].title
    assert log_line(run_anchor_archive(db, settings, datetime(2026, 3, 5, 3))) is None


def test_an_anchor_file_that_no_longer_matches_the_chain_is_refused(db: Database, settings: Settings,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    settings = anchoring(settings, path, hour=0)
    write_and_seal(db, 6)
    assert run_anchor_archive(db, settings, datetime(2026, 3, 2, 1)).day == "2026-03-02"
    kept = lines(path)
    kept[-1]["hash"] = "0" * 64  # another database's file, or this chain rewritten since
    path.write_text("".join(json.dumps(line) + "\n" for line in kept))
    before = path.read_bytes()
    report = run_anchor_archive(db, settings, datetime(2026, 3, 3, 1))
    assert report.day is None and report.refused and "not in this database's chain" in report.refused
    assert "NOT anchored" in (log_line(report) or "")
    assert path.read_bytes() == before and anchor_subjects(db) == ["anchor:2026-03-02"]


def test_vigie_archive_anchor_then_a_rewritten_chain_fails_verify_with_the_file(db: Database, settings: Settings,
                                                                                 tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    env = {"DATABASE_URL": settings.database_url}
    write_and_seal(db, 20)
    with db.write.begin() as s:
        write_record(s, "config", "config:late", {"waiting": True})  # sealed by the command first
    done = CliRunner().invoke(archive, ["anchor", "--file", str(path)], env=env)
    assert done.exit_code == 0, done.output
    assert "anchored segment" in done.output and len(lines(path)) == 1
    with db.read() as s:
        assert s.scalar(select(ArchiveRecord.id).where(ArchiveRecord.subject == "config:late")) is not None
    assert anchor_subjects(db) == [f"anchor:{utcnow().date().isoformat()}"]
    ok = CliRunner().invoke(archive, ["verify", "--anchors", str(path)], env=env)
    assert ok.exit_code == 0 and "OK" in ok.output, ok.output

    with db.engine.connect() as conn, conn.begin():  # an attacker rewrites the chain, consistently
        drop_archive_triggers(conn)
        facts = read_facts(conn)
        reseal(conn, random.Random(4), replace(facts, segments=facts.segments[:lines(path)[0]["seq"]]))
    with db.read() as s:
        assert verify(s, now=utcnow()).ok  # every hash re-derives: only the kept head can tell
    caught = CliRunner().invoke(archive, ["verify", "--anchors", str(path)], env=env)
    assert caught.exit_code == 1, caught.output
    assert f"FAILED anchor {lines(path)[0]['seq']}" in caught.output and "rewritten" in caught.output
    refused = CliRunner().invoke(archive, ["anchor", "--file", str(path)], env=env)
    assert refused.exit_code == 1 and "not in this database's chain" in refused.output
