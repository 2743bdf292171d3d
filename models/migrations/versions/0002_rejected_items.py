"""rejected items (what a source sent that could not be read or scored); change-key index

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rejected_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rejected_items") as batch_op:
        batch_op.create_index("ix_rejected_items_source_at", ["source_id", "at"], unique=False)
    # Indexes measured with `vigie bench dashboard` (100,000 mentions): live pages page through
    # changes by (updated_at, id); team counts are read from one covering index; a queue is
    # walked in display order; the wall's newest critical items come by created_at.
    with op.batch_alter_table("queue_items") as batch_op:
        batch_op.drop_index("ix_queue_items_updated_at")
        batch_op.drop_index("ix_queue_items_team_status_prio")
        batch_op.drop_index("ix_queue_items_status_prio")
        batch_op.create_index("ix_queue_items_updated_at_id", ["updated_at", "id"], unique=False)
        batch_op.create_index("ix_queue_items_open", ["status", "team", "priority_rank", "due_at"], unique=False)
        batch_op.create_index("ix_queue_items_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_queue_items_team_queue", ["team", "priority_rank", sa.text("created_at DESC")], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("queue_items") as batch_op:
        for name in ("ix_queue_items_updated_at_id", "ix_queue_items_open", "ix_queue_items_created_at",
                     "ix_queue_items_team_queue"):
            batch_op.drop_index(name)
        batch_op.create_index("ix_queue_items_updated_at", ["updated_at"], unique=False)
        batch_op.create_index(
            "ix_queue_items_team_status_prio", ["team", "status", "priority_rank", "created_at"], unique=False
        )
        batch_op.create_index("ix_queue_items_status_prio", ["status", "priority_rank"], unique=False)
    with op.batch_alter_table("rejected_items") as batch_op:
        batch_op.drop_index("ix_rejected_items_source_at")
    op.drop_table("rejected_items")
