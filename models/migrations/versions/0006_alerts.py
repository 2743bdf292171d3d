"""spike alerts, their notifications, and first responses by day

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_key", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("observed", sa.Double(), nullable=False),
        sa.Column("expected", sa.Double(), nullable=False),
        sa.Column("z", sa.Double(), nullable=False),
        sa.Column("peak_observed", sa.Double(), nullable=False),
        sa.Column("mentions_in_window", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("mention_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_alerts_open", "alerts", ["kind", "scope", "scope_key"], unique=True,
                    sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"))
    op.create_index("ix_alerts_last_seen", "alerts", ["last_seen_at"])
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("alert_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_notifications_alert_id", "alerts", ["alert_id"], ["id"])
    op.create_index("ix_queue_items_claimed_at", "queue_items", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_queue_items_claimed_at", table_name="queue_items")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_constraint("fk_notifications_alert_id", type_="foreignkey")
        batch_op.drop_column("alert_id")
    op.drop_index("ix_alerts_last_seen", table_name="alerts")
    op.drop_index("ux_alerts_open", table_name="alerts")
    op.drop_table("alerts")
