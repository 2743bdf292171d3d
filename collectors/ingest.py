"""The one ingest entry point: polled pages, pushed deliveries and imported files alike.

`ingest` scores a parsed batch and stores it: the runner calls it for each fetched page, the
webhook route (`dashboard/hooks.py`) for each delivery to a push source, `vigie import`
(`collectors.importer`) for each batch of lines. Its rules are the crash-safety of the whole
collector:

* posts are stored in chunks of ``chunk_size``, one write transaction each (`store_batch`);
* the cursor moves with the batch's last chunk only, so it never runs ahead of what is stored:
  a crash before it replays the batch, and the chunks already stored are skipped by external id;
* items that could not be read or scored are kept raw in `rejected_items`, with the last chunk;
* each chunk writes the page's counts (`SourcePoll`: returned, stored, rejected, already known) in
  its own transaction; the last chunk's ``returned`` is what the platform sent less the earlier
  chunks' posts, so a post lost between parsing and storing shows as a poll that does not add up
  (`vigie archive reconcile`);
* with a lease, each chunk checks (and extends) it, so two collectors never interleave one
  source's pages (`LeaseLost`).

`record_health` writes a run's outcome on the source's row (shown on the sources page); it is
the one health recorder, for polls, deliveries and imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from collectors.clean import clean_post, clean_rejected, rejected_post
from collectors.pipeline import Enriched, Enricher
from collectors.sources import REGISTRY, build_source
from collectors.store import Lease, store_batch
from collectors.types import CollectorError, Parsed, PushSource, Rejected
from config.settings import Settings, SourceConfig
from models.db import Database
from models.tables import SourceRow, to_naive_utc, utcnow


@dataclass
class RunReport:
    source: str
    stored: int = 0
    queued: int = 0
    copies: int = 0
    skipped: int = 0  # already stored: posts (same id) and rejected items already kept (`store.rejected_digest`)
    rejected: int = 0  # unreadable items newly kept in rejected_items
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    leased: bool = True
    waiting_until: datetime | None = None  # not polled: the source asked us to wait, or is backing off
    retry_at: datetime | None = None  # set by a failure: no request before this time


def enrich_batch(enricher: Enricher, parsed: Parsed, collected_at: datetime) -> tuple[list[Enriched], list[Rejected]]:
    """Clean (`collectors.clean`: the one place text from outside is made storable) and score
    every post; one that cannot be kept or breaks scoring is kept raw with the parse rejects."""
    enriched: list[Enriched] = []
    rejected = [clean_rejected(r) for r in parsed.rejected]
    for post in parsed.posts:
        cleaned = clean_post(post)
        if isinstance(cleaned, Rejected):
            rejected.append(clean_rejected(cleaned))
            continue
        try:
            enriched.append(enricher.enrich(cleaned, collected_at))
        except Exception as exc:  # one post must not sink the batch
            reason = f"post {cleaned.external_id!r} could not be scored: {type(exc).__name__}: {exc}"
            rejected.append(clean_rejected(rejected_post(cleaned, cleaned.external_id, reason)))
    return enriched, rejected


def same_item_by_reason(parsed: Parsed) -> Parsed:
    """A polled page's rejected items, each known by its id and reason rather than its raw form:
    a platform's post carries counters (likes, scores, followers) that move between two reads of
    the same page, and a source that reads again (an overlap, a replayed page) must not keep the
    same bad post twice. Items without an id keep their raw form as their identity."""
    return Parsed(parsed.posts, [
        replace(r, identity={"reason": r.reason}) if r.identity is None and r.external_id else r
        for r in parsed.rejected
    ])


def ingest(
    db: Database,
    source_id: int,
    enricher: Enricher,
    parsed: Parsed,
    collected_at: datetime,
    report: RunReport,
    *,
    chunk_size: int | None,
    cursor: str | None = None,
    next_cursor: str | None = None,
    lease: Lease | None = None,
    retry_duplicates: bool = False,
    stamped_at: datetime | None = None,
) -> RunReport:
    """Score ``parsed`` and store it in chunks of ``chunk_size`` posts (None: one transaction),
    adding the counts to ``report`` as each chunk commits (the problems first, so a failure
    part-way still reports them) and returning it.

    ``cursor`` is the source's cursor before this batch (kept by the chunks before the last);
    ``next_cursor`` moves with the last chunk, together with the rejected items. A ``lease``
    is checked by every chunk. ``retry_duplicates``: a chunk that loses a race with a
    concurrent writer of the same posts (the unique (source, id) constraint) is retried once,
    and the retry skips them as duplicates (pushed deliveries, which hold no lease).
    ``stamped_at`` (the demo's history only): the rows' time instead of the clock's.
    """
    returned = len(parsed.posts) + len(parsed.rejected)  # what the platform sent, before cleaning and scoring
    enriched, rejected = enrich_batch(enricher, parsed, to_naive_utc(collected_at))
    report.problems.extend(r.reason for r in rejected)
    size = chunk_size or max(len(enriched), 1)
    chunks = [enriched[i : i + size] for i in range(0, len(enriched), size)] or [[]]
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        # Each chunk's poll row counts its posts; the last counts the rest of what was sent (its
        # posts, the unreadable items), so an item lost between parsing and storing shows there.
        share = returned - sum(len(c) for c in chunks[:-1]) if last else len(chunk)
        for attempt in range(2):
            try:
                with db.write.begin() as session:
                    result = store_batch(
                        session, source_id, chunk, next_cursor if last else cursor, lease, rejected if last else (),
                        to_naive_utc(stamped_at) if stamped_at is not None else None, share,
                    )
                break
            except IntegrityError:
                if attempt or not retry_duplicates:
                    raise
        report.stored += result.stored
        report.queued += result.queued
        report.copies += result.copies
        report.skipped += result.skipped + result.rejected_known
        report.rejected += result.rejected
    return report


def record_health(db: Database, name: str, report: RunReport) -> None:
    """Write a run's outcome on source ``name``'s row: its time and count, and either the error
    (one more consecutive failure) or success, with the rejected items as its last error."""
    now = utcnow()
    with db.write.begin() as session:
        row = session.scalars(select(SourceRow).where(SourceRow.name == name)).one()
        row.last_run_at = now
        row.items_last_run = report.stored
        if report.error is not None:
            row.last_error = report.error[:2000]
            row.last_error_at = now
            row.consecutive_failures = (row.consecutive_failures or 0) + 1
            row.not_before = report.retry_at and to_naive_utc(report.retry_at)
            return
        row.last_ok_at = now
        row.consecutive_failures = 0
        row.not_before = report.retry_at and to_naive_utc(report.retry_at)
        if report.problems:
            shown = "; ".join(report.problems[:5])
            row.last_error = f"{len(report.problems)} item(s) rejected (kept in rejected_items): {shown}"[:2000]
            row.last_error_at = now


def note_error(db: Database, name: str, error: str) -> None:
    """Show ``error`` as source ``name``'s last error without counting a failure (a refused
    delivery: anyone can send unsigned requests, the source itself is fine)."""
    with db.write.begin() as session:
        session.execute(update(SourceRow).where(SourceRow.name == name)
                        .values(last_error=error[:2000], last_error_at=utcnow()))


def source_row(db: Database, name: str, kind: str) -> tuple[int, str]:
    """The id and kind of source ``name``'s row, created with ``kind`` when missing."""
    for _ in range(3):
        with db.read() as session:
            found = session.execute(select(SourceRow.id, SourceRow.kind).where(SourceRow.name == name)).first()
        if found is not None:
            return int(found[0]), str(found[1])
        try:
            with db.write.begin() as session:
                session.add(SourceRow(name=name, kind=kind, consecutive_failures=0, items_last_run=0))
        except IntegrityError:  # another process created it between our read and write: read it
            continue
    raise CollectorError(f"source {name!r}: could not create its row")


def push_config(settings: Settings, name: str) -> SourceConfig | None:
    """The enabled source ``name`` if its registered kind is pushed to (a `PushSource`), else None."""
    cfg = next((c for c in settings.sources if c.name == name), None)
    if cfg is None or not cfg.enabled or not getattr(REGISTRY.get(cfg.kind), "push", False):
        return None
    return cfg


def build_push_source(cfg: SourceConfig) -> PushSource:
    """The push source for ``cfg`` (see `push_config`); a bad option raises CollectorError."""
    source = build_source(cfg)
    if not getattr(source, "push", False):
        raise CollectorError(f"source {cfg.name!r}: kind {cfg.kind!r} is polled, not pushed to", True)
    return source  # type: ignore[return-value]  # push is True: a PushSource
