"""source wait (not_before; validators move to the cursor), cross-network cluster keys (text, link), copy count on queue items

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(), nullable=True))
        # Conditional-GET validators live in the cursor of the sources that use them, so that
        # they move only in the transaction that stores what the response held.
        batch_op.drop_column("etag")
        batch_op.drop_column("last_modified")
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.add_column(sa.Column("text_key", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("link_key", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_mentions_text_key", ["text_key"], unique=False)
        # Most posts carry no outbound link: a partial index stays small and costs those inserts nothing.
        batch_op.create_index("ix_mentions_link_key", ["link_key"], unique=False,
                              sqlite_where=sa.text("link_key IS NOT NULL"),
                              postgresql_where=sa.text("link_key IS NOT NULL"))
        # No query reads mentions by collection time (clusters are found by key, then filtered):
        # the index only slowed every insert (measured with `vigie bench ingest`).
        batch_op.drop_index("ix_mentions_collected_at")
    with op.batch_alter_table("queue_items") as batch_op:
        batch_op.add_column(sa.Column("copy_count", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("queue_items") as batch_op:
        batch_op.drop_column("copy_count")
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.create_index("ix_mentions_collected_at", ["collected_at"], unique=False)
        batch_op.drop_index("ix_mentions_link_key")
        batch_op.drop_index("ix_mentions_text_key")
        batch_op.drop_column("link_key")
        batch_op.drop_column("text_key")
    with op.batch_alter_table("sources") as batch_op:
        batch_op.drop_column("not_before")
        batch_op.add_column(sa.Column("etag", sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column("last_modified", sa.String(length=100), nullable=True))
