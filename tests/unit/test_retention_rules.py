"""The purge's pure rules (models.retention, models.holds), as properties over random settings,
records and clocks: a record is never due before any end promised to it, stays due once due, and
a hold only ever widens with what it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from config.archive import Duration, Retention, RetentionRule
from models.holds import HoldScope, is_held, scope_matches
from models.retention import effective_end, is_due, longest_class

NAMES = ("a", "b", "c")
TEAMS = ("legal", "service", None)


@dataclass(frozen=True)
class Record:
    at: datetime
    retain_until: datetime
    retention_class: str
    network: str | None
    brand: str | None
    team: str | None
    mention_id: int | None = None
    author: str | None = None
    source_id: int | None = None


durations = st.builds(Duration, st.integers(1, 9), st.sampled_from(("y", "d", "h")))
retentions = st.builds(
    lambda classes, rules, default: Retention(classes, default if default in classes else sorted(classes)[0],
                                              tuple(RetentionRule(c, team=t) for c, t in rules if c in classes)),
    st.dictionaries(st.sampled_from(NAMES), durations, min_size=1),
    st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(TEAMS)), max_size=3),
    st.sampled_from(NAMES))
# eight years of records, the leap days and the last second of a day among them
times = st.one_of(st.datetimes(datetime(2018, 1, 1), datetime(2026, 1, 1)),
                  st.sampled_from((datetime(2020, 2, 29, 12), datetime(2024, 2, 29, 23, 59, 59, 999999))))


def _written(retention: Retention, at: datetime, team: str | None) -> Record:
    name = retention.class_for("x", None, team)
    return Record(at, retention.until(name, at), name, "x", None, team)


@settings(max_examples=300, deadline=None)
@given(retentions, retentions, times, st.sampled_from(TEAMS), st.timedeltas(timedelta(0), timedelta(days=5000)))
def test_never_due_before_any_promised_end(then: Retention, now_settings: Retention, at: datetime,
                                           team: str | None, after: timedelta) -> None:
    record = _written(then, at, team)
    now = at + after
    if is_due(now_settings, record, now):
        assert now > record.retain_until  # what was promised when it was written
        assert now > now_settings.until(record.retention_class, at)  # its class today (or the longest)
        assert now > now_settings.until(now_settings.class_for("x", None, team), at)  # today's rule
        assert is_due(now_settings, record, now + timedelta(seconds=1))  # and due it stays
        assert is_due(now_settings, record, now.replace(tzinfo=UTC))  # an aware clock reads the same
    end = effective_end(now_settings, record.retain_until, record.retention_class, at, "x", None, team)
    assert not is_due(now_settings, record, end) and is_due(now_settings, record, end + timedelta(microseconds=1))


@given(retentions, times)
def test_the_longest_class_outlasts_every_class(retention: Retention, at: datetime) -> None:
    longest = longest_class(retention, at)
    assert all(retention.until(longest, at) >= retention.until(name, at) for name in retention.classes)


scopes = st.builds(HoldScope, st.lists(st.integers(1, 5), max_size=2).map(tuple),
                   st.lists(st.sampled_from(("x:@a", "x:@b")), max_size=2).map(tuple), st.just(()),
                   st.none() | times, st.none() | times, st.none(), st.lists(st.integers(1, 3), max_size=1).map(tuple))
records = st.builds(lambda at, m, a, s: Record(at, at, "a", "x", None, None, m, a, s), times,
                    st.none() | st.integers(1, 5), st.none() | st.sampled_from(("x:@a", "x:@b")),
                    st.none() | st.integers(1, 3))


@given(scopes, records, st.integers(1, 5), st.sampled_from(("x:@a", "X:@B")))
def test_naming_more_never_releases_a_record(scope: HoldScope, record: Record, item: int, author: str) -> None:
    if scope_matches(scope, record) and (scope.mention_ids or scope.authors or scope.source_ids):
        wider = HoldScope(scope.mention_ids + (item,), scope.authors + (author,), (), scope.since, scope.until,
                          None, scope.source_ids)
        assert scope_matches(wider, record)
    assert is_held(record, [scope]) == scope_matches(scope, record)
