"""a firm's own sentiment model's scores (VIGIE_SENTIMENT_MODEL): one row per re-scored post, beside
the post and its shipped-model score, saying which decided and what that changed

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_scores",
        sa.Column("mention_id", sa.Integer(), sa.ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("label", sa.String(10), nullable=False),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(10), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
    )
    op.create_index("ix_model_scores_scored_at", "model_scores", ["scored_at"])


def downgrade() -> None:
    op.drop_index("ix_model_scores_scored_at", table_name="model_scores")
    op.drop_table("model_scores")
