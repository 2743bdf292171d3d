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
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from config.calendars import Holidays as Holidays
from config.calendars import calendar_name
from config.calendars import calendar_year as calendar_year
from config.checks import AtKey, FileModel, OneOf, PositiveInt, Text, Zone, _fail, _is_number, expect, validate
from config.rules import PRIORITIES

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_AROUND_THE_CLOCK: tuple[str, ...] = ("critical",)
DEFAULT_AT_RISK_SHARE = 0.25
_RANGE = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
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


# --- the shape of teams.yaml -----------------------------------------------------------------------


def _range(value: str) -> tuple[int, int]:
    match = _RANGE.fullmatch(value.strip())
    if match is None:
        raise ValueError(value)
    oh, om, ch, cm = (int(g) for g in match.groups())
    opens, closes = oh * 60 + om, ch * 60 + cm
    if om > 59 or cm > 59 or oh > 23 or closes > 24 * 60 or opens >= closes:
        raise ValueError(value)
    return opens, closes


def ranges(value: str | list[str]) -> tuple[tuple[int, int], ...]:
    """``"08:00-19:00"`` or a list of such ranges, as sorted (open, close) minutes after midnight."""
    return tuple(sorted(_range(v) for v in ([value] if isinstance(value, str) else value)))


def _check_hours(value: Any) -> Any:
    expected = 'a time range like "08:00-19:00" (opening before closing, up to 24:00), or a list of them'
    try:
        found = ranges(value) if isinstance(value, str) or (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)) else None
    except ValueError:
        found = None
    if found is None:
        raise PydanticCustomError("expected", "expected {expected}", {"expected": expected})
    for (_, closes), (opens, _) in zip(found, found[1:], strict=False):
        if opens < closes:
            raise PydanticCustomError("expected", "expected time ranges that do not overlap")
    return value


def _day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):  # YAML reads 2026-12-25 as a date
        return value
    return date.fromisoformat(value.strip())


Day = Annotated[str, Field(json_schema_extra={"enum": list(DAY_NAMES)}),
                expect(f"a day name ({', '.join(DAY_NAMES)})", lambda v: v.lower() in DAY_NAMES, str.lower)]
Days = Annotated[list[Day], Field(min_length=1),
                 expect("at least one open day", lambda v: isinstance(v, list) and len(v) > 0)]
Hours = Annotated[str | list[str], BeforeValidator(_check_hours)]
Holiday = Annotated[date, expect("a date like 2026-12-25", _day, _day)]
Calendar = Annotated[str, BeforeValidator(calendar_name)]


class HolidaysBlock(FileModel):
    """Days closed all day: public calendars, plus the firm's own days, minus the days it works."""

    calendars: list[Calendar] = Field(default=[], description="public calendars: FR, FR-57, GB-ENG, GB-SCT, TARGET …")
    add: list[Holiday] = Field(default=[], description="closed although the calendars say open (YYYY-MM-DD)")
    remove: list[Holiday] = Field(default=[], description="open although a calendar says closed (YYYY-MM-DD)")

    @model_validator(mode="after")
    def _not_both(self) -> HolidaysBlock:
        both = sorted(set(self.add) & set(self.remove))
        if both:
            raise AtKey("remove", f"expected no date also in add, got {[d.isoformat() for d in both]!r}")
        return self

    def holidays(self) -> Holidays:
        return Holidays(tuple(dict.fromkeys(self.calendars)), frozenset(self.add), frozenset(self.remove))


def _plain_list_is_add(value: Any) -> Any:
    """``holidays: [2026-12-25, …]``, the form of earlier versions, is read as ``add``."""
    return {"add": value} if isinstance(value, list) else value
TeamKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$"),
                    expect("a lower_snake_case team key", lambda v: re.fullmatch(r"[a-z][a-z0-9_]*", v))]
Share = Annotated[float, Field(gt=0, lt=1), expect("a number between 0 and 1 (exclusive)",
                                                   lambda v: _is_number(v) and 0 < v < 1, float)]


class HoursBlock(FileModel):
    """When the SLA clock runs. In a team's block, the keys given replace the top-level ones."""

    timezone: Zone | None = Field(default=None, description="an IANA time zone; DST changes are followed")
    days: Days | None = Field(default=None, description="open days (mon … sun)")
    hours: Hours | None = Field(default=None, description='"HH:MM-HH:MM" or a list of ranges that do not overlap')
    holidays: Annotated[HolidaysBlock, BeforeValidator(_plain_list_is_add)] | None = Field(
        default=None, description="days closed all day (a plain list of dates: add)")


class SlaMinutes(FileModel):
    critical: PositiveInt = Field(description="minutes to the due time of a critical item")
    high: PositiveInt = Field(description="minutes to the due time of a high-priority item")
    medium: PositiveInt = Field(description="minutes to the due time of a medium-priority item")
    low: PositiveInt = Field(description="minutes to the due time of a low-priority item")


class TeamEntry(FileModel):
    label: Text | None = Field(default=None, description="the team's name as shown (default: from its key)")
    labels: dict[Annotated[str, OneOf(("fr",))], Text] = Field(
        default_factory=dict, description="the team's name in the interface's other languages, e.g. {fr: Juridique}")
    sla_minutes: SlaMinutes = Field(description="minutes from collection to the due time, per priority")
    business_hours: HoursBlock | None = Field(default=None, description="the team's own calendar (keys given replace "
                                                                "the top-level ones)")


class TeamsFile(FileModel):
    teams: dict[TeamKey, TeamEntry] = Field(description="teams that own queues, by key")
    business_hours: HoursBlock | None = Field(default=None, description="when SLA minutes count (none: every minute)")
    around_the_clock: list[Annotated[str, OneOf(PRIORITIES)]] = Field(default=list(DEFAULT_AROUND_THE_CLOCK),
                                                        description="priorities whose SLA counts every minute")
    at_risk_share: Share = Field(default=DEFAULT_AT_RISK_SHARE, description="an item is at risk once less than this "
                                                                    "share of its SLA time is left")

    @field_validator("teams")
    @classmethod
    def _some_team(cls, value: dict[str, TeamEntry]) -> dict[str, TeamEntry]:
        if not value:
            raise ValueError("expected at least one team, got {}")
        return value


@dataclass(frozen=True)
class TeamConfig:
    key: str
    english: str  # the team's name (``label``), the one shown in English and where no other is given
    sla_minutes: Mapping[str, int]
    labels: Mapping[str, str] = field(default_factory=dict)  # other languages' names (``labels``)

    @property
    def label(self) -> str:
        """The team's name in the language of whoever reads (i18n.current_reader)."""
        from i18n import current_reader

        return self.labels.get(current_reader().language, self.english)


def parse_teams(data: Any, file: str = "teams.yaml") -> tuple[TeamConfig, ...]:
    checked = validate(TeamsFile, data, file)
    return tuple(TeamConfig(key, team.label or key.replace("_", " ").capitalize(), team.sla_minutes.model_dump(),
                            dict(team.labels))
                 for key, team in checked.teams.items())


def business_hours(block: HoursBlock, file: str, key: str, base: BusinessHours | None = None) -> BusinessHours:
    """One ``business_hours`` block; keys it leaves out come from ``base`` (the top-level block)."""
    if base is None:
        for needed in ("timezone", "days", "hours"):
            if getattr(block, needed) is None:
                raise _fail(file, f"{key}.{needed}", "a value (no top-level business_hours to inherit)", None)
    inherited = base or BusinessHours("UTC", frozenset(), ())
    return BusinessHours(
        timezone=block.timezone or inherited.timezone,
        days=frozenset(DAY_NAMES.index(d) for d in block.days) if block.days is not None else inherited.days,
        hours=ranges(block.hours) if block.hours is not None else inherited.hours,
        holidays=block.holidays.holidays() if block.holidays is not None else inherited.holidays,
    )


def parse_sla(data: Any, priorities: tuple[str, ...] = PRIORITIES, file: str = "teams.yaml") -> SlaConfig:
    """The SLA clock's settings from teams.yaml (its ``teams`` themselves are read by `parse_teams`)."""
    checked = validate(TeamsFile, data, file)
    base = None
    if checked.business_hours is not None:
        base = business_hours(checked.business_hours, file, "business_hours")
    team_hours = {name: business_hours(team.business_hours, file, f"teams.{name}.business_hours", base)
                  for name, team in checked.teams.items() if team.business_hours is not None}
    return SlaConfig(base, team_hours, frozenset(checked.around_the_clock), checked.at_risk_share)
