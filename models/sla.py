"""SLA deadlines: when an item is due and when it turns "at risk", per team and priority.

Pure functions of the configuration: `SlaClock.deadlines(team, priority, start)` gives
(at_risk_at, due_at) in naive UTC. The team's SLA minutes count only inside its business
hours (`config.sla.BusinessHours`: open days and hours in a time zone, minus holidays), except
for the around-the-clock priorities (by default ``critical``) and for teams without business
hours, whose minutes all count. An item is at risk once less than ``at_risk_share`` of its
SLA's (business) time is left.

The clock walks whole opening ranges, day by day, converting each range's local opening and
closing to UTC with zoneinfo (cached per calendar day: posts collected the same day share the
work), at-risk and due in one walk. A range on a DST-change day is as long as it really is: an
08:00-19:00 day is 11 hours of real time on either side of the change, and a range spanning
the change itself is one hour shorter or longer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from config.sla import DEFAULT_AT_RISK_SHARE, BusinessHours
from models.tables import to_naive_utc

if TYPE_CHECKING:
    from config.settings import Settings

AT_RISK_SHARE = DEFAULT_AT_RISK_SHARE  # at risk once less than this share of the SLA time is left
MAX_DAYS = 3700  # ten years of calendar days: a valid calendar always opens long before this
ONE_DAY = timedelta(days=1)


def _local_to_utc(day: datetime, minute: int, zone: ZoneInfo) -> datetime:
    """``minute`` minutes after local midnight of ``day`` (24:00 is the next midnight), as naive UTC."""
    local = day + timedelta(minutes=minute)  # wall-clock arithmetic, then placed in the zone
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


@lru_cache(maxsize=4096)
def open_ranges(hours: BusinessHours, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The day's opening ranges as naive-UTC (opens, closes); none on a closed day or a holiday.
    Cached: the collectors ask for the same few days for every post they store."""
    if not hours.is_open_day(day):
        return ()
    zone = hours.zone
    midnight = datetime.combine(day, time())
    out = []
    for opens_minute, closes_minute in hours.hours:
        opens, closes = _local_to_utc(midnight, opens_minute, zone), _local_to_utc(midnight, closes_minute, zone)
        if closes > opens:  # a range lost in a DST gap has no time in it
            out.append((opens, closes))
    return tuple(out)


def _local_day(moment: datetime, hours: BusinessHours) -> date:
    return moment.replace(tzinfo=UTC).astimezone(hours.zone).date()


def add_business_time(start: datetime, amount: timedelta, hours: BusinessHours) -> datetime:
    """The naive-UTC moment when ``amount`` of business time has passed since ``start`` (naive UTC).

    A start outside business hours begins counting at the next opening."""
    return add_business_times(start, (amount,), hours)[0]


def add_business_times(start: datetime, amounts: tuple[timedelta, ...], hours: BusinessHours) -> list[datetime]:
    """`add_business_time` for several amounts (ascending) in one walk: at-risk and due together."""
    start = to_naive_utc(start)
    out: list[datetime] = []
    used = timedelta()  # business time counted before the current range
    day = _local_day(start, hours)
    for _ in range(MAX_DAYS):
        for opens, closes in open_ranges(hours, day):
            begin = max(opens, start)
            if begin >= closes:
                continue  # already closed when the clock starts
            while amounts[len(out)] - used <= closes - begin:
                out.append(begin + (amounts[len(out)] - used))
                if len(out) == len(amounts):
                    return out
            used += closes - begin
        day += ONE_DAY
    raise ValueError(f"business hours in {hours.timezone} never open within {MAX_DAYS} days of {start}")


def business_time_between(start: datetime, end: datetime, hours: BusinessHours) -> timedelta:
    """How much business time lies between two naive-UTC moments (zero if ``end`` is not after ``start``)."""
    start, end = to_naive_utc(start), to_naive_utc(end)
    total = timedelta()
    day, last = _local_day(start, hours), _local_day(end, hours)
    while end > start and day <= last:
        for opens, closes in open_ranges(hours, day):
            if min(closes, end) > max(opens, start):
                total += min(closes, end) - max(opens, start)
        day += ONE_DAY
    return total


@dataclass(frozen=True)
class SlaClock:
    minutes: Mapping[str, Mapping[str, int]]  # team -> priority -> SLA minutes
    hours: Mapping[str, BusinessHours | None] = field(default_factory=dict)  # team -> hours; absent: always open
    around_the_clock: frozenset[str] = frozenset()  # priorities counted every minute
    at_risk_share: float = AT_RISK_SHARE

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaClock:
        sla = settings.sla
        return cls(
            {t.key: t.sla_minutes for t in settings.teams},
            {t.key: sla.hours_for(t.key) for t in settings.teams},
            sla.around_the_clock,
            sla.at_risk_share,
        )

    def knows(self, team: str) -> bool:
        return team in self.minutes

    def business_hours(self, team: str, priority: str) -> BusinessHours | None:
        """The calendar the item's clock follows; None when every minute counts."""
        if priority in self.around_the_clock:
            return None
        return self.hours.get(team)

    def deadlines(self, team: str, priority: str, start: datetime) -> tuple[datetime, datetime]:
        start = to_naive_utc(start)
        total = timedelta(minutes=self.minutes[team][priority])
        before_risk = total * (1 - self.at_risk_share)
        hours = self.business_hours(team, priority)
        if hours is None:
            return start + before_risk, start + total
        at_risk, due = add_business_times(start, (before_risk, total), hours)
        return at_risk, due
