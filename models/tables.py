"""The shared database: typed SQLAlchemy 2 models.

Times are stored as naive UTC (`utcnow()`), the same on SQLite and PostgreSQL, so
that comparisons and indexes behave identically on both. Schema changes go through
Alembic (`models/migrations/versions/`); `vigie db upgrade` applies them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

OPEN_STATUSES: tuple[str, ...] = ("new", "claimed")  # the others: resolved, dismissed
CLOSED_STATUSES: tuple[str, ...] = ("resolved", "dismissed")
ROLES: tuple[str, ...] = ("operator", "agent", "lead", "compliance", "manager", "admin")


def utcnow() -> datetime:
    """Naive UTC now: the one time convention of the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SourceRow(Base):
    """A configured source: its cursor (with conditional-GET validators where used), health and lease."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    cursor: Mapped[str | None] = mapped_column(Text)
    last_run_at: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    items_last_run: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    # No request to this source before this time: the server's Retry-After, or backoff after failures.
    not_before: Mapped[datetime | None]


class Mention(Base):
    """One public post, scored. Unique per (source, external_id): replays store nothing twice."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_mentions_source_external"),
        Index("ix_mentions_created_at", "created_at"),
        Index("ix_mentions_cluster_key", "cluster_key"),
        Index("ix_mentions_text_key", "text_key"),
        Index("ix_mentions_link_key", "link_key", sqlite_where=text("link_key IS NOT NULL"),
              postgresql_where=text("link_key IS NOT NULL")),
        # The wall's windows (counts, sentiment, networks, brands of an hour or a day) from the index alone.
        Index("ix_mentions_window", "created_at", "network", "sentiment_label", "sentiment_score", "brand",
              "is_competitor", "duplicate_of_id", sqlite_where=text("duplicate_of_id IS NULL"),
              postgresql_where=text("duplicate_of_id IS NULL")),
        # An original's copies (the item page), and the foreign key's check when mentions are deleted
        # (retention): without it, each deleted row scanned the whole table for copies pointing at it.
        Index("ix_mentions_duplicate_of", "duplicate_of_id", sqlite_where=text("duplicate_of_id IS NOT NULL"),
              postgresql_where=text("duplicate_of_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    network: Mapped[str] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(Text)
    author_handle: Mapped[str | None] = mapped_column(String(200))
    author_name: Mapped[str | None] = mapped_column(String(300))
    author_followers: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    collected_at: Mapped[datetime]
    sentiment_score: Mapped[float]
    sentiment_label: Mapped[str] = mapped_column(String(10))
    brand: Mapped[str | None] = mapped_column(String(200))
    is_competitor: Mapped[bool] = mapped_column(default=False)
    risk_flags: Mapped[list[Any]] = mapped_column(default=list)
    risk_terms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[str] = mapped_column(String(10))
    cluster_key: Mapped[str] = mapped_column(String(40))  # same author, same words (any network)
    text_key: Mapped[str | None] = mapped_column(String(40))  # same words, long enough to be one post
    link_key: Mapped[str | None] = mapped_column(String(40))  # the same outbound link
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))

    source: Mapped[SourceRow] = relationship()
    queue_item: Mapped[QueueItem | None] = relationship(back_populates="mention")


class QueueItem(Base):
    """A mention's place in a team queue, with the rule that put it there and why."""

    __tablename__ = "queue_items"
    __table_args__ = (
        Index("ix_queue_items_updated_at_id", "updated_at", "id"),  # live pages: changes since a position
        # Counts per (status, team), read from the index alone; the SLA lists, walked in due order.
        Index("ix_queue_items_open_due", "status", "team", "due_at", "priority_rank"),
        Index("ix_queue_items_open_age", "status", "team", "created_at"),  # unassigned items, oldest first
        Index("ix_queue_items_escalated", "status", "team", "escalated_at"),  # open escalations
        Index("ix_queue_items_created_at", "created_at"),  # newest critical items
        Index("ix_queue_items_claimed", "claimed_at", "team", "created_at"),  # first responses, index alone
        # The triage workload (claimed items per team and assignee), from this partial index alone.
        Index("ix_queue_items_claimed_load", "team", "assignee", "claimed_at", "due_at", "status",
              sqlite_where=text("status = 'claimed'"), postgresql_where=text("status = 'claimed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), unique=True)
    team: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="new")
    priority_rank: Mapped[int]
    assignee: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime]
    rule_id: Mapped[str] = mapped_column(String(100))
    explanation: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    copy_count: Mapped[int] = mapped_column(default=0, server_default="0")  # copies seen on other networks
    # The SLA: at_risk_at is when the remaining business time falls under the team's at-risk share.
    at_risk_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]  # first claim: the first response
    escalated_at: Mapped[datetime | None]  # escalated to the team's lead (by a person or the SLA watch)
    escalation_reason: Mapped[str | None] = mapped_column(Text)

    mention: Mapped[Mention] = relationship(back_populates="queue_item")


# A team's queue in display order (priority, newest first), walked without sorting.
Index("ix_queue_items_team_queue", QueueItem.team, QueueItem.priority_rank, QueueItem.created_at.desc())


class QueueCount(Base):
    """Queue items per (team, status, critical or not), as folded from ``queue_count_changes`` by the
    ``queue:counts`` job (models/queue_counts.py). The live pages read the open counts from these few
    rows plus the changes not yet folded, instead of counting every open item on each change."""

    __tablename__ = "queue_counts"

    team: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    critical: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int]


class QueueCountChange(Base):
    """A +1 or -1 on one (team, status, critical) count, inserted by the database triggers on
    ``queue_items`` (migration 0016) in the writer's own statement: insert-only, so writers never
    wait on a shared counter row. Never written by the application; folded and deleted by the job."""

    __tablename__ = "queue_count_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    critical: Mapped[bool]
    n: Mapped[int]


class RejectedItem(Base):
    """An item a source sent that could not be read or scored, kept raw for an operator to see."""

    __tablename__ = "rejected_items"
    __table_args__ = (Index("ix_rejected_items_source_at", "source_id", "at"),
                      Index("ix_rejected_items_source_digest", "source_id", "digest", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the item's id and raw form: the same item sent again is not kept twice
    # (rows kept before revision 0009 have none)
    digest: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # JSON text of what the source sent
    at: Mapped[datetime]


class AuditEvent(Base):
    """Who did what to which item, when, with the state before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_item", "queue_item_id", "at"), Index("ix_audit_events_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    queue_item_id: Mapped[int | None] = mapped_column(ForeignKey("queue_items.id"))
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    # What the event is about when it is not a queue item's state: "reply:12", "template:3"
    # (replies and templates carry their own before/after; item chains ignore these events).
    subject: Mapped[str | None] = mapped_column(String(60))


Index("ix_audit_events_subject", AuditEvent.subject, AuditEvent.id)
Index("ix_audit_events_action_at", AuditEvent.action, AuditEvent.at)  # the newest decisions of each kind


class User(Base):
    """A person who signs in: a role, the teams it works for, an argon2 password hash (none for
    accounts that sign in only through OpenID Connect). ``session_epoch`` moves when the password
    changes or the account is disabled: every session signed before it ends."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    teams: Mapped[list[Any]] = mapped_column(default=list)
    password_hash: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    session_epoch: Mapped[int] = mapped_column(default=0)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]  # no longer set: sign-ins are slowed down instead (models/throttle.py)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # The OpenID Connect identity bound to this account by an admin (`vigie users link-oidc`): single
    # sign-on matches these two and nothing else (a name or e-mail claim can be changed by its holder).
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    # What the interface, notifications and e-mails speak to this person, and their clock (NULL: the
    # browser's language, the firm's time zone). i18n/, dashboard/reader.py.
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),)


class KioskToken(Base):
    """A revocable read-only sign-in for a wall screen. Only the token's SHA-256 is stored."""

    __tablename__ = "kiosk_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Presence(Base):
    """Who has an item open right now: refreshed by the item page while it is shown."""

    __tablename__ = "presence"

    queue_item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime]


class Notification(Base):
    """An outgoing notification (SLA breach, critical item, escalation), written in the transaction
    that caused it and delivered afterwards by the collector's sender job (an outbox: a crash
    between the two loses nothing, a failing channel is retried and its error kept)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status", "status", "id"),
                      Index("ix_notifications_item", "queue_item_id",  # a deleted item's foreign-key check
                            sqlite_where=text("queue_item_id IS NOT NULL"),
                            postgresql_where=text("queue_item_id IS NOT NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(100))
    queue_item_id: Mapped[int | None] = mapped_column(ForeignKey("queue_items.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))  # a spike alert's message
    summary_day: Mapped[date | None]  # a daily summary's message: its PDF is attached when sent
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class Alert(Base):
    """A volume surge or sentiment drop found by the spike detector, for one scope ("all", a brand or
    a topic). One row per episode: while the condition holds (and until ``quiet_minutes`` after) the
    same row is updated, never a new one; ``mention_ids`` are the posts that triggered it."""

    __tablename__ = "alerts"
    __table_args__ = (
        # At most one open alert per (kind, scope, key), even with two collectors running the detector.
        Index("ux_alerts_open", "kind", "scope", "scope_key", unique=True,
              sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL")),
        Index("ix_alerts_last_seen", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # volume_surge, sentiment_drop
    scope: Mapped[str] = mapped_column(String(10))  # all, brand, topic
    scope_key: Mapped[str] = mapped_column(String(200))  # "" for all, the brand's name, the flag
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]  # the last run that found the condition
    closed_at: Mapped[datetime | None]
    window_minutes: Mapped[int]
    observed: Mapped[float]  # mentions in the window, or its negative share
    expected: Mapped[float]  # the baseline's
    z: Mapped[float]
    peak_observed: Mapped[float]
    mentions_in_window: Mapped[int]
    summary: Mapped[str] = mapped_column(Text)  # one plain line, as the wall and the message show it
    mention_ids: Mapped[list[Any]] = mapped_column(default=list)  # newest first, at most 20


class DailySummary(Base):
    """The managers' summary of one local day (`models.summary`), computed after midnight and kept."""

    __tablename__ = "daily_summaries"

    day: Mapped[date] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # when the job wrote the day's `daily_summary` messages (to every subscribed channel, maybe
    # none); None: not yet (stored by `vigie summary --store` first): the job sends it on its next run
    announced_at: Mapped[datetime | None]


# The archive's and operations' tables share this metadata (migrations, tests' resets).
from models import archive_tables as archive_tables  # noqa: E402
from models import judgement_tables as judgement_tables  # noqa: E402
from models import ops_tables as ops_tables  # noqa: E402
from models import reply_tables as reply_tables  # noqa: E402
from models import summary_tables as summary_tables  # noqa: E402
from models import throttle as throttle  # noqa: E402
