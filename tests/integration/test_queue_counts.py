"""The open-item counters (``queue_counts``, kept by triggers: migration 0016) follow every way an
item is stored, changed or removed, and `queries.team_counts` reads the same figures a count over
the queue gives (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, select, update

from collectors.types import RawPost
from config.settings import Settings
from models import actions, queries
from models.db import Database
from models.sla import SlaClock
from models.tables import OPEN_STATUSES, QueueCount, QueueItem, utcnow
from tests.kit import store_posts


def _counted(db: Database) -> dict[tuple[str, str, bool], int]:
    out: dict[tuple[str, str, bool], int] = {}
    with db.read() as s:
        for t, st, rank, n in s.execute(select(QueueItem.team, QueueItem.status, QueueItem.priority_rank, func.count())
                                        .group_by(QueueItem.team, QueueItem.status, QueueItem.priority_rank)):
            out[(t, st, rank == 0)] = out.get((t, st, rank == 0), 0) + int(n)
    return out


def _kept(db: Database) -> dict[tuple[str, str, bool], int]:
    with db.read() as s:
        return {(t, st, bool(c)): int(n) for t, st, c, n in
                s.execute(select(QueueCount.team, QueueCount.status, QueueCount.critical, QueueCount.n)) if n}


def _slow_team_counts(db: Database, teams: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """What `team_counts` counted before 0016: every open item, grouped."""
    now = utcnow()
    out = {t: {"open": 0, "new": 0, "claimed": 0, "overdue": 0, "critical": 0} for t in teams}
    with db.read() as s:
        for status, team, n, overdue, critical in s.execute(
                select(QueueItem.status, QueueItem.team, func.count(), func.sum(case((QueueItem.due_at < now, 1),
                                                                                     else_=0)),
                       func.sum(case((QueueItem.priority_rank == 0, 1), else_=0)))
                .where(QueueItem.status.in_(OPEN_STATUSES)).group_by(QueueItem.status, QueueItem.team)):
            c = out.setdefault(team, {"open": 0, "new": 0, "claimed": 0, "overdue": 0, "critical": 0})
            c[status] += n
            c["open"] += n
            c["overdue"] += int(overdue or 0)
            c["critical"] += int(critical or 0)
    return out


def test_counters_follow_inserts_changes_and_deletes(db: Database, settings: Settings) -> None:
    texts = ["@AureliaBank my card got declined again {n}", "Aurelia Bank fraud scandal lawsuit {n}",
             "Loving the new Aurelia Bank app {n}"]
    posts = [RawPost(f"q{n}", "x", texts[n % 3].format(n=n), datetime.now(UTC) - timedelta(hours=n % 9))
             for n in range(30)]
    store_posts(db, settings, posts)
    assert _kept(db) == _counted(db) and sum(_kept(db).values()) == 30
    with db.read() as s:
        ids = list(s.scalars(select(QueueItem.id).order_by(QueueItem.id)))
    clock = SlaClock.from_settings(settings)
    with db.write.begin() as s:
        actions.claim(s, ids[0], "alice")
        actions.claim(s, ids[1], "alice")
        actions.resolve(s, ids[1], "alice")
        actions.reroute(s, ids[2], "lead", "legal", "a lawsuit is mentioned", clock)
    with db.write.begin() as s:  # a bulk change and a removal (as the purger or an erasure would)
        s.execute(update(QueueItem).where(QueueItem.id.in_(ids[3:6])).values(priority_rank=0))
        s.execute(update(QueueItem).where(QueueItem.id == ids[6]).values(updated_at=utcnow()))  # no count moves
        s.execute(delete(QueueItem).where(QueueItem.id.in_(ids[7:9])))
    assert _kept(db) == _counted(db)
    teams = settings.team_keys
    with db.read() as s:
        assert queries.team_counts(s, teams) == _slow_team_counts(db, teams)
