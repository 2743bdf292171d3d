"""Sealing while several writers write: three writers at once, each with its own database handle
(`open_database`), one ingesting posts from a source, one from another source, one taking queue
actions and writing records of other kinds, while a sealer loops `seal` with small, varying
segment sizes. Once they are done the rest is sealed and the archive must hold every record
sealed exactly once, nothing waiting, the segments numbered without a gap and chained, and
`verify` must pass. SQLite (writers queue on the file's lock) and PostgreSQL (they do not: ids
come from a sequence and commit out of order)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from collectors.ingest import RunReport, ingest
from collectors.pipeline import Enricher
from collectors.types import Parsed
from config.settings import Settings, SourceConfig
from models import actions
from models.archive import write_record
from models.archive_seal import GENESIS, seal
from models.archive_tables import ArchivePending, ArchiveRecord, ArchiveSeal, ArchiveSegment
from models.archive_verify import verify
from models.db import Database, open_database
from models.tables import utcnow
from tests.kit import seed_items, source_id
from vigie.bench import demo_posts

BATCHES, BATCH = 12, 25  # per ingesting writer


def _count(db: Database, what: object) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


@pytest.mark.slow
def test_three_writers_and_a_sealer_leave_every_record_sealed_once(db: Database, db_url: str,
                                                                    settings: Settings) -> None:
    settings = replace(settings, sources=(*settings.sources, SourceConfig("demo-b", "demo", 60.0, False, {})))
    sources = {name: source_id(db, settings, name) for name in ("demo", "demo-b")}
    items = seed_items(db, settings, [f"my card was blocked {i}" for i in range(40)], prefix="cc")
    enricher = Enricher(settings)
    done = threading.Event()
    errors: list[BaseException] = []
    written = {"posts": 0, "actions": 0, "segments": 0}
    sealed = threading.Condition()
    aborted = threading.Event()

    def after_a_seal(since: int) -> int:
        """Wait until the sealer has sealed a segment after `since` segments: the interleaving the test is about
        is arranged, not left to the scheduler (on SQLite the writers can hold the file's lock long enough for
        the sealer to seal once in the whole run)."""
        with sealed:
            if not sealed.wait_for(lambda: written["segments"] > since or done.is_set() or aborted.is_set(),
                                   timeout=60):
                raise TimeoutError("the sealer sealed nothing for 60 s")
            return written["segments"]

    def guarded(work: Callable[[Database], None]) -> Callable[[], None]:
        def run() -> None:
            own = open_database(db_url)  # its own engine and pool, as another process would have
            try:
                work(own)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                with sealed:  # no one waits 60 s for a sealer (or a writer) that stopped
                    aborted.set()
                    sealed.notify_all()
            finally:
                own.engine.dispose()
        return run

    def ingesting(name: str, seed: int) -> Callable[[Database], None]:
        def work(own: Database) -> None:
            posts = demo_posts(BATCHES * BATCH, seed=seed)
            seen = 0
            for n in range(BATCHES):
                if n % 2 == 1:  # six waits: at least six segments sealed amid the writing
                    seen = after_a_seal(seen)
                report = ingest(own, sources[name], enricher, Parsed(posts[n * BATCH:(n + 1) * BATCH]), utcnow(),
                                RunReport(name), chunk_size=None, next_cursor=f"{name}:{n}")
                written["posts"] += report.stored
        return work

    def acting(own: Database) -> None:
        seen = 0
        for n, item_id in enumerate(items):
            if n % 10 == 9:
                seen = after_a_seal(seen)
            with own.write.begin() as s:
                actions.claim(s, item_id, "ana")
            with own.write.begin() as s:
                actions.resolve(s, item_id, "ana", note=f"called back {n}")
                write_record(s, "review", f"review:{n}", {"decision": "no_issue", "item": item_id})
            written["actions"] += 2

    def sealing(own: Database) -> None:
        rng = random.Random(3)
        while not done.is_set():
            with own.write.begin() as s:
                segment = seal(s, "sealer", limit=rng.randint(1, 40))
            if segment is not None:
                with sealed:
                    written["segments"] += 1
                    sealed.notify_all()

    writers = [threading.Thread(target=guarded(w)) for w in (ingesting("demo", 21), ingesting("demo-b", 22), acting)]
    sealer = threading.Thread(target=guarded(sealing))
    sealer.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    with sealed:
        done.set()
        sealed.notify_all()
    sealer.join()
    assert not errors, errors
    assert written["posts"] > 2 * BATCHES * BATCH * 0.8 and written["actions"] == 2 * len(items)
    assert written["segments"] > 5, "the sealer should have sealed while the writers wrote"
    while True:  # the rest
        with db.write.begin() as s:
            if seal(s, "test", limit=500) is None:
                break

    records, seals = _count(db, ArchiveRecord), _count(db, ArchiveSeal)
    assert records > 2 * BATCHES * BATCH
    assert seals == records and _count(db, ArchivePending) == 0
    with db.read() as s:
        twice = s.execute(select(ArchiveSeal.record_id).group_by(ArchiveSeal.record_id)
                          .having(func.count() > 1)).all()
        assert twice == []  # the primary key forbids it: asserted all the same
        unsealed = s.scalars(select(ArchiveRecord.id).where(ArchiveRecord.id.not_in(
            select(ArchiveSeal.record_id)))).all()
        assert unsealed == []
        segments = s.scalars(select(ArchiveSegment).order_by(ArchiveSegment.seq)).all()
        assert [g.seq for g in segments] == list(range(1, len(segments) + 1))
        assert sum(g.count for g in segments) == records
        previous = GENESIS
        for segment in segments:
            assert segment.prev_hash == previous
            ids = s.scalars(select(ArchiveSeal.record_id).where(ArchiveSeal.segment_id == segment.id)
                            .order_by(ArchiveSeal.position)).all()
            assert len(ids) == segment.count and ids == sorted(ids)
            assert (ids[0], ids[-1]) == (segment.first_record_id, segment.last_record_id)
            previous = segment.hash
        if db.is_sqlite:  # one writer at a time: ids are taken in commit order, segments follow each other
            assert all(a.last_record_id < b.first_record_id for a, b in zip(segments, segments[1:], strict=False))
        result = verify(s, now=utcnow())
    assert result.ok, [str(f) for f in result.failures]
    assert (result.records, result.segments, result.pending) == (records, len(segments), 0)
    print(f"archive concurrency ({db.engine.dialect.name}): {records} records by 3 writers, "
          f"{written['segments']} segments sealed meanwhile, {len(segments)} in all, verify OK")
