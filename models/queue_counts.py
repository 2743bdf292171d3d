"""Queue item counts per (team, status, critical), kept without a shared counter row.

The triggers of migration 0016 insert a +1/-1 row into ``queue_count_changes`` for every item
stored, changed (team, status, critical) or deleted, in the writer's own statement: insert-only,
so two collectors storing batches of several teams, or an agent's claim beside them, never wait
on one another or deadlock over the counts (an upserted counter row would lock it until commit).
`fold` (the collector's ``queue:counts`` job, every few seconds) moves the changes into the
totals of ``queue_counts``; `counts` adds both, so a reader is right whether or not the fold ran.

On PostgreSQL the fold is one statement (a ``DELETE … RETURNING`` feeding the upsert): it sums
exactly the rows it deletes, whatever commits meanwhile, and two folds at once each move disjoint
rows (the second waits on the first's deleted rows, then skips them). On SQLite the fold runs
under the database's single write lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal, select, text, union_all
from sqlalchemy.orm import Session

from models.tables import QueueCount, QueueCountChange, QueueItem

_PG_FOLD = text("""
WITH moved AS (DELETE FROM queue_count_changes RETURNING team, status, critical, n),
     summed AS (SELECT team, status, critical, sum(n) AS n FROM moved GROUP BY team, status, critical)
INSERT INTO queue_counts (team, status, critical, n)
SELECT team, status, critical, n FROM summed ORDER BY team, status, critical
ON CONFLICT (team, status, critical) DO UPDATE SET n = queue_counts.n + excluded.n
""")


def counts(session: Session, statuses: tuple[str, ...]) -> list[tuple[str, str, bool, int]]:
    """[(team, status, critical, items)] for ``statuses``: the folded totals plus the changes not yet
    folded (a few rows each: bounded by teams x statuses, and by what arrived since the last fold)."""
    return [(team, status, critical, n) for team, status, critical, n, _due in _counts(session, statuses, None)]


def counts_with_not_due(session: Session, statuses: tuple[str, ...],
                        now: datetime) -> list[tuple[str, str, bool, int, int]]:
    """`counts`, each row with the items of its team and status due from ``now`` on (the same for
    both critical rows of a pair), in ONE statement: on PostgreSQL each statement of a read sees its
    own snapshot, and an overdue figure taken as open minus not yet due from two statements could
    subtract a batch committed in between, never counted (too low, even negative). The not-yet-due
    count is a range of ``ix_queue_items_open_due`` (status, team, due_at) per row."""
    return _counts(session, statuses, now)


def _counts(session: Session, statuses: tuple[str, ...],
            now: datetime | None) -> list[tuple[str, str, bool, int, int]]:
    both = union_all(
        select(QueueCount.team, QueueCount.status, QueueCount.critical, QueueCount.n)
        .where(QueueCount.status.in_(statuses)),
        select(QueueCountChange.team, QueueCountChange.status, QueueCountChange.critical, QueueCountChange.n)
        .where(QueueCountChange.status.in_(statuses)),
    ).subquery()
    not_due: Any = literal(0)
    if now is not None:
        not_due = (select(func.count()).select_from(QueueItem)
                   .where(QueueItem.status == both.c.status, QueueItem.team == both.c.team, QueueItem.due_at >= now)
                   .scalar_subquery())
    rows = session.execute(select(both.c.team, both.c.status, both.c.critical, func.sum(both.c.n), not_due)
                           .group_by(both.c.team, both.c.status, both.c.critical))
    return [(team, status, bool(critical), int(n), int(due or 0)) for team, status, critical, n, due in rows if n]


def fold(session: Session) -> int:
    """Move the pending changes into ``queue_counts``; returns how many change rows were folded.
    Runs in the caller's write transaction (never commits)."""
    if session.get_bind().dialect.name == "postgresql":
        pending = int(session.scalar(select(func.count()).select_from(QueueCountChange)) or 0)
        if pending:
            session.execute(_PG_FOLD)
        return pending
    top = session.scalar(select(func.max(QueueCountChange.id)))
    if top is None:
        return 0
    summed = session.execute(
        select(QueueCountChange.team, QueueCountChange.status, QueueCountChange.critical,
               func.sum(QueueCountChange.n), func.count())
        .where(QueueCountChange.id <= top)
        .group_by(QueueCountChange.team, QueueCountChange.status, QueueCountChange.critical)).all()
    for team, status, critical, n, _rows in summed:
        session.execute(text("INSERT INTO queue_counts (team, status, critical, n) VALUES (:t, :s, :c, :n) "
                             "ON CONFLICT (team, status, critical) DO UPDATE SET n = queue_counts.n + excluded.n"),
                        {"t": team, "s": status, "c": bool(critical), "n": int(n)})
    session.execute(delete(QueueCountChange).where(QueueCountChange.id <= top))
    return sum(int(r[4]) for r in summed)
