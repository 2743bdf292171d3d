"""rejected items are the same item by their id and raw form (a digest), not by id alone

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows kept before have no digest: an item they hold, sent again, is kept once more (once).
    with op.batch_alter_table("rejected_items") as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(64), nullable=True))
        # unique: two deliveries of one bad item at once cannot both keep it (rows without a
        # digest are distinct, as NULLs are in a unique index on SQLite and PostgreSQL)
        batch_op.create_index("ix_rejected_items_source_digest", ["source_id", "digest"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("rejected_items") as batch_op:
        batch_op.drop_index("ix_rejected_items_source_digest")
        batch_op.drop_column("digest")
