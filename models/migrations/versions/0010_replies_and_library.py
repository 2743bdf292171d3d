"""the pre-approved library (templates and their versions), replies (the outbox) and audit subjects

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(60), nullable=True))
        batch_op.create_index("ix_audit_events_subject", ["subject", "id"])
        batch_op.create_index("ix_audit_events_action_at", ["action", "at"])
    op.create_table(
        "templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("key", "language", name="uq_templates_key_language"),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("template_id", sa.Integer, sa.ForeignKey("templates.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("teams", sa.JSON, nullable=False),
        sa.Column("networks", sa.JSON, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.UniqueConstraint("template_id", "version", name="uq_template_versions_version"),
    )
    op.create_index("ix_template_versions_status", "template_versions", ["status", "id"])
    op.create_table(
        "replies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("queue_item_id", sa.Integer, sa.ForeignKey("queue_items.id"), nullable=True),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("mentions.id"), nullable=True),
        sa.Column("source_name", sa.String(100), nullable=True),
        sa.Column("network", sa.String(40), nullable=False),
        sa.Column("team", sa.String(40), nullable=True),
        sa.Column("brand", sa.String(200), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("template_version_id", sa.Integer, sa.ForeignKey("template_versions.id"), nullable=True),
        sa.Column("values", sa.JSON, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("needs_approval", sa.Boolean, nullable=False),
        sa.Column("screening", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("submitted_at", sa.DateTime, nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", sa.DateTime, nullable=True),
        sa.Column("approved_sha256", sa.String(64), nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("send_after", sa.DateTime, nullable=True),
        sa.Column("idempotency_key", sa.String(32), nullable=False, unique=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=True),
        sa.Column("first_attempt_at", sa.DateTime, nullable=True),
        sa.Column("sending_since", sa.DateTime, nullable=True),
        sa.Column("sending_by", sa.String(200), nullable=True),
        sa.Column("check_first", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("platform_id", sa.String(200), nullable=True),
        sa.Column("platform_url", sa.Text, nullable=True),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.Column("sent_sha256", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_replies_status_due", "replies", ["status", "next_attempt_at"])
    op.create_index("ix_replies_item", "replies", ["queue_item_id", "id"])
    op.create_index("ix_replies_status_submitted", "replies", ["status", "submitted_at"])
    op.create_index("ix_replies_updated", "replies", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_table("replies")
    op.drop_table("template_versions")
    op.drop_table("templates")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_index("ix_audit_events_action_at")
        batch_op.drop_index("ix_audit_events_subject")
        batch_op.drop_column("subject")
