"""`teams.yaml` business hours: when SLA minutes count, and when an item turns "at risk".

Top-level keys of teams.yaml (each team may override ``business_hours``)::

    business_hours:
      timezone: Europe/Paris          # an IANA time zone; the clock follows its DST changes
      days: [mon, tue, wed, thu, fri] # open days (mon … sun)
      hours: "08:00-19:00"            # or ranges: ["08:00-12:30", "13:30-19:00"]; "24:00" ends a day
      holidays:                       # days closed all day
        calendars: [FR]               # public calendars: FR, FR-57, GB-ENG, GB-SCT, TARGET … (see below)
        add: [2026-12-24]             # closed although the calendars say open (YYYY-MM-DD)
        remove: [2026-05-25]          # open although a calendar says closed
    around_the_clock: [critical]      # priorities whose SLA counts every minute, open or not
    at_risk_share: 0.25               # "at risk" once less than this share of the SLA's time is left
    teams:
      legal:
        business_hours: {hours: "09:00-18:00"}   # keys given replace the top-level ones

Without a top-level ``business_hours`` (and no team override) every SLA runs around the clock.

A calendar name is a country code of the ``holidays`` package (ISO 3166: ``FR``, ``GB``, ``DE`` …),
optionally followed by ``-`` and one of its subdivisions (``FR-57`` Moselle, ``FR-6AE`` Alsace, also
spelt ``FR-67``/``FR-68``; ``GB-ENG``, ``GB-SCT``, ``GB-WLS``, ``GB-NIR``), or a financial calendar of
the package (``TARGET``: the ECB's TARGET2 closing days, the package's ``XECB``; ``XLON``, ``XPAR`` …).
The package ships its data: the calendars hold for any year. ``holidays`` may also be a plain list of
dates, read as ``add`` (the form of earlier versions). A team's ``holidays`` replaces the whole block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_data

from config.checks import _fail, _list, _mapping, _strings, _text

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_KEYS: tuple[str, ...] = ("timezone", "days", "hours", "holidays")
DEFAULT_AROUND_THE_CLOCK: tuple[str, ...] = ("critical",)
DEFAULT_AT_RISK_SHARE = 0.25
_RANGE = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
HOLIDAY_KEYS: tuple[str, ...] = ("calendars", "add", "remove")
# Names the package does not know, as people write them: TARGET is the ECB's calendar; the Alsace
# subdivision (6AE) covers the Bas-Rhin (67) and Haut-Rhin (68) departments.
CALENDAR_ALIASES: Mapping[str, str] = {"TARGET": "XECB", "FR-67": "FR-6AE", "FR-68": "FR-6AE"}


@cache
def _countries() -> Mapping[str, list[str]]:
    """Country code (and alias) -> its subdivision codes, as the installed package knows them."""
    return holiday_data.list_supported_countries(include_aliases=True)


@cache
def _markets() -> Mapping[str, list[str]]:
    return holiday_data.list_supported_financial(include_aliases=True)


@lru_cache(maxsize=256)
def calendar_year(name: str, year: int) -> frozenset[date]:
    """The closed days of one calendar (a name `calendar_name` accepted) in one year. Cached: the
    SLA clock asks for every day of the items it places."""
    code, _, subdiv = name.partition("-")
    if not subdiv and code in _markets():
        return frozenset(holiday_data.financial_holidays(code, years=year))
    return frozenset(holiday_data.country_holidays(code, subdiv=subdiv or None, years=year))


def calendar_name(value: Any, file: str, key: str) -> str:
    """A calendar name from teams.yaml, normalised (``gb-sct`` -> ``GB-SCT``, ``TARGET`` -> ``XECB``)."""
    raw = _text(value, file, key)
    name = CALENDAR_ALIASES.get(raw.upper(), raw)
    code, dash, subdiv = name.partition("-")
    code = code.upper()
    if not dash and code in _markets():
        return code
    if code not in _countries():
        valid = ", ".join(["TARGET", *sorted(_markets()), *sorted(_countries())])
        raise _fail(file, key, f"a calendar name: a country code with an optional -subdivision, "
                               f"or a financial calendar; one of {valid}", raw)
    if not dash:
        return code
    subdivisions = _countries()[code]
    by_upper = {s.upper(): s for s in subdivisions}
    if subdiv.upper() not in by_upper:
        aliases = holiday_data.country_holidays(code).subdivisions_aliases
        if subdiv not in aliases:
            valid = ", ".join(f"{code}-{s}" for s in subdivisions) or f"{code} (no subdivisions)"
            raise _fail(file, key, f"a subdivision of {code}: one of {valid}", raw)
        return f"{code}-{aliases[subdiv]}"
    return f"{code}-{by_upper[subdiv.upper()]}"


@dataclass(frozen=True)
class Holidays:
    """Days closed all day: those of public calendars, plus the firm's own (``add``), minus the days
    the firm works although a calendar says closed (``remove``)."""

    calendars: tuple[str, ...] = ()  # normalised names, see `calendar_name`
    add: frozenset[date] = frozenset()
    remove: frozenset[date] = frozenset()

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self.add:
            return True
        if day in self.remove:
            return False
        return any(day in calendar_year(name, day.year) for name in self.calendars)


@dataclass(frozen=True)
class BusinessHours:
    """When a team's SLA clock runs: open days and hours in a time zone, minus holidays."""

    timezone: str
    days: frozenset[int]  # 0 = Monday … 6 = Sunday
    hours: tuple[tuple[int, int], ...]  # sorted, non-overlapping (open, close) in minutes after local midnight
    holidays: Holidays = Holidays()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # zoneinfo caches instances by key

    def is_open_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays


@dataclass(frozen=True)
class SlaConfig:
    business_hours: BusinessHours | None = None  # None: around the clock
    team_hours: Mapping[str, BusinessHours] = field(default_factory=dict)  # per-team overrides
    around_the_clock: frozenset[str] = frozenset(DEFAULT_AROUND_THE_CLOCK)
    at_risk_share: float = DEFAULT_AT_RISK_SHARE

    def hours_for(self, team: str) -> BusinessHours | None:
        return self.team_hours.get(team, self.business_hours)


def _zone(value: Any, file: str, key: str) -> str:
    name = _text(value, file, key)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _fail(file, key, "an IANA time zone", name) from None
    return name


def _days(value: Any, file: str, key: str) -> frozenset[int]:
    names = _strings(value, file, key)
    if not names:
        raise _fail(file, key, "at least one open day", value)
    out: set[int] = set()
    for i, name in enumerate(names):
        if name.lower() not in DAY_NAMES:
            raise _fail(file, f"{key}[{i}]", f"a day name ({', '.join(DAY_NAMES)})", name)
        out.add(DAY_NAMES.index(name.lower()))
    return frozenset(out)


def _range(value: Any, file: str, key: str) -> tuple[int, int]:
    expected = 'a time range like "08:00-19:00" (opening before closing, up to 24:00)'
    match = _RANGE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _fail(file, key, expected, value)
    oh, om, ch, cm = (int(g) for g in match.groups())
    opens, closes = oh * 60 + om, ch * 60 + cm
    if om > 59 or cm > 59 or oh > 23 or closes > 24 * 60 or opens >= closes:
        raise _fail(file, key, expected, value)
    return opens, closes


def _hours(value: Any, file: str, key: str) -> tuple[tuple[int, int], ...]:
    if isinstance(value, str):
        ranges = [_range(value, file, key)]
    else:
        ranges = [_range(v, file, f"{key}[{i}]") for i, v in enumerate(_list(value, file, key))]
        if not ranges:
            raise _fail(file, key, "at least one time range", value)
    ranges.sort()
    for (_, closes), (opens, _) in zip(ranges, ranges[1:], strict=False):
        if opens < closes:
            raise _fail(file, key, "time ranges that do not overlap", value)
    return tuple(ranges)


def _dates(value: Any, file: str, key: str) -> frozenset[date]:
    out: set[date] = set()
    for i, raw in enumerate(_list(value, file, key)):
        day: date | None = None
        if isinstance(raw, date) and not isinstance(raw, datetime):  # YAML reads 2026-12-25 as a date
            day = raw
        elif isinstance(raw, str):
            try:
                day = date.fromisoformat(raw.strip())
            except ValueError:
                day = None
        if day is None:
            raise _fail(file, f"{key}[{i}]", "a date like 2026-12-25", raw)
        out.add(day)
    return frozenset(out)


def _holidays(value: Any, file: str, key: str) -> Holidays:
    """``{calendars: [FR], add: [...], remove: [...]}``; a plain list of dates is ``add``."""
    if isinstance(value, list):
        return Holidays(add=_dates(value, file, key))
    raw = _mapping(value, file, key)
    extra = sorted(str(k) for k in raw if k not in HOLIDAY_KEYS)
    if extra:
        raise _fail(file, key, f"only {', '.join(HOLIDAY_KEYS)} (or a list of dates)", extra)
    names = _list(raw.get("calendars", []), file, f"{key}.calendars")
    calendars = tuple(dict.fromkeys(calendar_name(v, file, f"{key}.calendars[{i}]") for i, v in enumerate(names)))
    add = _dates(raw.get("add", []), file, f"{key}.add")
    remove = _dates(raw.get("remove", []), file, f"{key}.remove")
    both = sorted(add & remove)
    if both:
        raise _fail(file, f"{key}.remove", "no date also in add", [d.isoformat() for d in both])
    return Holidays(calendars, add, remove)


def parse_business_hours(
    data: Any, file: str, key: str, base: BusinessHours | None = None
) -> BusinessHours:
    """One ``business_hours`` block; keys it leaves out come from ``base`` (the top-level block)."""
    raw = _mapping(data, file, key)
    extra = sorted(str(k) for k in raw if k not in HOURS_KEYS)
    if extra:
        raise _fail(file, key, f"only {', '.join(HOURS_KEYS)}", extra)
    if base is None:
        for needed in ("timezone", "days", "hours"):
            if needed not in raw:
                raise _fail(file, f"{key}.{needed}", "a value (no top-level business_hours to inherit)", None)
    inherited = base or BusinessHours("UTC", frozenset(), ())
    return BusinessHours(
        timezone=_zone(raw["timezone"], file, f"{key}.timezone") if "timezone" in raw else inherited.timezone,
        days=_days(raw["days"], file, f"{key}.days") if "days" in raw else inherited.days,
        hours=_hours(raw["hours"], file, f"{key}.hours") if "hours" in raw else inherited.hours,
        holidays=_holidays(raw["holidays"], file, f"{key}.holidays") if "holidays" in raw else inherited.holidays,
    )


def _share(value: Any, file: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise _fail(file, key, "a number between 0 and 1 (exclusive)", value)
    return float(value)


def parse_sla(data: Any, priorities: tuple[str, ...], file: str = "teams.yaml") -> SlaConfig:
    """The SLA clock's settings from teams.yaml (its ``teams`` themselves are read by `parse_teams`)."""
    root = _mapping(data, file, "(top level)")
    base = None
    if root.get("business_hours") is not None:
        base = parse_business_hours(root["business_hours"], file, "business_hours")
    team_hours: dict[str, BusinessHours] = {}
    for name, raw in _mapping(root.get("teams"), file, "teams").items():
        if isinstance(raw, Mapping) and raw.get("business_hours") is not None:
            team_hours[str(name)] = parse_business_hours(
                raw["business_hours"], file, f"teams.{name}.business_hours", base
            )
    around = _strings(root.get("around_the_clock", list(DEFAULT_AROUND_THE_CLOCK)), file, "around_the_clock")
    for i, prio in enumerate(around):
        if prio not in priorities:
            raise _fail(file, f"around_the_clock[{i}]", f"one of {', '.join(priorities)}", prio)
    share = _share(root.get("at_risk_share", DEFAULT_AT_RISK_SHARE), file, "at_risk_share")
    return SlaConfig(base, team_hours, frozenset(around), share)
