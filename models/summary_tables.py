"""The daily summary's running figures (`models.summary_fold` writes them, `models.summary_counts`
reads them): per local day, counts by (team, network, measure, value), and what was folded.

- ``summary_counts``: one row per (day, team, network, measure, value), ``n`` items or mentions.
  A dimension a measure does not need is ``''`` (the SLA measures have no network, the sentiment
  counts no team). Minutes (first response, resolution) are counted in fixed buckets
  (`models.summary_fold.bucket`); an open item is counted under its due minute, so that the
  reader judges it breached or pending at its own ``now``.
- ``summary_folded_items``: each queue item as it was last folded, so that a later change (claimed,
  resolved, rerouted) takes back what it had added before adding its new figures; indexed by its
  times, for the partial hour a day in progress is compared up to (`models.summary_counts`), and
  by priority and time with its author's audience, for the day's notable items.
- ``summary_folded_mentions``: the mentions folded (posts never change once stored), with the time
  a post was seen when that was in a later hour than its creation (collected late: ``seen_at``).
- ``summary_fold_marks``: where each fold stopped (restart-safe) and the time zone of the days.
- ``wall_hour_counts`` and ``wall_brand_hours``: the wall's rollups, folded with the mentions (the
  same mark: a post is folded into both at once), per UTC hour: original posts per (network,
  sentiment label) with the sum of their scores, and per (brand, competitor). `models.wall_rollup`
  reads them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base


class SummaryCount(Base):
    __tablename__ = "summary_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(40), primary_key=True)
    network: Mapped[str] = mapped_column(String(40), primary_key=True)
    measure: Mapped[str] = mapped_column(String(12), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    n: Mapped[int]


class SummaryFoldedItem(Base):
    __tablename__ = "summary_folded_items"

    item_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    network: Mapped[str] = mapped_column(String(40))
    team: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    priority_rank: Mapped[int]
    rule_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    author_followers: Mapped[int | None]  # the post's author's: the day's notable items, widest audience first

    __table_args__ = (
        Index("ix_summary_folded_items_created_at", "created_at"),
        # the day's notable items (`models.summary_counts.folded_notable`): per rank, the day's range,
        # the audience read from the index itself, then sorted
        Index("ix_summary_folded_items_notable", "priority_rank", "created_at", "author_followers", "item_id"),
        Index("ix_summary_folded_items_claimed_at", "claimed_at"),
        Index("ix_summary_folded_items_resolved_at", "resolved_at"),
        Index("ix_summary_folded_items_due_at", "due_at"),
    )


class SummaryFoldedMention(Base):
    __tablename__ = "summary_folded_mentions"

    mention_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime | None]  # collected in a later hour than created

    __table_args__ = (Index("ix_summary_folded_mentions_seen_at", "seen_at"),)


class SummaryFoldMark(Base):
    __tablename__ = "summary_fold_marks"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)  # "items" or "mentions"
    timezone: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime | None]  # items: the last updated_at folded; mentions: unused
    last_id: Mapped[int] = mapped_column(default=0)
    folded_at: Mapped[datetime | None]  # when a fold last ran to its end (the figures' freshness)


class WallHourCount(Base):
    __tablename__ = "wall_hour_counts"

    hour: Mapped[datetime] = mapped_column(primary_key=True)  # UTC, the start of the hour
    network: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int]
    score_sum: Mapped[float] = mapped_column(Float)


class WallBrandHour(Base):
    __tablename__ = "wall_brand_hours"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    brand: Mapped[str] = mapped_column(String(200), primary_key=True)
    competitor: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int]
