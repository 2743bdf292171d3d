"""corrections: a person marking an item's sentiment, a risk flag or its team wrong (one click on the
item page), for the leads' list and for retraining the shipped model

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("queue_item_id", sa.Integer(), sa.ForeignKey("queue_items.id"), nullable=False),
        sa.Column("mention_id", sa.Integer(), sa.ForeignKey("mentions.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("wrong", sa.String(100), nullable=False),
        sa.Column("right", sa.String(100), nullable=True),
        sa.Column("team", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_corrections_team_at", "corrections", ["team", "created_at"])
    op.create_index("ix_corrections_item", "corrections", ["queue_item_id"])
    op.create_index("ix_corrections_mention", "corrections", ["mention_id"])


def downgrade() -> None:
    op.drop_index("ix_corrections_mention", table_name="corrections")
    op.drop_index("ix_corrections_item", table_name="corrections")
    op.drop_index("ix_corrections_team_at", table_name="corrections")
    op.drop_table("corrections")
