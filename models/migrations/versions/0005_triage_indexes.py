"""triage indexes: open items by due time (replaces the count index), by age, and escalated

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The count index with due_at before priority_rank still serves the counts from the index alone,
    # and now also walks a team's open items in due order (the triage page's SLA list).
    op.drop_index("ix_queue_items_open", table_name="queue_items")
    op.create_index("ix_queue_items_open_due", "queue_items", ["status", "team", "due_at", "priority_rank"])
    op.create_index("ix_queue_items_open_age", "queue_items", ["status", "team", "created_at"])
    op.create_index("ix_queue_items_escalated", "queue_items", ["status", "team", "escalated_at"])


def downgrade() -> None:
    op.drop_index("ix_queue_items_escalated", table_name="queue_items")
    op.drop_index("ix_queue_items_open_age", table_name="queue_items")
    op.drop_index("ix_queue_items_open_due", table_name="queue_items")
    op.create_index("ix_queue_items_open", "queue_items", ["status", "team", "priority_rank", "due_at"])
