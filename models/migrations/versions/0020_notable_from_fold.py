"""the daily summary's notable items from the folded items: each keeps its post's author's audience,
indexed with its priority and time, so that a day's widest-audience critical and high items are read
from the index instead of joining every such item of the day to its post

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("summary_folded_items", sa.Column("author_followers", sa.Integer(), nullable=True))
    # The items folded so far take their post's figure now (a post never changes once stored); the
    # counts stay as they are (the audience is not counted).
    op.execute("UPDATE summary_folded_items SET author_followers = (SELECT m.author_followers FROM queue_items q"
               " JOIN mentions m ON m.id = q.mention_id WHERE q.id = summary_folded_items.item_id)")
    op.create_index("ix_summary_folded_items_notable", "summary_folded_items",
                    ["priority_rank", "created_at", "author_followers", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_summary_folded_items_notable", table_name="summary_folded_items")
    with op.batch_alter_table("summary_folded_items") as batch_op:  # (no triggers on it to lose)
        batch_op.drop_column("author_followers")
