"""Times and numbers as people read them (i18n/formats.py): pure functions, no clock, no request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from i18n import Reader
from i18n import formats as fmt

PARIS = ZoneInfo("Europe/Paris")
FR, EN = Reader("fr", PARIS), Reader("en", PARIS)
NOW = datetime(2026, 12, 4, 9, 42)  # naive UTC, as stored


def test_numbers_take_the_language_separators() -> None:
    assert fmt.number(10505, EN) == "10,505"
    assert fmt.number(10505, FR) == "10\u202f505"
    assert fmt.number(0.5, FR) == "0,5"
    assert fmt.percent(0.456, FR, 1) == "45,6\xa0%"


def test_local_time_carries_date_time_and_offset_in_the_reader_zone() -> None:
    assert fmt.local(NOW, FR) == "4 déc. 2026, 10:42 UTC+01:00"
    assert fmt.local(datetime(2026, 7, 4, 9, 42), EN) == "Jul 4, 2026, 11:42 UTC+02:00"  # summer time
    assert fmt.local(NOW, Reader("en")) == "Dec 4, 2026, 09:42 UTC+00:00"
    assert fmt.local(NOW.replace(tzinfo=UTC), FR) == "4 déc. 2026, 10:42 UTC+01:00"  # aware times alike


def test_recent_times_are_relative_older_ones_a_date() -> None:
    assert fmt.relative(NOW - timedelta(minutes=12), NOW, FR) == "il y a 12 min"
    assert fmt.relative(NOW - timedelta(minutes=12), NOW, EN) == "12 min ago"
    assert fmt.relative(NOW - timedelta(hours=5, minutes=3), NOW, EN) == "5 h 03 ago"
    assert fmt.relative(NOW - timedelta(seconds=20), NOW, FR) == "à l’instant"
    assert fmt.relative(NOW + timedelta(hours=3), NOW, FR) == "dans 3 h"
    assert fmt.relative(NOW - timedelta(days=9), NOW, FR) == "25 nov. 2026"


def test_sla_deadlines_say_how_long_is_left_or_how_late() -> None:
    assert fmt.due(NOW + timedelta(minutes=25), NOW, EN) == "in 25 min"
    assert fmt.due(NOW - timedelta(hours=1, minutes=10), NOW, EN) == "overdue by 1 h 10"
    assert fmt.due(NOW - timedelta(hours=1, minutes=10), NOW, FR) == "en retard de 1 h 10"
    assert fmt.due(NOW - timedelta(days=2, hours=3), NOW, FR) == "en retard de 2 j 3 h"
    assert fmt.due(NOW + timedelta(seconds=30), NOW, EN) == "due now"
