"""The answering side's tables: the pre-approved library (templates and their versions) and the
outbox (replies and posts). They share `models.tables`' metadata (migrations, tests' resets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables import Base

TEMPLATE_STATES: tuple[str, ...] = ("draft", "approved", "rejected", "retired")


class Template(Base):
    """A message of the pre-approved library, in one language: its content lives in its versions."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("key", "language", name="uq_templates_key_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # e.g. "blocked-card": the English and French share it
    language: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(10))  # reply (to a mention) or post (a new post)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class TemplateVersion(Base):
    """One version of a template. A version is never edited: editing or retiring makes a new one.
    Drafted by one person, approved (or rejected) by compliance, never by its author; only the
    newest approved version of a template, unexpired and not followed by a retirement, is used."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_template_versions_version"),
                      Index("ix_template_versions_status", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))  # draft, approved, rejected, retired
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    teams: Mapped[list[Any]] = mapped_column(default=list)  # teams that may use it (empty: none)
    networks: Mapped[list[Any]] = mapped_column(default=list)  # networks it fits (empty: every one)
    expires_at: Mapped[datetime | None]
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

    template: Mapped[Template] = relationship()


REPLY_STATES: tuple[str, ...] = ("pending", "rejected", "expired", "queued", "sending", "sent", "failed", "unknown",
                                 "cancelled", "elsewhere")


class Reply(Base):
    """A reply to a mention, or a new post from the firm's account: the outbox row.

    Stored with its final text before any request is made. ``pending`` waits for compliance,
    ``queued`` waits for the sender (at ``send_after`` for a scheduled post), ``sending`` is
    claimed by a sender (its request may be in flight), ``sent`` holds the platform's id and URL,
    ``unknown`` is a send whose outcome could not be known and that a person must check (it is
    never simply retried), ``elsewhere`` records an answer made outside Vigie. ``approved_sha256``
    is the hash of the text compliance approved; the sender refuses a text whose hash differs."""

    __tablename__ = "replies"
    __table_args__ = (
        Index("ix_replies_status_due", "status", "next_attempt_at"),
        Index("ix_replies_item", "queue_item_id", "id"),
        Index("ix_replies_mention", "mention_id"),  # a deleted mention's foreign-key check
        Index("ix_replies_status_submitted", "status", "submitted_at"),
        Index("ix_replies_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # reply, post, elsewhere
    queue_item_id: Mapped[int | None] = mapped_column(ForeignKey("queue_items.id"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))
    source_name: Mapped[str | None] = mapped_column(String(100))  # the source it goes out through
    network: Mapped[str] = mapped_column(String(40))
    team: Mapped[str | None] = mapped_column(String(40))
    brand: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_versions.id"))
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the placeholders' values
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(16))  # the policy that applied: none, template_only, all
    needs_approval: Mapped[bool]
    screening: Mapped[list[Any]] = mapped_column(default=list)  # [{term, found}] of outbound screening
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]  # when it began to wait for approval (the approval SLA)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    approved_sha256: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    decided_by: Mapped[str | None] = mapped_column(String(200))  # who rejected it
    send_after: Mapped[datetime | None]  # a scheduled post: not before
    idempotency_key: Mapped[str] = mapped_column(String(32), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]
    sending_since: Mapped[datetime | None]
    sending_by: Mapped[str | None] = mapped_column(String(200))
    # An earlier attempt may have posted it (a timeout, a crash mid-send) on a network without
    # idempotency: look for the post before sending again, never send blind.
    check_first: Mapped[bool] = mapped_column(default=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_id: Mapped[str | None] = mapped_column(String(200))
    platform_url: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    sent_sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)  # answered elsewhere: the note; unknown: who checked and what
