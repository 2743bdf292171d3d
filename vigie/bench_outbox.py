"""`vigie bench outbox`: the answering path's figures, printed, never asserted in tests.

A scratch database (refused if it holds data the benchmarks did not create: `models.scratch`)
gets N demo mentions and an approved template. Then, timed apart:

* preview: `models.replies.check` (fill the placeholders, add the disclosure, count as the
  network counts, screen, decide the policy) for each item: what the compose box runs on every
  keystroke; p50 and p95 in milliseconds;
* compose: `models.replies.compose`, one transaction per reply (stored with its audit event);
* send: the `replies:send` job emptying the outbox through the demo network's writer (claim
  committed, one write, outcome recorded: three transactions and one file append per reply),
  beside its floor: the same writer called directly for the same number of posts, no database.
  The ratio says what the never-twice machinery costs per post.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import click
from sqlalchemy import select

from collectors.ingest import RunReport, ingest
from collectors.jobs.send_replies import run_send_replies
from collectors.pipeline import Enricher
from collectors.replies import Outgoing, writer_for
from collectors.runner import sync_sources
from collectors.types import Parsed
from config.effective import masked_url
from config.settings import Settings, SourceConfig
from models import library, outbox, replies
from models.db import open_database
from models.library import Draft
from models.migrate import upgrade
from models.reply_tables import REPLY_STATES
from models.tables import Base, Mention, QueueItem, SourceRow
from vigie.bench import BENCH, demo_posts
from vigie.common import claim_scratch

BODY = "Hello {{first_name}}, we are sorry about this. Your case is {{case_ref}}; we will call you today."


def run_outbox(settings: Settings, count: int, database_url: str) -> None:
    db = open_database(database_url)
    claim_scratch(db, BENCH)  # it drops every table: only its own database
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(db.engine)
    folder = Path(tempfile.mkdtemp(prefix="vigie-bench-outbox-"))
    source = SourceConfig("bench-demo", "demo", 60, True, {"network_path": str(folder / "network.jsonl")})
    floor_source = SourceConfig("bench-floor", "demo", 60, True, {"network_path": str(folder / "floor.jsonl")})
    settings = replace(settings, database_url=database_url, sources=(source,), notifications=(),
                       outbound=replace(settings.outbound, default_policy="none", rules=()))
    sync_sources(db, settings)
    click.echo(f"seeding {count:,} mentions and a template…")
    with db.read() as session:
        source_id = session.scalars(select(SourceRow.id).where(SourceRow.name == source.name)).one()
    ingest(db, source_id, Enricher(settings), Parsed(demo_posts(count)), library.utcnow(), RunReport("bench"),
           chunk_size=None)
    with db.write.begin() as session:
        version = library.create(session, "bench.author", "bench-case", "en", "reply",
                                 Draft("Case", "cases", BODY, settings.team_keys), settings.team_keys)
        library.decide(session, "bench.compliance", version.id, approve=True)
        version_id = version.id
        rows = session.execute(select(QueueItem, Mention).join(Mention, Mention.id == QueueItem.mention_id)
                               .order_by(QueueItem.id)).all()
        targets = [replies.Target("reply", m.network, source.name, q.team, m.brand, m.language, q.id, m.id)
                   for q, m in rows]
    rules = replies.compile_rules(settings)
    values = {"first_name": "Ana", "case_ref": "AUR-123456"}

    timings = []
    with db.read() as session:
        for target in targets:
            start = time.perf_counter()
            replies.check(session, rules, target, None, version_id, values)
            timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    for target in targets:
        with db.write.begin() as session:
            replies.compose(session, rules, "bench.agent", target, None, version_id, values)
    t_compose = time.perf_counter() - start

    start = time.perf_counter()
    while True:
        report = run_send_replies(db, settings)
        if not report.sent and not report.retried:
            break
    t_send = time.perf_counter() - start
    with db.read() as session:
        states = outbox.counts(session, REPLY_STATES)

    writer = writer_for(floor_source)
    assert writer is not None
    start = time.perf_counter()
    for n, target in enumerate(targets):
        writer.send(Outgoing(n, "reply", BODY, uuid.uuid4().hex, str(target.mention_id), None, 1, None))
    t_floor = time.perf_counter() - start
    sent = states.get("sent", 0)
    n = len(targets)
    p50, p95 = statistics.median(timings) * 1000, statistics.quantiles(timings, n=20)[18] * 1000
    where = masked_url(db.engine.url.render_as_string())
    click.echo(f"outbox benchmark: {n:,} replies, {db.engine.dialect.name} ({where})")
    click.echo(f"  preview   p50 {p50:6.2f} ms  p95 {p95:6.2f} ms per check (target p95 <= 50 ms): "
               f"{'met' if p95 <= 50 else 'NOT met'}")
    click.echo(f"  compose   {t_compose:6.2f} s  {n / t_compose:8,.0f} replies/s stored (one transaction each)")
    click.echo(f"  send      {t_send:6.2f} s  {sent / t_send:8,.0f} replies/s through the outbox "
               f"({sent:,} sent, states {dict(sorted(states.items()))})")
    click.echo(f"  floor     {t_floor:6.2f} s  {n / t_floor:8,.0f} posts/s, the writer alone")
    click.echo(f"  ratio     {t_send / t_floor:6.1f}x the floor; target >= 50 replies/s sent: "
               f"{'met' if sent / t_send >= 50 else 'NOT met'}")
    db.engine.dispose()
