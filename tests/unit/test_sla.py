"""The business-hours SLA clock and its teams.yaml keys: pure functions, no database."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.settings import PRIORITIES, ConfigError, load_settings
from config.sla import BusinessHours, Holidays, calendar_year, parse_sla
from models.sla import SlaClock, add_business_time, business_time_between
from tests.kit import config_dir

REPO = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = frozenset(range(5))
OFFICE = BusinessHours("Europe/Paris", WEEKDAYS, ((8 * 60, 19 * 60),), Holidays(add=frozenset({date(2026, 12, 25)})))
EVERY_DAY = BusinessHours("Europe/Paris", frozenset(range(7)), ((8 * 60, 19 * 60),))


def paris(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Paris wall-clock time as the naive UTC the clock takes and gives."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def clock(hours: BusinessHours = OFFICE, share: float = 0.25) -> SlaClock:
    minutes = {"service": {"critical": 15, "high": 60, "medium": 240, "low": 4320}}
    return SlaClock(minutes, {"service": hours}, frozenset({"critical"}), share)


# --- the clock ----------------------------------------------------------------------------------


def test_start_inside_hours_counts_straight_on() -> None:
    at_risk, due = clock().deadlines("service", "high", paris(2026, 11, 25, 10, 0))  # a Wednesday
    assert due == paris(2026, 11, 25, 11, 0)
    assert at_risk == paris(2026, 11, 25, 10, 45)


def test_start_before_opening_waits_for_it() -> None:
    _, due = clock().deadlines("service", "high", paris(2026, 11, 25, 6, 30))
    assert due == paris(2026, 11, 25, 9, 0)


def test_evening_start_carries_over_to_the_next_morning() -> None:
    _, due = clock().deadlines("service", "high", paris(2026, 11, 25, 18, 30))
    assert due == paris(2026, 11, 26, 8, 30)


def test_friday_evening_is_due_on_monday() -> None:
    at_risk, due = clock().deadlines("service", "high", paris(2026, 11, 27, 20, 15))  # Friday, closed
    assert (at_risk, due) == (paris(2026, 11, 30, 8, 45), paris(2026, 11, 30, 9, 0))


def test_holiday_is_skipped() -> None:
    _, due = clock().deadlines("service", "high", paris(2026, 12, 24, 18, 30))  # Thursday before Christmas
    assert due == paris(2026, 12, 28, 8, 30)  # not Friday the 25th (holiday), not the weekend


def test_multi_day_sla_walks_days() -> None:
    # 72 business hours from Thursday 24 December 10:00: 9 h that day, four 11-hour days up to the 31st,
    # 1 January off, 11 h on Monday the 4th, then 8 h into Tuesday the 5th.
    closed = Holidays(add=frozenset({date(2026, 12, 25), date(2027, 1, 1)}))
    hours = BusinessHours("Europe/Paris", WEEKDAYS, ((480, 1140),), closed)
    at_risk, due = clock(hours).deadlines("service", "low", paris(2026, 12, 24, 10, 0))
    assert due == paris(2027, 1, 5, 16, 0)
    assert at_risk == paris(2027, 1, 4, 9, 0)  # 54 h: the 53 h up to the 31st, then one


def test_spring_forward_weekend_in_paris() -> None:
    # Friday 27 March 2026 18:00 CET (UTC+1); Monday 30 March opens at 08:00 CEST (UTC+2).
    _, due = clock().deadlines("service", "medium", paris(2026, 3, 27, 18, 0))
    assert due == paris(2026, 3, 30, 11, 0)
    assert due == datetime(2026, 3, 30, 9, 0)  # 11:00 CEST in UTC


def test_dst_change_day_itself() -> None:
    # Sunday 29 March 2026: clocks jump from 02:00 to 03:00 in Paris.
    _, due = SlaClock({"t": {"high": 60}}, {"t": EVERY_DAY}).deadlines("t", "high", paris(2026, 3, 28, 18, 30))
    assert due == paris(2026, 3, 29, 8, 30) == datetime(2026, 3, 29, 6, 30)
    night = BusinessHours("Europe/Paris", frozenset(range(7)), ((60, 240),))  # 01:00-04:00: 2 real hours that night
    start = paris(2026, 3, 29, 1, 0)
    assert business_time_between(start, paris(2026, 3, 29, 4, 0), night) == timedelta(hours=2)
    assert add_business_time(start, timedelta(minutes=150), night) == paris(2026, 3, 30, 1, 30)
    # In October the same night has 4 real hours (02:00-03:00 happens twice).
    autumn = paris(2026, 10, 25, 1, 0)
    assert business_time_between(autumn, autumn + timedelta(hours=6), night) == timedelta(hours=4)


def test_always_open_calendar_equals_around_the_clock_across_dst() -> None:
    always = BusinessHours("Europe/Paris", frozenset(range(7)), ((0, 24 * 60),))
    for start in (paris(2026, 3, 28, 23, 0), paris(2026, 10, 24, 22, 45)):
        assert add_business_time(start, timedelta(hours=30), always) == start + timedelta(hours=30)


def test_around_the_clock_priority_ignores_business_hours() -> None:
    start = paris(2026, 11, 27, 23, 50)  # Friday night
    at_risk, due = clock().deadlines("service", "critical", start)
    assert due == start + timedelta(minutes=15)
    assert at_risk == start + timedelta(minutes=11, seconds=15)


def test_at_risk_point_leaves_the_share_of_business_time() -> None:
    start = paris(2026, 11, 27, 16, 0)  # Friday afternoon, 240 business minutes: 180 today, 60 on Monday
    at_risk, due = clock(share=0.4).deadlines("service", "medium", start)
    assert business_time_between(at_risk, due, OFFICE) == timedelta(minutes=96)  # 40 % of 240
    assert business_time_between(start, at_risk, OFFICE) == timedelta(minutes=144)
    assert (at_risk, due) == (paris(2026, 11, 27, 18, 24), paris(2026, 11, 30, 9, 0))


def test_team_without_business_hours_counts_every_minute() -> None:
    legacy = SlaClock({"service": {"high": 60}})
    start = datetime(2026, 11, 28, 3, 0)
    assert legacy.deadlines("service", "high", start) == (start + timedelta(minutes=45), start + timedelta(hours=1))
    assert legacy.knows("service") and not legacy.knows("sales")


def test_aware_start_is_taken_as_utc() -> None:
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert add_business_time(start, timedelta(hours=1), OFFICE) == datetime(2026, 11, 25, 10, 0)


def test_long_slas_are_fast() -> None:
    c = clock()
    begin = time.perf_counter()
    for i in range(500):
        c.deadlines("service", "low", paris(2026, 11, 1, 0, 0) + timedelta(minutes=37 * i))
    assert time.perf_counter() - begin < 2.0  # a day-by-day walk; minute by minute would take far longer


def test_shipped_clock_friday_evening() -> None:
    s = load_settings(env={})
    shipped = SlaClock.from_settings(s)
    _, due = shipped.deadlines("customer_service", "high", paris(2026, 11, 27, 19, 30))
    assert due == paris(2026, 11, 30, 9, 0)
    _, critical_due = shipped.deadlines("customer_service", "critical", paris(2026, 11, 27, 19, 30))
    assert critical_due == paris(2026, 11, 27, 19, 45)


# --- teams.yaml ---------------------------------------------------------------------------------


def test_shipped_business_hours() -> None:
    sla = load_settings(env={}).sla
    assert sla.business_hours is not None
    assert sla.business_hours.timezone == "Europe/Paris"
    assert sla.business_hours.days == WEEKDAYS
    assert sla.business_hours.hours == ((480, 1140),)
    assert sla.business_hours.holidays == Holidays(("FR",))
    for day in (date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 14), date(2026, 7, 14), date(2027, 3, 29),
                date(2027, 5, 6), date(2027, 12, 25), date(2031, 4, 14), date(2040, 11, 11)):
        assert not sla.business_hours.is_open_day(day), day
    assert sla.business_hours.is_open_day(date(2031, 4, 15))
    assert sla.around_the_clock == frozenset({"critical"}) and sla.at_risk_share == 0.25


def _teams(**top: Any) -> dict[str, Any]:
    minutes = {"critical": 15, "high": 60, "medium": 240, "low": 1440}
    data: dict[str, Any] = {"teams": {"service": {"sla_minutes": minutes}, "legal": {"sla_minutes": minutes}}}
    data["business_hours"] = {"timezone": "Europe/Paris", "days": ["mon", "tue", "wed", "thu", "fri"],
                              "hours": "08:00-19:00", "holidays": [date(2026, 12, 25), "2027-01-01"]}
    data.update(top)
    return data


def test_team_override_inherits_the_rest() -> None:
    data = _teams()
    data["teams"]["legal"]["business_hours"] = {"hours": ["09:00-12:30", "13:30-18:00"]}
    sla = parse_sla(data, PRIORITIES)
    legal = sla.hours_for("legal")
    assert legal is not None and legal.hours == ((540, 750), (810, 1080))
    assert legal.timezone == "Europe/Paris"
    assert legal.holidays == Holidays(add=frozenset({date(2026, 12, 25), date(2027, 1, 1)}))  # a plain list: add
    assert sla.hours_for("service") == sla.business_hours


def test_no_business_hours_means_around_the_clock() -> None:
    data = _teams()
    del data["business_hours"]
    assert parse_sla(data, PRIORITIES).hours_for("service") is None
    data["teams"]["legal"]["business_hours"] = {"hours": "09:00-18:00"}
    with pytest.raises(ConfigError, match=r"^teams.yaml: teams.legal.business_hours.timezone: expected a value"):
        parse_sla(data, PRIORITIES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"},
         "teams.yaml: business_hours.timezone: expected an IANA time zone, got 'Mars/Olympus'"),
        ({"days": ["mon", "funday"]},
         "teams.yaml: business_hours.days[1]: expected a day name (mon, tue, wed, thu, fri, sat, sun), got 'funday'"),
        ({"days": []}, "teams.yaml: business_hours.days: expected at least one open day, got []"),
        ({"hours": "8h-19h"}, "teams.yaml: business_hours.hours: expected a time range like \"08:00-19:00\""),
        ({"hours": "19:00-08:00"}, "teams.yaml: business_hours.hours: expected a time range like \"08:00-19:00\""),
        ({"hours": "08:00-24:30"}, "teams.yaml: business_hours.hours: expected a time range"),
        ({"hours": ["08:00-13:00", "12:00-19:00"]},
         "teams.yaml: business_hours.hours: expected time ranges that do not overlap"),
        ({"holidays": ["2026-02-30"]},
         "teams.yaml: business_hours.holidays.add[0]: expected a date like 2026-12-25, got '2026-02-30'"),
        ({"lunch": "12:00-13:00"},
         "teams.yaml: business_hours.lunch: unknown key; expected one of timezone, days, hours, holidays"),
        ({"timzone": "Europe/Paris"}, "teams.yaml: business_hours.timzone: unknown key; did you mean timezone?"),
        ({"holidays": {"calendars": ["FR", "ZZ"]}},
         "teams.yaml: business_hours.holidays.calendars[1]: expected a calendar name: a country code with an "
         "optional -subdivision, or a financial calendar; one of TARGET, "),
        ({"holidays": {"calendars": ["GB-LDN"]}},
         "teams.yaml: business_hours.holidays.calendars[0]: expected a subdivision of GB: one of GB-ENG, GB-NIR, "
         "GB-SCT, GB-WLS, got 'GB-LDN'"),
        ({"holidays": {"calendars": "FR"}}, "teams.yaml: business_hours.holidays.calendars: expected a list, got 'FR'"),
        ({"holidays": {"add": ["2031-13-01"]}},
         "teams.yaml: business_hours.holidays.add[0]: expected a date like 2026-12-25, got '2031-13-01'"),
        ({"holidays": {"add": [date(2031, 5, 2)], "remove": [date(2031, 5, 2)]}},
         "teams.yaml: business_hours.holidays.remove: expected no date also in add, got ['2031-05-02']"),
        ({"holidays": {"calendar": ["FR"]}},
         "teams.yaml: business_hours.holidays.calendar: unknown key; did you mean calendars?"),
    ],
)
def test_bad_business_hours(change: dict[str, Any], message: str) -> None:
    data = _teams()
    data["business_hours"].update(change)
    with pytest.raises(ConfigError) as err:
        parse_sla(data, PRIORITIES)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"around_the_clock": ["urgent"]},
         "teams.yaml: around_the_clock[0]: expected one of critical, high, medium, low, got 'urgent'"),
        ({"at_risk_share": 1.5}, "teams.yaml: at_risk_share: expected a number between 0 and 1 (exclusive), got 1.5"),
        ({"at_risk_share": "a quarter"}, "teams.yaml: at_risk_share: expected a number between 0 and 1"),
    ],
)
def test_bad_clock_settings(top: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_sla(_teams(**top), PRIORITIES)
    assert str(err.value).startswith(message)


def test_bad_team_override_names_the_team(tmp_path: Path) -> None:
    cfg = config_dir(tmp_path, "cfg",
                     teams=lambda data: data["teams"]["legal"].update(business_hours={"timezone": "Europe/Pariss"}))
    with pytest.raises(ConfigError) as err:
        load_settings(env={"VIGIE_CONFIG": str(cfg)})
    assert str(err.value) == ("teams.yaml: teams.legal.business_hours.timezone: expected an IANA time zone, "
                              "got 'Europe/Pariss'")


# --- public calendars ---------------------------------------------------------------------------


def _calendars(holidays: Any, team_holidays: Any = None) -> Any:
    data = _teams(business_hours={"timezone": "Europe/Paris", "days": ["mon", "tue", "wed", "thu", "fri"],
                                  "hours": "08:00-19:00", "holidays": holidays})
    if team_holidays is not None:
        data["teams"]["legal"]["business_hours"] = {"timezone": "Europe/London", "holidays": team_holidays}
    return parse_sla(data, PRIORITIES)


def test_calendars_close_their_days_in_any_year() -> None:
    sla = _calendars({"calendars": ["FR", "TARGET"], "add": ["2031-05-02"], "remove": [date(2031, 5, 8)]},
                     {"calendars": ["gb-eng"]})
    paris_hours, london = sla.hours_for("service"), sla.hours_for("legal")
    assert paris_hours is not None and london is not None
    assert paris_hours.holidays.calendars == ("FR", "XECB") and london.holidays.calendars == ("GB-ENG",)
    assert not paris_hours.is_open_day(date(2031, 4, 14))  # Easter Monday, FR
    assert not paris_hours.is_open_day(date(2031, 5, 1))  # 1 May: FR and TARGET
    assert not paris_hours.is_open_day(date(2031, 5, 2))  # a Friday the firm adds
    assert paris_hours.is_open_day(date(2031, 5, 8))  # Victory Day (FR), a Thursday the firm removes
    assert paris_hours.is_open_day(date(2031, 5, 7))
    assert not london.is_open_day(date(2031, 12, 26))  # Boxing Day, GB-ENG
    assert london.is_open_day(date(2031, 7, 14)) and london.is_open_day(date(2031, 12, 1))


def test_subdivisions_have_their_own_days() -> None:
    sla = _calendars({"calendars": ["GB-SCT"]}, {"calendars": ["GB-ENG"]})
    scotland, england = sla.hours_for("service"), sla.hours_for("legal")
    assert scotland is not None and england is not None
    # St Andrew's Day falls on Sunday 30 November 2031: Scotland closes on Monday 1 December.
    assert not scotland.is_open_day(date(2031, 12, 1)) and england.is_open_day(date(2031, 12, 1))
    assert not scotland.is_open_day(date(2031, 1, 2)) and england.is_open_day(date(2031, 1, 2))
    assert scotland.is_open_day(date(2031, 8, 25)) and not england.is_open_day(date(2031, 8, 25))
    moselle = _calendars({"calendars": ["FR-57"]}).hours_for("service")
    alsace = _calendars({"calendars": ["FR-67"]}).hours_for("service")
    assert moselle is not None and alsace is not None and alsace.holidays.calendars == ("FR-6AE",)
    for hours in (moselle, alsace):  # Good Friday and St Stephen's Day, not closed elsewhere in France
        assert not hours.is_open_day(date(2031, 4, 11)) and not hours.is_open_day(date(2031, 12, 26))
    assert OFFICE.is_open_day(date(2031, 4, 11))


def test_the_clock_skips_calendar_days() -> None:
    hours = _calendars({"calendars": ["FR"]}).hours_for("service")
    assert hours is not None
    # Friday 11 April 2031, 18:30: Saturday, Sunday, Easter Monday closed; due Tuesday 08:30.
    assert add_business_time(paris(2031, 4, 11, 18, 30), timedelta(hours=1), hours) == paris(2031, 4, 15, 8, 30)


def test_a_calendar_year_is_built_once() -> None:
    calendar_year.cache_clear()
    hours = _calendars({"calendars": ["FR", "TARGET"]}).hours_for("service")
    assert hours is not None
    open_days = [hours.is_open_day(date(2033, 1, 1) + timedelta(days=n)) for n in range(365 * 2)]
    assert open_days.count(True) < 2 * 261  # weekdays minus holidays
    info = calendar_year.cache_info()
    assert info.misses == 4 and info.currsize == 4  # two calendars, two years
