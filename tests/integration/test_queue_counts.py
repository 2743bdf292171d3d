"""The open-item counters (``queue_counts`` and the changes the triggers of migration 0016 insert,
folded by the ``queue:counts`` job) follow every way an item is stored, changed or removed, whether
the fold ran or not, and `queries.team_counts` reads the same figures a count over the queue gives
(SQLite and PostgreSQL); writers never wait on one another for the counts (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import case, delete, func, select, text, update

from collectors.jobs.queue_counts import run_queue_counts
from collectors.types import RawPost
from config.settings import Settings
from models import actions, queries, queue_counts
from models.db import Database
from models.migrate import current_revision, head_revision
from models.sla import SlaClock
from models.tables import OPEN_STATUSES, QueueCount, QueueCountChange, QueueItem, utcnow
from tests.kit import store_posts


def _counted(db: Database) -> dict[tuple[str, str, bool], int]:
    out: dict[tuple[str, str, bool], int] = {}
    with db.read() as s:
        for t, st, rank, n in s.execute(select(QueueItem.team, QueueItem.status, QueueItem.priority_rank, func.count())
                                        .group_by(QueueItem.team, QueueItem.status, QueueItem.priority_rank)):
            out[(t, st, rank == 0)] = out.get((t, st, rank == 0), 0) + int(n)
    return out


def _kept(db: Database) -> dict[tuple[str, str, bool], int]:
    """What the counters say: the folded totals plus the changes not yet folded."""
    statuses = ("new", "claimed", "resolved", "dismissed")
    with db.read() as s:
        return {(t, st, c): n for t, st, c, n in queue_counts.counts(s, statuses)}


def _folded(db: Database) -> dict[tuple[str, str, bool], int]:
    with db.read() as s:
        return {(t, st, bool(c)): int(n) for t, st, c, n in
                s.execute(select(QueueCount.team, QueueCount.status, QueueCount.critical, QueueCount.n)) if n}


def _pending(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(QueueCountChange)) or 0)


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
    pending = _pending(db)  # a row per item (SQLite), per statement's team and status (PostgreSQL)
    assert pending > 0 and _folded(db) == {}  # nothing folded yet: the reader adds the changes
    assert run_queue_counts(db, settings).changes == pending
    assert _pending(db) == 0 and _folded(db) == _counted(db)
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
    assert _kept(db) == _counted(db) and _pending(db) > 0  # half folded, half pending
    teams = settings.team_keys
    with db.read() as s:
        assert queries.team_counts(s, teams) == _slow_team_counts(db, teams)
    run_queue_counts(db, settings)
    assert _folded(db) == _counted(db) and _pending(db) == 0 and run_queue_counts(db, settings).changes == 0
    with db.read() as s:
        assert queries.team_counts(s, teams) == _slow_team_counts(db, teams)


def test_writers_of_different_teams_never_wait_on_the_counts(db: Database, settings: Settings) -> None:
    """Two transactions changing items of two teams in opposite orders: with a counter row per team
    updated in place, the second statement of the first would wait for the other's lock (and the
    other's for the first's: a deadlock). The changes are inserted rows: neither waits."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: nothing to interleave")
    posts = [RawPost(f"w{n}", "x", f"@AureliaBank my card got declined again {n}", datetime.now(UTC))
             for n in range(4)]
    store_posts(db, settings, posts)
    run_queue_counts(db, settings)
    with db.read() as s:
        ids = list(s.scalars(select(QueueItem.id).order_by(QueueItem.id)))
    with db.write.begin() as s:  # two items per team
        s.execute(update(QueueItem).where(QueueItem.id.in_(ids[:2])).values(team="legal"))
        s.execute(update(QueueItem).where(QueueItem.id.in_(ids[2:])).values(team="marketing"))
    first, second = db.engine.connect(), db.engine.connect()
    try:
        t1, t2 = first.begin(), second.begin()
        for conn in (first, second):
            conn.execute(text("SET LOCAL lock_timeout = '3s'"))
        first.execute(update(QueueItem).where(QueueItem.id == ids[0]).values(status="claimed"))  # legal
        second.execute(update(QueueItem).where(QueueItem.id == ids[2]).values(status="claimed"))  # marketing
        first.execute(update(QueueItem).where(QueueItem.id == ids[3]).values(status="claimed"))  # marketing
        t1.commit()
        second.execute(update(QueueItem).where(QueueItem.id == ids[1]).values(status="claimed"))  # legal
        t2.commit()
    finally:
        first.close()
        second.close()
    assert _kept(db) == _counted(db)
    run_queue_counts(db, settings)
    assert _folded(db) == _counted(db)


COUNT_TRIGGERS = {"queue_counts_insert", "queue_counts_delete", "queue_counts_update"}


def _triggers(db: Database) -> set[str]:
    """The enabled triggers on queue_items, by name."""
    sql = ("select name from sqlite_master where type = 'trigger' and tbl_name = 'queue_items'" if db.is_sqlite else
           "select tgname from pg_trigger where tgrelid = 'queue_items'::regclass and not tgisinternal"
           " and tgenabled <> 'D'")
    with db.read() as s:
        return set(s.scalars(text(sql)))


def test_the_count_triggers_stand_at_the_migration_head(db: Database, settings: Settings) -> None:
    """A later migration rebuilding queue_items (SQLite's batch_alter_table copies the table and drops
    its triggers without a word) would leave the counts frozen: at head, the three triggers of 0016
    are there and the counts follow a store, a change and a removal as a recount gives them."""
    assert current_revision(db.engine) == head_revision()
    assert _triggers(db) >= COUNT_TRIGGERS
    store_posts(db, settings, [RawPost(f"h{n}", "x", f"@AureliaBank my card got declined again {n}",
                                       datetime.now(UTC)) for n in range(5)])
    with db.read() as s:
        ids = list(s.scalars(select(QueueItem.id).order_by(QueueItem.id)))
    with db.write.begin() as s:
        actions.claim(s, ids[0], "alice")
        s.execute(update(QueueItem).where(QueueItem.id == ids[1]).values(priority_rank=0))
        s.execute(delete(QueueItem).where(QueueItem.id == ids[2]))
    assert _kept(db) == _counted(db) and sum(_counted(db).values()) == 4
    run_queue_counts(db, settings)
    assert _folded(db) == _counted(db)
