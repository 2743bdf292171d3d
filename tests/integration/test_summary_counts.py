"""The summary from its running counts (`models.summary_fold`, `models.summary_counts`) against the
summary read item by item (`compute_summary_exact`, the reference), on the seeded days of
test_summary.py (the demo stream through the pipeline, a DST day included), SQLite and PostgreSQL:
equal counts, percentiles within half a bucket; items changed after being folded (claimed, resolved,
dismissed, rerouted) counted as they stand; a fold stopped half-way or read again changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from config.settings import Settings
from models import actions, summary_fold
from models.db import Database
from models.home_queries import week_trend
from models.sla import SlaClock
from models.summary import FRESH, compute_summary, compute_summary_exact, day_bounds, store_summary
from models.summary_fold import BUCKETS, LAST_WIDTH, fold, fresh
from models.summary_tables import SummaryCount, SummaryFoldMark
from models.tables import QueueItem, utcnow
from tests.summary_days import DAYS

PERCENTILES = ("first_response_median", "first_response_p90", "resolution_median", "resolution_p90")


def _half_bucket(value: float) -> float:
    return next((w for bound, w in BUCKETS if value < bound), LAST_WIDTH) / 2


def _same_sla(counted: dict[str, Any], exact: dict[str, Any]) -> None:
    for key, value in exact.items():
        if key in PERCENTILES:
            if value is None:
                assert counted[key] is None, key
            else:  # within half a bucket (a median between two buckets: half of the wider one)
                tolerance = _half_bucket(max(value, counted[key]) * 1.5 + 1)
                assert abs(counted[key] - value) <= tolerance + 1e-9, (key, counted[key], value)
        elif key == "adherence":
            assert counted[key] == pytest.approx(value), key
        else:
            assert counted[key] == value, key


def _same(counted: dict[str, Any], exact: dict[str, Any]) -> None:
    assert counted["volume"] == exact["volume"]
    _same_sla(counted["sla"]["overall"], exact["sla"]["overall"])
    assert counted["sla"]["teams"].keys() == exact["sla"]["teams"].keys()
    for team, figures in exact["sla"]["teams"].items():
        _same_sla(counted["sla"]["teams"][team], figures)
    for key in ("issues", "topics", "terms", "hashtags", "alerts", "notable", "networks"):
        assert counted[key] == exact[key], key


def _minute(at: datetime) -> datetime:
    """The next whole minute: an open item's due time is counted to the minute."""
    return at.replace(second=0, microsecond=0) + timedelta(minutes=1)


def test_counts_give_the_exact_figures_of_each_day(db: Database, seeded: Settings) -> None:
    zone = seeded.reporting.timezone
    now = _minute(utcnow())  # (the seeded work is stamped up to days after END: the counts hold it all)
    report = fold(db, zone, now)
    assert report.items > 100 and report.mentions > report.items
    with db.read() as s:
        assert fresh(s, zone, now, FRESH)
        for day in DAYS:
            counted, exact = compute_summary(s, seeded, day, now), compute_summary_exact(s, seeded, day, now)
            assert counted["sla"]["overall"]["items"] > 50
            _same(counted, exact)
        # Too long after the fold (the collector down): read item by item, as before.
        late = now + FRESH + timedelta(minutes=1)
        assert not fresh(s, zone, late, FRESH)
        assert compute_summary(s, seeded, DAYS[2], late)["truncated"] is False


def test_items_changed_after_being_folded_are_counted_as_they_stand(db: Database, seeded: Settings) -> None:
    zone = seeded.reporting.timezone
    fold(db, zone, _minute(utcnow()))
    clock = SlaClock.from_settings(seeded)
    teams = [t.key for t in seeded.teams]
    with db.read() as s:
        start, end = day_bounds(DAYS[1], zone)  # (the DST day)
        open_ids = list(s.scalars(select(QueueItem.id).where(
            QueueItem.status == "new", QueueItem.created_at >= start, QueueItem.created_at < end)
            .order_by(QueueItem.id)))
    assert len(open_ids) > 40
    with db.write.begin() as s:
        for n, item_id in enumerate(open_ids[:40]):
            if n % 4 == 0:
                actions.claim(s, item_id, "ann")
            elif n % 4 == 1:
                actions.resolve(s, item_id, "ann")
            elif n % 4 == 2:
                actions.dismiss(s, item_id, "ann", reason="noise")
            else:
                team = next(t for t in teams if t != s.get(QueueItem, item_id).team)  # type: ignore[union-attr]
                actions.reroute(s, item_id, "lead", team, "wrong queue", clock)
    now = _minute(utcnow())
    report = fold(db, zone, now)
    assert report.items >= 40  # the changes (and nothing twice: compared below)
    with db.read() as s:
        assert fresh(s, zone, now, FRESH)
        for day in DAYS:
            _same(compute_summary(s, seeded, day, now), compute_summary_exact(s, seeded, day, now))


def test_a_fold_stopped_half_way_or_read_again_changes_nothing(db: Database, seeded: Settings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    zone, now = seeded.reporting.timezone, _minute(utcnow())
    monkeypatch.setattr(summary_fold, "BATCH", 50)
    calls = {"n": 0}
    real = summary_fold._fold_mentions

    def crash_on_third(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("collector killed")
        return real(*args)

    monkeypatch.setattr(summary_fold, "_fold_mentions", crash_on_third)
    with pytest.raises(RuntimeError):
        fold(db, zone, now)
    monkeypatch.setattr(summary_fold, "_fold_mentions", real)
    fold(db, zone, now)  # the restart: from the marks
    with db.read() as s:
        first = sorted(s.execute(select(SummaryCount.day, SummaryCount.team, SummaryCount.network,
                                        SummaryCount.measure, SummaryCount.value, SummaryCount.n)).all())
        for day in DAYS:
            _same(compute_summary(s, seeded, day, now), compute_summary_exact(s, seeded, day, now))
    with db.write.begin() as s:  # every mark forgotten: everything read again, nothing counted twice
        s.execute(update(SummaryFoldMark).values(at=None, last_id=0))
    fold(db, zone, now)
    with db.read() as s:
        again = sorted(s.execute(select(SummaryCount.day, SummaryCount.team, SummaryCount.network,
                                        SummaryCount.measure, SummaryCount.value, SummaryCount.n)).all())
        assert again == first
        # (4 days: about 1,500 rows a day, most of them the minute buckets of first responses and
        # resolutions by the hour they happened in: `summary_fold.item_events`)
        assert s.scalar(select(func.count()).select_from(SummaryCount)) < 8000


def test_the_week_and_the_comparison_read_stored_figures(db: Database, seeded: Settings) -> None:
    zone, now = seeded.reporting.timezone, _minute(utcnow())
    fold(db, zone, now)
    with db.write.begin() as s:
        store_summary(s, compute_summary_exact(s, seeded, DAYS[1], now), now)
    with db.read() as s:
        counted = compute_summary(s, seeded, DAYS[2], now)
        exact = compute_summary_exact(s, seeded, DAYS[1], now)
        before = next(p for p in counted["previous"] if p["day"] == DAYS[1].isoformat())
        assert before["mentions"] == exact["volume"]["mentions"]
        assert before["breached"] == exact["sla"]["overall"]["breached"]
        week = {d.day: d for d in week_trend(s, DAYS, zone, now)}
        for day in DAYS:
            figures = compute_summary_exact(s, seeded, day, now)
            assert (week[day.isoformat()].received, week[day.isoformat()].items,
                    week[day.isoformat()].resolved, week[day.isoformat()].breached) == (
                figures["volume"]["mentions"], figures["sla"]["overall"]["items"],
                figures["sla"]["overall"]["resolved"], figures["sla"]["overall"]["breached"])


def test_two_collectors_folding_for_the_first_time_at_once_both_succeed(db: Database) -> None:
    """Each collector runs `summary:fold`: the first two at once both found no mark; the second
    then failed on the mark's primary key (an ERROR line in its log, counted by `make load`)."""
    import threading

    failures: list[BaseException] = []

    def second() -> None:
        try:
            with db.write.begin() as session:
                summary_fold._mark(session, "items", "Europe/Paris").last_id = 5
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            failures.append(error)

    with db.write.begin() as session:
        summary_fold._mark(session, "items", "Europe/Paris")  # made, not committed yet
        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)  # the other fold now waits: for the row (PostgreSQL), for the writer (SQLite)
    other.join(30)
    assert not other.is_alive() and not failures, failures
    with db.read() as session:
        assert session.scalars(select(SummaryFoldMark.last_id).where(SummaryFoldMark.name == "items")).one() == 5


@pytest.mark.parametrize("until", [timedelta(hours=13, minutes=30), timedelta(minutes=40),
                                   timedelta(hours=18), timedelta(hours=23, minutes=59, seconds=30)])
def test_a_day_in_progress_is_compared_from_counts_by_the_hour(
        db: Database, seeded: Settings, until: timedelta) -> None:
    """The part of each earlier day a day in progress is compared with, as it stood then (`core_until`:
    the whole hours from the counts by the hour, the partial hour read): the item-by-item figures,
    medians within half a bucket; posts collected two minutes after they were written (the seeded lag)
    counted from when they were seen; a 25-hour day (2026-10-25) among those compared."""
    zone = seeded.reporting.timezone
    start, _end = day_bounds(DAYS[2], zone)
    now = start + until  # in Paris on 2026-10-26 (UTC+1 all day)
    fold(db, zone, now)
    with db.read() as s:
        assert fresh(s, zone, now, FRESH)
        counted, exact = compute_summary(s, seeded, DAYS[2], now), compute_summary_exact(s, seeded, DAYS[2], now)
        hourly = s.scalar(select(func.count()).select_from(SummaryCount).where(SummaryCount.measure.like("h:%")))
    assert hourly and hourly > 100
    assert counted["compared_until"] == exact["compared_until"] == (datetime.min + until).strftime("%H:%M")
    compared = [p for p in exact["previous"] if p["mentions"]]
    assert len(compared) >= 2 and any(p["breached"] for p in compared)
    for mine, theirs in zip(counted["previous"], exact["previous"], strict=True):
        _same_sla({k: v for k, v in mine.items() if k not in ("day", "net_sentiment", "negative_share", "mentions")},
                  {k: v for k, v in theirs.items() if k not in ("day", "net_sentiment", "negative_share", "mentions")})
        assert (mine["mentions"], mine["net_sentiment"], mine["negative_share"]) == (
            theirs["mentions"], theirs["net_sentiment"], theirs["negative_share"])


def test_the_audience_of_items_folded_before_0020_is_filled_in_by_it(db: Database, seeded: Settings) -> None:
    """Migration 0020 gives the items folded under 0019 their post's audience (the notable items'
    order) without folding again: downgraded to 0019 (the column dropped) and upgraded back."""
    from alembic import command

    from models.migrate import alembic_config
    from models.summary_tables import SummaryFoldedItem
    from models.tables import Mention

    fold(db, seeded.reporting.timezone, _minute(utcnow()))
    cfg = alembic_config()
    for revision in ("0019", "head"):
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if revision == "0019" else command.upgrade)(cfg, revision)
    with db.read() as s:
        pairs = s.execute(select(SummaryFoldedItem.author_followers, Mention.author_followers)
                          .join(QueueItem, QueueItem.id == SummaryFoldedItem.item_id)
                          .join(Mention, Mention.id == QueueItem.mention_id)).all()
    assert len(pairs) > 100 and sum(1 for folded, _ in pairs if folded) > 50
    assert all(folded == post for folded, post in pairs)
