"""The purge with a controlled clock over eight years of records (SQLite and PostgreSQL): never a
record before its end (across class changes and clock edges), everything once it has passed, and
the archive still verifies after purges (the purge records name the tombstones)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from collectors.jobs.purge_archive import run_purge
from config.archive import Duration, Retention, RetentionRule
from models.archive import Scope, write_record
from models.archive_seal import seal
from models.archive_tables import ArchiveContent, ArchiveRecord
from models.archive_verify import verify
from models.db import Database, open_database
from models.retention import longest_class, purge

T0 = datetime(2026, 1, 1)
YEARS = {"sec_17a4": Duration(6, "y"), "mifid": Duration(5, "y"), "default": Duration(7, "y")}
WRITTEN = Retention(YEARS, "default", (RetentionRule("sec_17a4", team="legal"),
                                       RetentionRule("mifid", team="marketing")))
TEAMS = ("legal", "marketing", "service")


def _write(db: Database, retention: Retention, items: list[tuple[datetime, str]]) -> list[int]:
    """Records at the given times, written as `vigie collect` does under ``retention``."""
    writer = open_database(db.engine.url.render_as_string(hide_password=False), retention)
    ids = []
    with writer.write.begin() as s:
        for i, (at, team) in enumerate(items):
            ids.append(write_record(s, "post", f"mention:{i}", {"n": i, "text": f"post {i}"},
                                    scope=Scope(mention_id=i, network="x", team=team, author=f"x:@u{i % 7}"), at=at))
    writer.engine.dispose()
    return ids


def _with_content(db: Database) -> set[int]:
    with db.read() as s:
        return set(s.scalars(select(ArchiveContent.record_id)))


def _records(db: Database) -> dict[int, ArchiveRecord]:
    with db.read() as s:
        return {r.id: r for r in s.scalars(select(ArchiveRecord))}


def _seal_all(db: Database) -> None:
    while True:
        with db.write.begin() as s:
            if seal(s, "test") is None:
                return


def _spread(rng: random.Random, count: int) -> list[tuple[datetime, str]]:
    """``count`` records over the eight years before T0, with the leap days among them."""
    items = [(T0 - timedelta(seconds=rng.randrange(8 * 366 * 86400)), rng.choice(TEAMS)) for _ in range(count)]
    items += [(datetime(2020, 2, 29, 12, 0, 0), "legal"), (datetime(2024, 2, 29, 23, 59, 59), "marketing")]
    return items


def _promised(record: ArchiveRecord, *settings: Retention) -> datetime:
    """The end each of ``settings`` promises the record (an oracle apart from models.retention)."""
    ends = [record.retain_until]
    for retention in settings:
        for name in (record.retention_class, retention.class_for(record.network, record.brand, record.team)):
            period = retention.classes.get(name)
            ends.append(period.after(record.at) if period else max(p.after(record.at)
                                                                   for p in retention.classes.values()))
    return max(ends)


CHANGES = {
    "unchanged": WRITTEN,
    "lengthened": Retention({**YEARS, "mifid": Duration(9, "y")}, "default", WRITTEN.rules),
    "shortened": Retention({**YEARS, "sec_17a4": Duration(1, "y"), "default": Duration(2, "d")}, "default",
                           WRITTEN.rules),
    "removed": Retention({"default": Duration(7, "y"), "sec_17a4": Duration(6, "y")}, "default",
                         (RetentionRule("sec_17a4", team="legal"),)),
    "lengthened, its rule gone": Retention({**YEARS, "mifid": Duration(9, "y")}, "default",
                                          (RetentionRule("sec_17a4", team="legal"),)),
    "rule changed": Retention(YEARS, "default", (RetentionRule("default", team="legal"),
                                                 RetentionRule("sec_17a4", team="marketing"))),
}


def test_zero_early_purges_across_class_changes_over_years(db: Database) -> None:
    rng = random.Random(14)
    items = _spread(rng, 150)
    ids = _write(db, WRITTEN, items)
    records = _records(db)
    for name, current in CHANGES.items():
        # the clock moves forward a few months at a time over eleven years
        now = T0 - timedelta(days=30)
        while now < T0 + timedelta(days=11 * 365):
            now += timedelta(days=rng.randrange(20, 200), seconds=rng.randrange(86400))
            before = _with_content(db)
            run_purge(db, current, now)
            gone = before - _with_content(db)
            for record_id in gone:
                record = records[record_id]
                assert now > _promised(record, WRITTEN, current), (name, record_id, now)
            for record_id in _with_content(db) & set(ids):  # and nothing kept past its end
                assert now <= _promised(records[record_id], WRITTEN, current), (name, record_id, now)
        assert not _with_content(db) & set(ids), name
        # the next change starts from a full archive again
        ids = _write(db, WRITTEN, items)
        records = _records(db)


def test_the_boundary_second_leap_days_and_aware_clocks(db: Database) -> None:
    leap = datetime(2020, 2, 29, 10, 0, 0)
    [record_id] = _write(db, WRITTEN, [(leap, "service")])  # default: 7y, so 2027-03-01 10:00
    end = datetime(2027, 3, 1, 10, 0, 0)
    assert _records(db)[record_id].retain_until == end
    run_purge(db, WRITTEN, datetime(2027, 2, 28, 10, 0, 0))  # the day a naive "+7 years, day 28" would give
    run_purge(db, WRITTEN, end)  # the very second: kept through it
    run_purge(db, WRITTEN, end.replace(tzinfo=UTC))
    run_purge(db, WRITTEN, (end + timedelta(minutes=30)).replace(tzinfo=timezone(timedelta(hours=1))))  # 09:30Z
    assert record_id in _with_content(db)
    run_purge(db, WRITTEN, end + timedelta(microseconds=1))
    assert record_id not in _with_content(db)


def test_purge_records_name_the_tombstones_and_verify_still_passes(db: Database) -> None:
    early = _write(db, WRITTEN, [(T0 - timedelta(days=3000 + i), "service") for i in range(12)])
    _seal_all(db)  # some purged after sealing…
    late = _write(db, WRITTEN, [(T0 - timedelta(days=2900 + i), "service") for i in range(5)])  # …some before
    kept = _write(db, WRITTEN, [(T0 - timedelta(days=10), "service")])
    with db.write.begin() as s:
        report = purge(s, WRITTEN, T0, limit=7)  # bounded: a batch of seven
        assert len(report.purged) == 7 and report.next_after is not None
    run = run_purge(db, WRITTEN, T0)
    assert run.purged == 10 and run.batches == 1  # the ten left, one batch
    _seal_all(db)
    assert _with_content(db) >= set(kept) and not _with_content(db) & set(early + late)
    with db.read() as s:
        purges = s.execute(select(ArchiveRecord, ArchiveContent.body).join(ArchiveContent)
                           .where(ArchiveRecord.kind == "purge").order_by(ArchiveRecord.id)).all()
        result = verify(s)
    named = [i for _, body in purges for i in json.loads(body)["record_ids"]]
    assert sorted(named) == sorted(early + late)
    assert {json.loads(body)["reason"] for _, body in purges} == {"retention"}
    assert {r.retention_class for r, _ in purges} == {longest_class(WRITTEN, T0)} == {"default"}
    assert result.ok, result.failures
    # purge records are never purged, even long after their own class ends
    run_purge(db, WRITTEN, T0 + timedelta(days=365 * 30))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ArchiveRecord).join(ArchiveContent)
                        .where(ArchiveRecord.kind == "purge")) >= 2
        assert verify(s).ok


def test_a_tombstone_no_purge_record_names_fails_verification(db: Database) -> None:
    """The tombstones verify because of the purge record: without it, verify reports the deletion."""
    ids = _write(db, WRITTEN, [(T0 - timedelta(days=4000), "service")])
    _seal_all(db)
    with db.write.begin() as s:
        s.execute(ArchiveContent.__table__.delete().where(ArchiveContent.record_id == ids[0]))
    with db.read() as s:
        assert not verify(s).ok


def test_records_kept_at_the_front_never_starve_the_purge(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Held records past their retention sort first; a run stops after MAX_BATCHES batches. The next
    run goes on where the last stopped, so a record after them is purged all the same (without it,
    every run scanned the held ones again and nothing after them was ever purged)."""
    from collectors.jobs import purge_archive
    from models.archive import Entry, Scope, write_many
    from models.holds import HoldScope, place_hold

    hour = Retention(classes={"default": Duration(1, "h")})
    with db.write.begin() as s:
        s.info["retention"] = hour
        write_many(s, [Entry("post", f"mention:{i}", {"i": i}, Scope(mention_id=i)) for i in range(1, 7)],
                   at=datetime(2020, 1, 1))
        free = write_many(s, [Entry("post", "mention:99", {"i": 99}, Scope(mention_id=99))], at=datetime(2020, 1, 2))
        place_hold(s, "cora", "M", "r", HoldScope(mention_ids=tuple(range(1, 7))))
    monkeypatch.setattr(purge_archive, "MAX_BATCHES", 2)
    monkeypatch.setattr(purge_archive, "_RESUME", {})
    for _ in range(3):
        purge_archive.run_purge(db, hour, datetime(2026, 1, 1), batch=2)
    with db.read() as s:
        assert s.get(ArchiveContent, free[0]) is None  # purged
        assert len(s.scalars(select(ArchiveContent.record_id)).all()) >= 6  # the held ones kept
