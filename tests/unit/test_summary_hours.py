"""The daily summary's counts by the hour (`models.summary_fold.item_events`, `hour_keys`, `seen_late`,
`mention_keys`): what a day in progress is compared on, each under the hour of its day it became
true; the boundaries the integration tests reach only by chance."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.summary_fold import ItemState, hour_keys, item_events, item_keys, mention_keys, seen_late

ZONE = "Europe/Paris"
DAY = date(2026, 10, 26)
START = datetime(2026, 10, 25, 23, 0)  # local midnight of DAY, in UTC (UTC+1)


def _item(**changes: object) -> ItemState:
    base = {"network": "x", "team": "care", "status": "new", "priority_rank": 2, "rule_id": "r",
            "created_at": START + timedelta(hours=9, minutes=10), "claimed_at": None, "resolved_at": None,
            "due_at": START + timedelta(hours=11)}
    base.update(changes)
    return ItemState(**base)  # type: ignore[arg-type]


def _hourly(keys: list[tuple[date, str, str, str, str]]) -> list[tuple[str, str]]:
    return sorted((k[3], k[4]) for k in keys if k[3].startswith("h:"))


def test_an_open_item_is_queued_then_breached_at_its_due_time() -> None:
    assert _hourly(item_keys(_item(), ZONE)) == [("h:breach", "11|"), ("h:items", "09|")]


def test_an_item_closed_in_time_is_met_when_closed_and_resolved_with_its_bucket() -> None:
    item = _item(status="resolved", claimed_at=START + timedelta(hours=9, minutes=17),
                 resolved_at=START + timedelta(hours=10, minutes=5))
    # first response 7 minutes (bucket 7), resolution 55 minutes (bucket 55)
    assert _hourly(item_keys(item, ZONE)) == [("h:first", "09|7"), ("h:items", "09|"), ("h:met", "10|"),
                                              ("h:resolved", "10|55")]


def test_an_item_closed_late_is_breached_at_its_due_time_not_at_its_closing() -> None:
    item = _item(status="dismissed", claimed_at=START + timedelta(hours=9, minutes=30),
                 resolved_at=START + timedelta(hours=12))
    assert _hourly(item_keys(item, ZONE)) == [("h:breach", "11|"), ("h:first", "09|20"), ("h:items", "09|")]


def test_an_item_filed_closed_by_a_rule_is_only_queued() -> None:
    created = START + timedelta(hours=3)
    item = _item(status="dismissed", created_at=created, resolved_at=created)
    assert [e[0] for e in item_events(item)] == ["h:items"]


def test_a_change_takes_back_exactly_the_hourly_keys_it_had_added() -> None:
    from collections import Counter

    before, after = _item(), _item(status="claimed", claimed_at=START + timedelta(hours=9, minutes=40))
    delta: Counter[tuple[date, str, str, str, str]] = Counter(item_keys(before, ZONE))
    delta.subtract(item_keys(before, ZONE))
    delta.update(item_keys(after, ZONE))
    assert _hourly([k for k, n in delta.items() if n]) == [("h:breach", "11|"), ("h:first", "09|30"),
                                                           ("h:items", "09|")]


def test_times_before_the_day_count_from_hour_zero_and_after_it_in_no_hour() -> None:
    keys = hour_keys(DAY, START, [("h:breach", "", START - timedelta(minutes=5)),
                                  ("h:met", "", START + timedelta(hours=25)),  # the end of a 25-hour day
                                  ("h:met", "", START + timedelta(hours=26))])
    assert [k[4] for k in keys] == ["00|", "25|"]


def test_the_hours_of_a_25_hour_day_run_to_24() -> None:
    start = datetime(2026, 10, 24, 22, 0)  # 2026-10-25 in Paris: UTC+2 until 03:00, then UTC+1
    late = mention_keys("x", start + timedelta(hours=24, minutes=30), "negative", [], None, ZONE)
    assert ("h:seen", "24|negative") in [(k[3], k[4]) for k in late] and late[0][0] == date(2026, 10, 25)


def test_a_post_seen_in_a_later_hour_keeps_when_it_was_seen() -> None:
    written = START + timedelta(hours=12, minutes=59)
    assert seen_late(written, written + timedelta(minutes=1), ZONE) == written + timedelta(minutes=1)
    assert seen_late(written, written + timedelta(seconds=30), ZONE) is None  # the same hour
    assert seen_late(written, written + timedelta(days=2), ZONE) is None  # after its day: in no part of it
    keys = mention_keys("x", written, "positive", ["fraud"], None, ZONE, written + timedelta(minutes=3))
    assert ("h:seen", "13|positive") in [(k[3], k[4]) for k in keys]
    assert mention_keys("x", written, "positive", [], 7, ZONE, written)[0][3] == "copies"  # a copy: no hour


def test_a_post_dated_outside_the_summarys_years_is_folded_without_hourly_counts() -> None:
    """A platform's epoch-0 date (1970) is stored; its fold must not fail every minute from then on."""
    old = datetime(1970, 1, 1)
    keys = mention_keys("x", old, "neutral", [], None, ZONE, datetime(2026, 10, 26, 9))
    assert [k[3] for k in keys] == ["sentiment"]
    assert seen_late(old, datetime(2026, 10, 26, 9), ZONE) is None
    assert _hourly(item_keys(_item(created_at=old, due_at=old + timedelta(hours=1)), ZONE)) == []
