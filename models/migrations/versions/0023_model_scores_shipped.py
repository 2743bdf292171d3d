"""where a firm's model decides a post's sentiment, the post's row carries the deciding label and
score (the wall, the daily summary and the spike watch count it) and the shipped model's move
beside the firm's, in model_scores

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_scores") as batch_op:
        batch_op.add_column(sa.Column("shipped_score", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("shipped_label", sa.String(10), nullable=True))


def downgrade() -> None:
    # The posts a firm's model decided get their shipped label back and, if there are any, the folded
    # counts are emptied: the next fold counts every post again as it then stands.
    decided = "SELECT mention_id FROM model_scores WHERE decided_by = 'model' AND shipped_label IS NOT NULL"
    for table in ("summary_counts", "summary_folded_items", "summary_folded_mentions", "summary_fold_marks",
                  "wall_hour_counts", "wall_brand_hours"):
        op.execute(f"DELETE FROM {table} WHERE EXISTS ({decided})")
    for column, kept in (("sentiment_label", "shipped_label"), ("sentiment_score", "shipped_score")):
        op.execute(f"UPDATE mentions SET {column} = (SELECT s.{kept} FROM model_scores s WHERE s.mention_id = "
                   f"mentions.id) WHERE id IN ({decided})")
    with op.batch_alter_table("model_scores") as batch_op:
        batch_op.drop_column("shipped_label")
        batch_op.drop_column("shipped_score")
