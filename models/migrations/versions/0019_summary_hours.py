"""the daily summary's compared figures by the hour of the day (a day in progress is compared with
the same part of the days before from them: `models.summary_counts.core_until`): the folded items
indexed by their times and the folded posts' time seen when collected late, for the partial hour;
every fold starts again, so that the history is counted by the hour too

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TIMES = ("created_at", "claimed_at", "resolved_at", "due_at")


def upgrade() -> None:
    # Everything is folded again (the next ``summary:fold`` run; until then the summary reads item by
    # item: its marks are not fresh), the wall's rollups with it (they share the posts' fold). Emptied
    # first, so that the indexes below are built on empty tables.
    tables = ("summary_counts", "summary_folded_items", "summary_folded_mentions", "summary_fold_marks",
              "wall_hour_counts", "wall_brand_hours")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"TRUNCATE {', '.join(tables)}")
    else:
        for table in tables:
            op.execute(f"DELETE FROM {table}")  # noqa: S608  (table names written above)
    op.add_column("summary_folded_mentions", sa.Column("seen_at", sa.DateTime(), nullable=True))
    op.create_index("ix_summary_folded_mentions_seen_at", "summary_folded_mentions", ["seen_at"])
    for column in _TIMES:
        op.create_index(f"ix_summary_folded_items_{column}", "summary_folded_items", [column])


def downgrade() -> None:
    for column in _TIMES:
        op.drop_index(f"ix_summary_folded_items_{column}", table_name="summary_folded_items")
    op.drop_index("ix_summary_folded_mentions_seen_at", table_name="summary_folded_mentions")
    with op.batch_alter_table("summary_folded_mentions") as batch_op:  # (no triggers on it to lose)
        batch_op.drop_column("seen_at")
    op.execute("DELETE FROM summary_counts WHERE measure LIKE 'h:%'")
