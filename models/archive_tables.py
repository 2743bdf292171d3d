"""The archive's tables: records for regulators, their seals, holds, erasure requests, reviews and
the polls' counts. `models.archive` is the one writer of records; nothing updates a record.

A record is two rows: `ArchiveRecord` (what it is, its SHA-256, its retention; never updated or
deleted, database triggers refuse it) and `ArchiveContent` (its canonical JSON; deleted only by
the purge once retention has passed and no hold stands, which leaves the first row as the
tombstone). `ArchivePending` lists the records written and not yet sealed: the sealer takes them
in id order into an `ArchiveSegment` (one `ArchiveSeal` per record, its primary key the record's,
so no record is ever sealed twice) and deletes them from the list in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base

# Records outnumber everything else (one per post, per action): a 64-bit id on PostgreSQL.
RecordId = BigInteger().with_variant(Integer(), "sqlite")

RECORD_KINDS: tuple[str, ...] = ("post", "event", "config", "hold", "erasure", "review", "purge", "anchor",
                                 "verification", "poll")


class ArchiveRecord(Base):
    """One record: what it is about, when, its hash and its retention. Never updated or deleted."""

    __tablename__ = "archive_records"
    __table_args__ = (
        Index("ix_archive_records_subject", "subject", "id"),
        Index("ix_archive_records_kind", "kind", "id"),
        Index("ix_archive_records_mention", "mention_id", "id"),
        Index("ix_archive_records_author", "author", "id"),
        Index("ix_archive_records_retain", "retain_until", "id"),
        Index("ix_archive_records_at", "at", "id"),
    )

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of RECORD_KINDS
    subject: Mapped[str] = mapped_column(String(80))  # "mention:12", "reply:3", "item:7", "hold:2", "config:routing"
    at: Mapped[datetime]  # when it was recorded (naive UTC)
    sha256: Mapped[str] = mapped_column(String(64))  # of the content's canonical JSON, UTF-8
    retention_class: Mapped[str] = mapped_column(String(40))
    retain_until: Mapped[datetime]
    # What holds, erasure requests and exports select on (None when it does not apply).
    mention_id: Mapped[int | None] = mapped_column(Integer)
    source_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(300))  # "network:handle" of the post's author
    network: Mapped[str | None] = mapped_column(String(40))
    brand: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(40))


class ArchiveContent(Base):
    """A record's content, as canonical JSON. Deleted by the purge only, never updated."""

    __tablename__ = "archive_contents"

    record_id: Mapped[int] = mapped_column(RecordId, ForeignKey("archive_records.id"), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class ArchivePending(Base):
    """A record written and not yet sealed."""

    __tablename__ = "archive_pending"

    record_id: Mapped[int] = mapped_column(RecordId, ForeignKey("archive_records.id"), primary_key=True,
                                           autoincrement=False)


class ArchiveSegment(Base):
    """Records sealed together: the Merkle root of their leaves, chained to the previous segment."""

    __tablename__ = "archive_segments"
    __table_args__ = (CheckConstraint("seq >= 1", name="ck_archive_segments_seq"),)  # the chain starts at 1

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)  # 1, 2, 3…: two sealers cannot both write the next one
    prev_hash: Mapped[str] = mapped_column(String(64))
    root: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int]
    first_record_id: Mapped[int] = mapped_column(RecordId)
    last_record_id: Mapped[int] = mapped_column(RecordId)
    sealed_at: Mapped[datetime]
    sealed_by: Mapped[str] = mapped_column(String(200))


class ArchiveSeal(Base):
    """Which segment holds a record, and where: one row per record, ever."""

    __tablename__ = "archive_seals"
    __table_args__ = (Index("ix_archive_seals_segment", "segment_id", "position"),)

    record_id: Mapped[int] = mapped_column(RecordId, ForeignKey("archive_records.id"), primary_key=True,
                                           autoincrement=False)
    segment_id: Mapped[int] = mapped_column(ForeignKey("archive_segments.id"))
    position: Mapped[int]


class LegalHold(Base):
    """A legal hold: the records its scope selects are never purged while it stands."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    # {"mention_ids": [...], "authors": [...], "sources": [...], "since": iso, "until": iso, "query": str}
    scope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime]
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(Text)


class ErasureRequest(Base):
    """A data-protection request about one author: restricted while retention runs, erased after."""

    __tablename__ = "erasure_requests"
    __table_args__ = (Index("ix_erasure_requests_author", "author"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author: Mapped[str] = mapped_column(String(300))  # "network:handle"
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12))  # restricted, erased
    erased_at: Mapped[datetime | None]


class Review(Base):
    """An item (or a reply) compliance must review after the fact, and the review once done."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_open", "reviewed_at", "due_at"),
        Index("ix_reviews_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int | None] = mapped_column(Integer)
    reply_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(60))  # "flag:fraud", "sample", "free_form"
    network: Mapped[str | None] = mapped_column(String(40))
    team: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    reviewer: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(20))  # no_issue, follow_up, escalate
    comment: Mapped[str | None] = mapped_column(Text)


class SourcePoll(Base):
    """What one fetched page (or delivery, or import batch) held and what became of it."""

    __tablename__ = "source_polls"
    __table_args__ = (Index("ix_source_polls_source", "source_id", "id"),)

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    returned: Mapped[int]  # items the platform sent (posts and unreadable items)
    stored: Mapped[int]
    rejected: Mapped[int]  # unreadable, newly kept in rejected_items
    known: Mapped[int]  # already stored or already kept


class ArchiveVerification(Base):
    """The outcome of one `vigie archive verify` (shown on the /archive page)."""

    __tablename__ = "archive_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(200))
    ok: Mapped[bool]
    records: Mapped[int]
    segments: Mapped[int]
    head_hash: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(Text)
