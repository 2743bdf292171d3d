"""when a stored daily summary's messages were written to the outbox

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daily_summaries") as batch_op:
        batch_op.add_column(sa.Column("announced_at", sa.DateTime(), nullable=True))
    # every summary stored so far was stored by the job together with its messages
    op.execute("UPDATE daily_summaries SET announced_at = computed_at")


def downgrade() -> None:
    with op.batch_alter_table("daily_summaries") as batch_op:
        batch_op.drop_column("announced_at")
