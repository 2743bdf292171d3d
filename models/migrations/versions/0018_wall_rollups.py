"""the wall's hourly rollups (posts per network and sentiment label, per brand), folded with the
daily summary's mentions; the mentions' fold starts again so that the history is folded into them

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_MENTION_MEASURES = "('sentiment', 'flag', 'copies')"  # models.summary_fold.mention_keys


def upgrade() -> None:
    op.create_table(
        "wall_hour_counts",
        sa.Column("hour", sa.DateTime(), primary_key=True),
        sa.Column("network", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(10), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
    )
    op.create_table(
        "wall_brand_hours",
        sa.Column("hour", sa.DateTime(), primary_key=True),
        sa.Column("brand", sa.String(200), primary_key=True),
        sa.Column("competitor", sa.Boolean(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    # The posts already folded into the summary's counts are folded again, into both at once (the
    # next ``summary:fold`` run; until then the summary reads item by item: its marks are not fresh).
    op.execute(f"DELETE FROM summary_counts WHERE measure IN {_MENTION_MEASURES}")
    op.execute("DELETE FROM summary_folded_mentions")
    op.execute("DELETE FROM summary_fold_marks WHERE name = 'mentions'")


def downgrade() -> None:
    op.drop_table("wall_brand_hours")
    op.drop_table("wall_hour_counts")
