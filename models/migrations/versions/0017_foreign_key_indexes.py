"""indexes under the foreign keys that deletions check: an original's copies
(``mentions.duplicate_of_id``), a mention's replies and a queue item's notifications. Without them
PostgreSQL scanned the whole referencing table once per deleted row (retention over a year of
mentions; `vigie bench ingest` spent minutes removing its 20,000 rows), and the item page's list of
copies read the mentions in id order until it found them.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_COPIES = "duplicate_of_id IS NOT NULL"
_ITEM = "queue_item_id IS NOT NULL"


def upgrade() -> None:
    # op.create_index, not batch_alter_table: a batch on SQLite copies the table, and
    # queue_items' count triggers (0016) would not survive a copy.
    op.create_index("ix_mentions_duplicate_of", "mentions", ["duplicate_of_id"],
                    sqlite_where=sa.text(_COPIES), postgresql_where=sa.text(_COPIES))
    op.create_index("ix_replies_mention", "replies", ["mention_id"])
    op.create_index("ix_notifications_item", "notifications", ["queue_item_id"],
                    sqlite_where=sa.text(_ITEM), postgresql_where=sa.text(_ITEM))


def downgrade() -> None:
    op.drop_index("ix_notifications_item", table_name="notifications")
    op.drop_index("ix_replies_mention", table_name="replies")
    op.drop_index("ix_mentions_duplicate_of", table_name="mentions")
