"""The archive's tamper evidence, fuzzed: an archive built by the real writers (posts through the
one ingest entry point, queue actions, a few records of other kinds, a purge's tombstone), sealed
into many small segments with its head anchored, then at least 1,000 random tamperings, each in
its own transaction, rolled back after: the archive triggers are dropped inside it (an attacker
with the database owner's rights) and `verify` must report a failure every time.

SQLite and PostgreSQL (the `db` fixture). The seed is printed and named in every failure; rerun
one with ``VIGIE_FUZZ_SEED=<seed>``; ``VIGIE_FUZZ_TRIALS`` asks for more trials.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from config.settings import Settings
from models import actions
from models.archive import write_record
from models.archive_seal import head, seal
from models.archive_tables import ArchiveContent, ArchiveSegment
from models.archive_verify import Anchor, verify
from models.db import Database
from models.tables import utcnow
from tests.archive_tamper import TAMPERINGS, drop_archive_triggers, read_facts
from tests.kit import seed_items, store_posts
from vigie.bench import demo_posts

TRIALS = int(os.environ.get("VIGIE_FUZZ_TRIALS", "1000"))


# --- the archive under test (the tamperings: tests/archive_tamper.py) ----------------------------

def build_archive(db: Database, settings: Settings) -> list[Anchor]:
    """A few hundred records of mixed kinds, sealed 3 to 9 at a time, a purged one (its tombstone
    named by a purge record), the head and a middle segment anchored, then a few records left
    waiting to be sealed; the anchors."""
    store_posts(db, settings, demo_posts(200, seed=5))
    items = seed_items(db, settings, [f"card blocked again, call me {i}" for i in range(30)], prefix="fz")
    for n, item_id in enumerate(items):
        with db.write.begin() as s:
            actions.claim(s, item_id, "ana")
        with db.write.begin() as s:
            if n % 3:
                actions.resolve(s, item_id, "ana", note=f"answered by phone {n}")
            else:
                actions.escalate(s, item_id, "ana", reason="fraud suspected")
    with db.write.begin() as s:
        write_record(s, "config", "config:routing", {"file": "routing.yaml", "sha256": "ab" * 32, "nan": float("nan")})
        write_record(s, "hold", "hold:1", {"matter": "Dupont v. Bank", "reason": "litigation", "é": "\ud800"})
        victim = write_record(s, "review", "review:1", {"decision": "no_issue", "comment": "fine"},
                              at=utcnow() - timedelta(days=4000))
    with db.write.begin() as s:  # the victim's retention ran out (written ~11 years ago): purged
        s.execute(delete(ArchiveContent).where(ArchiveContent.record_id == victim))
        write_record(s, "purge", "purge:1", {"record_ids": [victim], "retention_class": "default"})
    rng = random.Random(7)
    while True:
        with db.write.begin() as s:
            if seal(s, "fuzz", limit=rng.randint(3, 9)) is None:
                break
    with db.read() as s:
        top = head(s)
        assert top is not None and top.seq >= 40
        middle = s.scalars(select(ArchiveSegment).where(ArchiveSegment.seq == top.seq // 2)).one()
        anchors = [Anchor(middle.seq, middle.hash), Anchor(top.seq, top.hash)]
    with db.write.begin() as s:  # waiting to be sealed
        for n in range(4):
            write_record(s, "event", f"item:{items[n]}", {"note": f"late {n}"})
    return anchors


def trial(db: Database, anchors: list[Anchor], tamper: Callable[[Connection], str] | None) -> tuple[str, Any]:
    """Apply ``tamper`` inside a transaction, verify, roll back: what was done and the verdict."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            drop_archive_triggers(conn)
            done = tamper(conn) if tamper else "nothing"
            with Session(bind=conn) as session:
                result = verify(session, anchors, now=utcnow())
        finally:
            transaction.rollback()
    return done, result


@pytest.mark.slow
def test_a_thousand_random_tamperings_are_all_caught(db: Database, settings: Settings) -> None:
    seed = int(os.environ.get("VIGIE_FUZZ_SEED", random.SystemRandom().randrange(2**32)))
    print(f"archive fuzz: seed {seed} ({db.engine.dialect.name}), {TRIALS} trials")
    anchors = build_archive(db, settings)
    with db.engine.connect() as conn:
        facts = read_facts(conn)
    assert len(facts.records) >= 280 and len(facts.pending) == 4 and len(facts.segments) >= 40
    print(f"archive fuzz: {len(facts.records)} records ({len(facts.bodies)} with content), {len(facts.segments)} "
          f"segments, {len(facts.pending)} waiting, anchors {[a.seq for a in anchors]}")
    for _ in range(3):  # no false positive, triggers dropped or not
        done, result = trial(db, anchors, None)
        assert result.ok, (seed, [str(f) for f in result.failures])
    with db.read() as s:
        assert verify(s, anchors, now=utcnow()).ok
    rng = random.Random(seed)
    kinds = sorted(TAMPERINGS)
    counts: Counter[str] = Counter()
    for number in range(TRIALS):
        kind = kinds[number % len(kinds)] if number < len(kinds) else rng.choice(kinds)
        done, result = trial(db, anchors, lambda conn, k=kind: TAMPERINGS[k](conn, rng, facts))
        assert not result.ok, f"seed {seed}, trial {number} ({kind}): {done}: verify reported nothing"
        counts[kind] += 1
    print(f"archive fuzz ({db.engine.dialect.name}): {sum(counts.values())} tamperings, all caught: "
          + ", ".join(f"{k} {counts[k]}" for k in kinds))
    with db.read() as s:  # every trial rolled back: the archive is whole again
        assert verify(s, anchors, now=utcnow()).ok
