"""The daily summary on a database seeded over several days (the demo stream replayed through the
pipeline, then items claimed, resolved and dismissed at chosen times: tests/summary_days.py): every
figure is checked against independent SQL, and against the earlier days at the same lag. Its PDF,
CSV, e-mail and command: test_summary_exports.py."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update

from config.settings import Settings
from models.db import Database
from models.summary import compute_summary
from models.summary_export import summary_csv
from models.tables import Mention
from tests.streams import inject
from tests.summary_days import DAYS, END, ZONE, as_datetime


def _bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight to midnight as naive UTC, worked out here independently of models.summary."""
    zone = ZoneInfo(ZONE)
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    return start, end


def _independent(db: Database, day: date, now: datetime) -> dict[str, Any]:
    start, end = _bounds(day)
    span = {"a": start, "b": end}
    with db.engine.connect() as conn:
        def rows(sql: str, **extra: Any) -> list[Any]:
            return list(conn.execute(text(sql), {**span, **extra}))
        heads = "created_at >= :a AND created_at < :b AND duplicate_of_id IS NULL"
        by_network = dict(rows(f"SELECT network, count(*) FROM mentions WHERE {heads} GROUP BY network"))
        by_sentiment = dict(rows(f"SELECT sentiment_label, count(*) FROM mentions WHERE {heads} GROUP BY 1"))
        copies = rows("SELECT count(*) FROM mentions WHERE created_at >= :a AND created_at < :b "
                      "AND duplicate_of_id IS NOT NULL")[0][0]
        items = rows("SELECT q.id, q.team, q.status, q.created_at, q.claimed_at, q.resolved_at, q.due_at, "
                     "q.escalated_at, m.network FROM queue_items q JOIN mentions m ON m.id = q.mention_id "
                     "WHERE q.created_at >= :a AND q.created_at < :b")
        flags = rows(f"SELECT risk_flags FROM mentions WHERE {heads}")
    filed = [i for i in items if i.status == "dismissed" and i.claimed_at is None
             and as_datetime(i.resolved_at) == as_datetime(i.created_at)]
    judged = [i for i in items if i not in filed]
    # As the database stood at ``now``: a claim or a closing stamped later had not happened yet.
    closed = [i for i in judged if i.status in ("resolved", "dismissed") and as_datetime(i.resolved_at) <= now]
    first = [(as_datetime(i.claimed_at) - as_datetime(i.created_at)).total_seconds() / 60 for i in judged
             if i.claimed_at and as_datetime(i.claimed_at) <= now]
    resolution = [(as_datetime(i.resolved_at) - as_datetime(i.created_at)).total_seconds() / 60 for i in closed
                  if i.status == "resolved"]
    met = sum(1 for i in closed if as_datetime(i.resolved_at) <= as_datetime(i.due_at))
    breached = sum(1 for i in closed if as_datetime(i.resolved_at) > as_datetime(i.due_at)) + sum(
        1 for i in judged if i not in closed and as_datetime(i.due_at) < now)
    topics: Counter[str] = Counter()
    for (raw,) in flags:
        topics.update(set(raw if isinstance(raw, list) else __import__("json").loads(raw)))
    per_network: dict[str, int] = Counter(i.network for i in items)
    needed = Counter(i.network for i in items if i.status in ("resolved", "claimed"))
    return {"by_network": by_network, "by_sentiment": by_sentiment, "copies": copies, "items": len(items),
            "filed": len(filed), "first_median": statistics.median(first) if first else None,
            "resolution_median": statistics.median(resolution) if resolution else None, "met": met,
            "breached": breached, "topics": topics, "per_network": per_network, "needed": needed,
            "mentions": sum(by_network.values())}


def test_summary_figures_match_independent_sql_over_several_days(db: Database, seeded: Settings) -> None:
    now = END
    computed = {}
    for day in DAYS:
        with db.read() as s:
            figures = compute_summary(s, seeded, day, now)
        computed[day] = figures
        want = _independent(db, day, now)
        assert want["mentions"] > 1000, day  # a real day of data
        assert figures["complete"] and figures["timezone"] == ZONE
        assert figures["volume"]["by_network"] == want["by_network"]
        assert figures["volume"]["by_sentiment"] == want["by_sentiment"]
        assert figures["volume"]["copies"] == want["copies"] > 0
        overall = figures["sla"]["overall"]
        assert overall["items"] == want["items"] and overall["filed_closed"] == want["filed"]
        assert overall["first_response_median"] == pytest.approx(want["first_median"])
        assert overall["resolution_median"] == pytest.approx(want["resolution_median"])
        assert (overall["met"], overall["breached"]) == (want["met"], want["breached"])
        assert overall["met"] > 0 and overall["breached"] > 0
        assert overall["adherence"] == pytest.approx(want["met"] / (want["met"] + want["breached"]))
        assert sum(figures["volume"]["by_team"].values()) == want["items"]
        # The ten largest, ties by name (the summary's documented rule: the order they were counted in
        # must not decide which of two equal topics is shown).
        ten = sorted(want["topics"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert [(t["topic"], t["mentions"]) for t in figures["topics"]] == ten
        for net in figures["networks"]:
            assert net["items"] == want["per_network"].get(net["network"], 0)
            assert net["needed_action"] == want["needed"].get(net["network"], 0)
        assert len(figures["notable"]) == 10
        assert len({n["author"] or n["mention"] for n in figures["notable"]}) == 10  # one per author
    # 2026-10-25 lasted 25 hours in Paris: its bounds say so.
    start, end = _bounds(DAYS[1])
    assert end - start == timedelta(hours=25)
    assert computed[DAYS[1]]["start_utc"] == start.isoformat() and computed[DAYS[1]]["end_utc"] == end.isoformat()
    # Against the previous 7 days: the 26th compares with the 25th, 24th and the afternoon of the
    # 23rd (the days before the first mention hold none and are left out of the mean).
    last = computed[DAYS[2]]
    assert [p["day"] for p in last["previous"]][:3] == ["2026-10-25", "2026-10-24", "2026-10-23"]
    counts = [_independent(db, DAYS[2] - timedelta(days=back), now)["mentions"] for back in range(1, 8)]
    assert counts[3:] == [0, 0, 0, 0] and all(counts[:3])
    mean = sum(counts[:3]) / 3
    assert last["comparison"]["mentions"]["previous_mean"] == pytest.approx(mean)
    assert last["comparison"]["mentions"]["change_pct"] == pytest.approx(
        100 * (last["volume"]["mentions"] - mean) / mean)


def test_earlier_days_are_compared_as_they_stood_at_the_same_lag(db: Database, seeded: Settings) -> None:
    # The 26th, summed up at END (7 hours after its end), compares with the 25th as it stood 7 hours
    # after the 25th ended: a post of the 25th collected later than that was not there yet.
    def previous_mentions() -> int:
        with db.read() as s:
            return int(compute_summary(s, seeded, DAYS[2], END)["previous"][0]["mentions"])

    before = previous_mentions()
    day_end = _bounds(DAYS[1])[1]
    for name, collected in (("late", day_end + timedelta(hours=8)), ("in-time", day_end + timedelta(hours=1))):
        ids = inject(db, seeded, [f"Aurelia Bank app {name} post"], collected, 1, prefix=name)
        with db.write.begin() as s:  # posted at 23:00 on the 25th (Paris), collected at `collected`
            s.execute(update(Mention).where(Mention.external_id.in_(ids)).values(
                created_at=day_end - timedelta(hours=1), collected_at=collected))
    assert previous_mentions() == before + 1  # the in-time one only


def test_a_day_in_progress_is_compared_with_the_same_hours_of_the_days_before(db: Database, seeded: Settings) -> None:
    # At 13:30 in Paris on the 26th, the 26th so far compares with midnight to 13:30 of each day
    # before, as it stood at 13:30 that day (the 25th: 25 hours long, its 13:30 after the change).
    now = datetime(2026, 10, 26, 12, 30)  # 13:30 CET
    with db.read() as s:
        figures = compute_summary(s, seeded, DAYS[2], now)
    assert not figures["complete"] and figures["compared_until"] == "13:30"
    zone = ZoneInfo(ZONE)
    want = []
    for back in range(1, 8):
        day = DAYS[2] - timedelta(days=back)
        start = _bounds(day)[0]
        cut = datetime.combine(day, datetime.strptime("13:30", "%H:%M").time(), zone).astimezone(UTC)
        span = {"a": start, "b": cut.replace(tzinfo=None)}
        with db.engine.connect() as conn:
            mentions = conn.execute(text(
                "SELECT count(*) FROM mentions WHERE created_at >= :a AND created_at < :b AND collected_at <= :b "
                "AND duplicate_of_id IS NULL"), span).scalar_one()
            items = conn.execute(text("SELECT count(*) FROM queue_items WHERE created_at >= :a AND created_at < :b"),
                                 span).scalar_one()
        want.append({"day": day.isoformat(), "mentions": mentions, "items": items})
    assert [{k: p[k] for k in ("day", "mentions", "items")} for p in figures["previous"]] == want
    assert want[0]["mentions"] > 500 and want[1]["mentions"] > 500  # real half days
    with db.read() as s:  # the whole 25th is far more than its morning: the comparison is of like with like
        whole = compute_summary(s, seeded, DAYS[2], END)["previous"][0]["mentions"]
    assert whole > want[0]["mentions"] * 1.5
    counted = [w["mentions"] for w in want if w["mentions"]]  # (the stream began on the 23rd's afternoon)
    assert len(counted) == 2
    assert figures["comparison"]["mentions"]["previous_mean"] == pytest.approx(sum(counted) / 2)
    assert "previous,compared,until_local_time,13:30" in summary_csv(figures)
