"""live ticks at a million mentions: covering indexes for the wall's 24-hour windows, the first
responses and the triage workload, and open-item counters kept by triggers (the wall and the
triage page count open items on every change: a count over the queue was O(open items))

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_HEADS = "duplicate_of_id IS NULL"
_CLAIMED = "status = 'claimed'"

# Item counts per (team, status, critical): ``queue_counts`` holds the folded totals, and the triggers
# only ever INSERT a +1/-1 row into ``queue_count_changes`` in the writer's own statement. No writer
# locks a shared counter row: collectors storing batches of several teams in different orders, and
# agents' actions, never wait for each other or deadlock on the counts. The ``queue:counts`` job
# folds the changes into the totals (models/queue_counts.py); readers add both.
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER queue_counts_insert AFTER INSERT ON queue_items BEGIN
         INSERT INTO queue_count_changes (team, status, critical, n) VALUES (NEW.team, NEW.status, NEW.priority_rank = 0, 1);
       END""",
    """CREATE TRIGGER queue_counts_delete AFTER DELETE ON queue_items BEGIN
         INSERT INTO queue_count_changes (team, status, critical, n) VALUES (OLD.team, OLD.status, OLD.priority_rank = 0, -1);
       END""",
    """CREATE TRIGGER queue_counts_update AFTER UPDATE OF team, status, priority_rank ON queue_items
       WHEN OLD.team IS NOT NEW.team OR OLD.status IS NOT NEW.status
            OR (OLD.priority_rank = 0) IS NOT (NEW.priority_rank = 0) BEGIN
         INSERT INTO queue_count_changes (team, status, critical, n) VALUES (OLD.team, OLD.status, OLD.priority_rank = 0, -1);
         INSERT INTO queue_count_changes (team, status, critical, n) VALUES (NEW.team, NEW.status, NEW.priority_rank = 0, 1);
       END""",
]
# On PostgreSQL, inserts and deletes: statement-level triggers with transition tables, one grouped
# INSERT per statement (a batch of 500 items is one row per team and status), not one per item.
_PG_CHANGES = """INSERT INTO queue_count_changes (team, status, critical, n)
  SELECT team, status, critical, sum(n) FROM ({rows}) AS c GROUP BY team, status, critical HAVING sum(n) <> 0"""
_PG_OLD = "SELECT team, status, priority_rank = 0 AS critical, -1 AS n FROM old_items"
_PG_NEW = "SELECT team, status, priority_rank = 0 AS critical, 1 AS n FROM new_items"
_PG_FUNCTIONS = {
    "vigie_queue_counts_insert": _PG_CHANGES.format(rows=_PG_NEW),
    "vigie_queue_counts_delete": _PG_CHANGES.format(rows=_PG_OLD),
    # (a change of team, status or priority: one item at a time, by people and the SLA watch)
    "vigie_queue_counts_update": "INSERT INTO queue_count_changes (team, status, critical, n) VALUES "
                                 "(OLD.team, OLD.status, OLD.priority_rank = 0, -1), "
                                 "(NEW.team, NEW.status, NEW.priority_rank = 0, 1)",
}
_PG_TRIGGERS = [
    "CREATE TRIGGER queue_counts_insert AFTER INSERT ON queue_items REFERENCING NEW TABLE AS new_items "
    "FOR EACH STATEMENT EXECUTE FUNCTION vigie_queue_counts_insert()",
    "CREATE TRIGGER queue_counts_delete AFTER DELETE ON queue_items REFERENCING OLD TABLE AS old_items "
    "FOR EACH STATEMENT EXECUTE FUNCTION vigie_queue_counts_delete()",
    # Row-level, so that its WHEN skips the updates that move no count (copy counts, claims' times…)
    # before any function runs: a statement-level one with transition tables made every batch's
    # copy-count UPDATE capture its rows, and the ingest took twice as long.
    "CREATE TRIGGER queue_counts_update AFTER UPDATE OF team, status, priority_rank ON queue_items FOR EACH ROW "
    "WHEN (OLD.team IS DISTINCT FROM NEW.team OR OLD.status IS DISTINCT FROM NEW.status "
    "OR (OLD.priority_rank = 0) IS DISTINCT FROM (NEW.priority_rank = 0)) EXECUTE FUNCTION vigie_queue_counts_update()",
]


def _pg_function(name: str, body: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$")


def upgrade() -> None:
    # The wall's windows (mentions, sentiment, networks, brands of the last hour and day), read
    # from the index alone: at 1M mentions a day's rows are 140,000 table lookups otherwise.
    op.create_index("ix_mentions_window", "mentions",
                    ["created_at", "network", "sentiment_label", "sentiment_score", "brand", "is_competitor",
                     "duplicate_of_id"], sqlite_where=sa.text(_HEADS), postgresql_where=sa.text(_HEADS))
    # First responses of a day (team, queued, claimed), from the index alone; replaces the bare one.
    op.drop_index("ix_queue_items_claimed_at", table_name="queue_items")
    op.create_index("ix_queue_items_claimed", "queue_items", ["claimed_at", "team", "created_at"])
    # The triage workload: claimed items per team and assignee, from a partial index alone.
    op.create_index("ix_queue_items_claimed_load", "queue_items", ["team", "assignee", "claimed_at", "due_at", "status"],
                    sqlite_where=sa.text(_CLAIMED), postgresql_where=sa.text(_CLAIMED))
    op.create_table(
        "queue_counts",
        sa.Column("team", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(12), primary_key=True),
        sa.Column("critical", sa.Boolean(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_table(
        "queue_count_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("team", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("LOCK TABLE queue_items IN SHARE ROW EXCLUSIVE MODE")  # no change between count and trigger
        for name, body in _PG_FUNCTIONS.items():
            op.execute(_pg_function(name, body))
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute("INSERT INTO queue_counts (team, status, critical, n) "
               "SELECT team, status, priority_rank = 0, count(*) FROM queue_items "
               "GROUP BY team, status, priority_rank = 0")


def downgrade() -> None:
    for trigger in ("queue_counts_update", "queue_counts_insert", "queue_counts_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON queue_items" if _pg() else ""))
    if _pg():
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("queue_count_changes")
    op.drop_table("queue_counts")
    op.drop_index("ix_queue_items_claimed_load", table_name="queue_items")
    op.drop_index("ix_queue_items_claimed", table_name="queue_items")
    op.create_index("ix_queue_items_claimed_at", "queue_items", ["claimed_at"])
    op.drop_index("ix_mentions_window", table_name="mentions")


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")
