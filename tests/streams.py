"""Streams for tests: the demo source's seeded posts replayed through the real pipeline into a
database over a chosen stretch of time, and bursts injected into it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from collectors.pipeline import Enricher
from collectors.sources import build_polled_source
from collectors.store import store_batch
from collectors.types import RawPost
from config.settings import Settings, SourceConfig
from models.db import Database
from models.tables import Mention, QueueItem, utcnow
from tests.kit import source_id, store_posts

STREAM_SOURCE = "demo"  # the source of the shipped sources.yaml


def replay_demo(db: Database, settings: Settings, end: datetime, hours: float, rate_per_minute: float,
                seed: int = 7, shift: timedelta = timedelta(0), lag: timedelta | None = None,
                **options: object) -> int:
    """Store the demo stream of ``seed`` due between ``end - hours`` and ``end`` (its duplicates and
    reposts included), each post's time moved by ``shift``; the number of posts served.

    By default every post is collected at ``end``. With ``lag``, each is collected that long after
    it was posted, as a live collector would have, and its queue item is stamped then (its SLA
    deadlines counted from then): a history of several days with queues as they were."""
    source = build_polled_source(SourceConfig(STREAM_SOURCE, "demo", 1.0, True, {
        "seed": seed, "rate_per_minute": rate_per_minute, "backfill_hours": hours, "page_size": 2000, **options}))
    sid = source_id(db, settings, STREAM_SOURCE)
    enricher = Enricher(settings)
    cursor: str | None = None
    served = 0
    started = utcnow()
    while True:
        page = source.fetch(cursor, end.replace(tzinfo=UTC))
        posts = [replace(p, created_at=p.created_at + shift) for p in source.parse(page.payload).posts]
        collected = end.replace(tzinfo=None)
        enriched = [enricher.enrich(p, collected if lag is None else p.created_at.replace(tzinfo=None) + lag)
                    for p in posts]
        with db.write.begin() as s:
            store_batch(s, sid, enriched, None)
            if lag is not None:  # the store stamps items with the clock: put them at their collection time
                s.execute(update(QueueItem).where(QueueItem.created_at >= started).values(
                    created_at=select(Mention.collected_at).where(Mention.id == QueueItem.mention_id)
                    .scalar_subquery(),
                    updated_at=select(Mention.collected_at).where(Mention.id == QueueItem.mention_id)
                    .scalar_subquery()))
        served += len(posts)
        cursor = page.next_cursor
        if not page.has_more:
            return served


def inject(db: Database, settings: Settings, texts: Sequence[str], start: datetime, seconds: float,
           network: str = "x", prefix: str = "burst") -> list[str]:
    """Store one post per text, spread evenly over ``seconds`` from ``start``; their external ids."""
    step = seconds / max(1, len(texts))
    posts = [RawPost(f"{prefix}-{start:%H%M%S}-{i}", network, text,
                     (start + timedelta(seconds=i * step)).replace(tzinfo=UTC), None,
                     f"@{prefix}{i}", f"Burst {i}", 50)
             for i, text in enumerate(texts)]
    store_posts(db, settings, posts, source=STREAM_SOURCE, collected_at=start.replace(tzinfo=None))
    return [p.external_id for p in posts]


_OUTAGE = (
    "Aurelia app down again, cannot log in and my card payment failed. Terrible service.",
    "The Aurelia Bank app has been down for an hour, outage again, useless and awful.",
    "Aurelia Bank outage: card declined at the shop, app not working, furious.",
    "Is the Aurelia app down for everyone? Outage, cannot log in, this is a disgrace.",
)
_CLOSERS = ("Fix it now!", "Third time this month.", "Unacceptable.", "Nobody answers the phone.",
            "I want my money.", "Switching banks.", "Stuck at the till.", "Rent is due today.",
            "What a joke.", "Shame on you.", "Still waiting.", "Never again.")


def outage_complaints(count: int) -> list[str]:
    """``count`` different angry posts about an Aurelia Bank outage (no two share a text)."""
    out = []
    for i in range(count):
        text = f"{_OUTAGE[i % len(_OUTAGE)]} {_CLOSERS[(i // len(_OUTAGE)) % len(_CLOSERS)]}"
        round_ = i // (len(_OUTAGE) * len(_CLOSERS))
        out.append(text if round_ == 0 else f"{text} (again, {round_ + 1} times)")
    return out
