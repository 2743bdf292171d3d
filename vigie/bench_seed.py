"""The scratch database of `vigie bench dashboard` (`vigie.bench_dashboard`): made new or reused,
seeded with N enriched mentions spread over the last ``days`` days (distinct copies of enriched demo
posts: the first `SEED_BASE` inserted in bulk through Python, the rest copied in the database itself),
then settled as the collector's jobs would leave it (queue counts and the summary folded, statistics)."""

import random
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import insert, select

from collectors.pipeline import Enricher, priority_rank
from collectors.runner import sync_sources
from config.effective import masked_url
from config.settings import Settings, SourceConfig
from models import queue_counts
from models.db import Database, analyze, open_database
from models.migrate import upgrade
from models.tables import Mention, QueueItem, SourceRow, utcnow
from vigie.bench import BENCH, demo_posts
from vigie.common import claim_scratch

SEED_SOURCE = "bench-seed"
SEED_BASE = 25_000  # mentions enriched and inserted through Python; the rest are copies of them


def _fresh_database(url: str) -> Database:
    db = open_database(url)
    claim_scratch(db, BENCH)  # it deletes the file or drops every table: only its own database
    if db.is_sqlite:
        path = db.engine.url.database
        db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db = open_database(url)
        claim_scratch(db, BENCH)  # the new file, marked again
    else:
        from models.tables import Base

        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(db.engine)
    return db


def _seed_id(days: int, n: int) -> str:
    return f"seed-{days}d-{n}"


def seeded_already(db: Database, count: int, days: int) -> bool:
    """Whether the scratch database holds exactly ``count`` seeded mentions over ``days`` days, so
    that ``--reuse`` may skip the seeding."""
    from sqlalchemy import func, inspect

    if not inspect(db.engine).has_table("mentions"):
        return False
    with db.read() as session:
        found = session.scalar(select(func.count()).select_from(Mention).where(
            Mention.external_id.like(f"seed-{days}d-%")))
    return found == count


def _source_id(db: Database) -> int:
    with db.read() as session:
        return int(session.scalars(select(SourceRow.id).where(SourceRow.name == SEED_SOURCE)).one())


def seed(db: Database, settings: Settings, count: int, days: int = 7) -> int:
    """Insert ``count`` mentions with queue items spread over the last ``days`` days; returns the
    source id used."""
    sync_sources(db, replace(settings, sources=(SourceConfig(SEED_SOURCE, "demo", 60, False, {}),)))
    with db.read() as session:
        source_id = session.scalars(select(SourceRow.id).where(SourceRow.name == SEED_SOURCE)).one()
    enricher = Enricher(settings)
    now = utcnow()
    samples = [enricher.enrich(p, now) for p in demo_posts(min(count, 3000), seed=5)]
    rng = random.Random(3)
    statuses = ["new"] * 3 + ["claimed"] + ["resolved"] * 6
    chunk = 5000
    base = min(count, SEED_BASE)
    for start in range(0, base, chunk):
        mentions: list[dict[str, Any]] = []
        meta: list[tuple[Any, str]] = []
        for n in range(start, min(base, start + chunk)):
            e = samples[n % len(samples)]
            at = now - timedelta(seconds=rng.uniform(0, days * 86400))
            mentions.append({**e.mention, "source_id": source_id, "external_id": _seed_id(days, n),
                             "created_at": at, "collected_at": at, "cluster_key": _seed_id(days, n)})
            meta.append((e, rng.choice(statuses)))
        waits = [rng.uniform(1, 120) for _ in meta]
        with db.write.begin() as session:
            ids = session.execute(insert(Mention).returning(Mention.id, sort_by_parameter_order=True), mentions)
            session.execute(insert(QueueItem), [
                {"mention_id": mid, "team": e.route.team, "status": st,
                 "priority_rank": priority_rank(e.mention["priority"]),
                 "due_at": m["collected_at"] + timedelta(hours=4), "rule_id": e.route.rule_id,
                 "explanation": e.route.explanation, "created_at": m["collected_at"],
                 "updated_at": m["collected_at"], "assignee": "seed" if st != "new" else None,
                 "claimed_at": m["collected_at"] + timedelta(minutes=wait) if st != "new" else None,
                 "resolved_at": m["collected_at"] + timedelta(minutes=3 * wait) if st == "resolved" else None}
                for (mid,), m, (e, st), wait in zip(ids, mentions, meta, waits, strict=True)
            ])
    for copy, start in enumerate(range(base, count, base), start=1):
        _copy_base(db, int(source_id), copy, min(base, count - start))
    return int(source_id)


def _copy_base(db: Database, source_id: int, copy: int, rows: int) -> None:
    """Copy the first ``rows`` seeded mentions and their queue items in the database itself (INSERT
    ... SELECT: a million enriched rows through Python take most of an hour on a shared machine).
    A copy keeps its original's time and status; its cluster key names the original."""
    from sqlalchemy import func, literal

    from models.tables import Base

    skip = {"id", "external_id", "cluster_key", "duplicate_of_id"}
    mention_cols = [c.name for c in Mention.__table__.columns if c.name not in skip]
    item_cols = [c.name for c in QueueItem.__table__.columns if c.name not in ("id", "mention_id")]
    mentions, items = Base.metadata.tables["mentions"], Base.metadata.tables["queue_items"]
    with db.write.begin() as session:
        before = session.scalar(select(func.max(Mention.id))) or 0
        originals = (select(*(mentions.c[c] for c in mention_cols),
                            (mentions.c.external_id + literal(f"x{copy}")).label("external_id"),
                            mentions.c.external_id.label("cluster_key"))
                     .where(mentions.c.source_id == source_id, mentions.c.external_id.not_like("%x%"),
                            mentions.c.external_id.like("seed-%"))
                     .order_by(mentions.c.id).limit(rows))
        session.execute(insert(mentions).from_select([*mention_cols, "external_id", "cluster_key"], originals))
        original = mentions.alias("original")
        session.execute(insert(items).from_select(["mention_id", *item_cols], select(
            mentions.c.id, *(items.c[c] for c in item_cols))
            .select_from(mentions.join(original, (original.c.source_id == mentions.c.source_id)
                                       & (original.c.external_id == mentions.c.cluster_key))
                         .join(items, items.c.mention_id == original.c.id))
            .where(mentions.c.id > before)))


def seeded_database(settings: Settings, count: int, days: int, url: str, reuse: bool) -> tuple[Database, int]:
    """The scratch database seeded with ``count`` mentions over ``days`` days: with ``reuse``, one
    seeded so already (upgraded to this release's schema) is kept as it is."""
    if reuse:
        db = open_database(url)
        claim_scratch(db, BENCH)
        if seeded_already(db, count, days):
            upgrade(db.engine)  # indexes added since it was seeded
            _settle(db, settings.reporting.timezone)
            click.echo(f"reusing {count:,} mentions over {days} days in "
                       f"{masked_url(db.engine.url.render_as_string())}")
            return db, _source_id(db)
        db.engine.dispose()
    db = _fresh_database(url)
    click.echo(f"seeding {count:,} mentions over {days} days into {masked_url(db.engine.url.render_as_string())}…")
    started = time.perf_counter()
    source_id = seed(db, settings, count, days)
    _settle(db, settings.reporting.timezone)
    click.echo(f"  seeded in {time.perf_counter() - started:.1f} s")
    return db, source_id


def _settle(db: Database, timezone: str) -> None:
    """Statistics, as the collector refreshes them hourly; on PostgreSQL also the visibility map
    (VACUUM), as autovacuum sets it after a bulk insert: index-only scans read the table without it.
    The seed's queue count changes and posts are folded first, as the collector's ``queue:counts``
    and ``summary:fold`` jobs do (the wall reads the hourly rollups of the latter)."""
    from models.summary_fold import fold

    with db.write.begin() as session:
        queue_counts.fold(session)
    fold(db, timezone)
    analyze(db)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
