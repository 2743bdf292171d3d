"""the daily summary's running figures: per-day counts, what was folded, where the fold stopped

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_counts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("team", sa.String(40), primary_key=True),
        sa.Column("network", sa.String(40), primary_key=True),
        sa.Column("measure", sa.String(12), primary_key=True),
        sa.Column("value", sa.String(100), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_table(
        "summary_folded_items",
        sa.Column("item_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("network", sa.String(40), nullable=False),
        sa.Column("team", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "summary_folded_mentions",
        sa.Column("mention_id", sa.Integer(), primary_key=True, autoincrement=False),
    )
    op.create_table(
        "summary_fold_marks",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("folded_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("summary_fold_marks")
    op.drop_table("summary_folded_mentions")
    op.drop_table("summary_folded_items")
    op.drop_table("summary_counts")
