"""the archive: records, contents, pending, segments and seals (made unchangeable by triggers),
legal holds, erasure requests, reviews, the polls' counts and verifications

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

RecordId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# What may never change: (table, operations refused).
FROZEN = (("archive_records", ("UPDATE", "DELETE")), ("archive_contents", ("UPDATE",)),
          ("archive_segments", ("UPDATE", "DELETE")), ("archive_seals", ("UPDATE", "DELETE")))


def _triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION vigie_archive_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'vigie archive: % on % refused: records are never changed', TG_OP, TG_TABLE_NAME;
            END $$""")
        for table, operations in FROZEN:
            op.execute(f"CREATE TRIGGER {table}_frozen BEFORE {' OR '.join(operations)} ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION vigie_archive_refuse()")
            # TRUNCATE fires no row trigger: refused apart (a purge never truncates)
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION vigie_archive_refuse()")
        return
    for table, operations in FROZEN:
        for operation in operations:
            op.execute(f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} BEGIN "
                       f"SELECT RAISE(ABORT, 'vigie archive: {operation} on {table} refused: records are never "
                       "changed'); END")


def upgrade() -> None:
    op.create_table(
        "archive_records",
        sa.Column("id", RecordId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("retention_class", sa.String(40), nullable=False),
        sa.Column("retain_until", sa.DateTime, nullable=False),
        sa.Column("mention_id", sa.Integer, nullable=True),
        sa.Column("source_id", sa.Integer, nullable=True),
        sa.Column("author", sa.String(300), nullable=True),
        sa.Column("network", sa.String(40), nullable=True),
        sa.Column("brand", sa.String(200), nullable=True),
        sa.Column("team", sa.String(40), nullable=True),
    )
    for name, columns in (("subject", ["subject", "id"]), ("kind", ["kind", "id"]),
                          ("mention", ["mention_id", "id"]), ("author", ["author", "id"]),
                          ("retain", ["retain_until", "id"]), ("at", ["at", "id"])):
        op.create_index(f"ix_archive_records_{name}", "archive_records", columns)
    op.create_table(
        "archive_contents",
        sa.Column("record_id", RecordId, sa.ForeignKey("archive_records.id"), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "archive_pending",
        sa.Column("record_id", RecordId, sa.ForeignKey("archive_records.id"), primary_key=True,
                  autoincrement=False),
    )
    op.create_table(
        "archive_segments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.CheckConstraint("seq >= 1", name="ck_archive_segments_seq"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_record_id", RecordId, nullable=False),
        sa.Column("last_record_id", RecordId, nullable=False),
        sa.Column("sealed_at", sa.DateTime, nullable=False),
        sa.Column("sealed_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "archive_seals",
        sa.Column("record_id", RecordId, sa.ForeignKey("archive_records.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("segment_id", sa.Integer, sa.ForeignKey("archive_segments.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_archive_seals_segment", "archive_seals", ["segment_id", "position"])
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("matter", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", sa.DateTime, nullable=False),
        sa.Column("released_by", sa.String(200), nullable=True),
        sa.Column("released_at", sa.DateTime, nullable=True),
        sa.Column("release_reason", sa.Text, nullable=True),
    )
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("erased_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_erasure_requests_author", "erasure_requests", ["author"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mention_id", sa.Integer, nullable=True),
        sa.Column("reply_id", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("network", sa.String(40), nullable=True),
        sa.Column("team", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime, nullable=True),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
    )
    op.create_index("ix_reviews_open", "reviews", ["reviewed_at", "due_at"])
    op.create_index("ix_reviews_created", "reviews", ["created_at", "id"])
    op.create_table(
        "source_polls",
        sa.Column("id", RecordId, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("returned", sa.Integer, nullable=False),
        sa.Column("stored", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("known", sa.Integer, nullable=False),
    )
    op.create_index("ix_source_polls_source", "source_polls", ["source_id", "id"])
    op.create_table(
        "archive_verifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("segments", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
    )
    _triggers()


def downgrade() -> None:
    for table in ("archive_verifications", "source_polls", "reviews", "erasure_requests", "legal_holds",
                  "archive_seals", "archive_segments", "archive_pending", "archive_contents", "archive_records"):
        op.drop_table(table)
