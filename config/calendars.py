"""Public holiday calendars for the SLA clock, from the `holidays` package (its data ships with it).

A calendar name is a country code of the package (ISO 3166: ``FR``, ``GB``, ``DE`` …), optionally
followed by ``-`` and one of its subdivisions (``FR-57``, ``GB-SCT`` …), or a financial calendar of
the package (``TARGET``: the ECB's TARGET2 closing days, the package's ``XECB``; ``XLON`` …).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

import holidays as holiday_data
from pydantic_core import PydanticCustomError

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


def calendar_name(value: Any) -> str:
    """A calendar name from teams.yaml, normalised (``gb-sct`` -> ``GB-SCT``, ``TARGET`` -> ``XECB``);
    a pydantic before-validator (its error says which names are valid)."""
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("expected", "expected a calendar name")
    raw = value.strip()
    name = CALENDAR_ALIASES.get(raw.upper(), raw)
    code, dash, subdiv = name.partition("-")
    code = code.upper()
    if not dash and code in _markets():
        return code
    if code not in _countries():
        valid = ", ".join(["TARGET", *sorted(_markets()), *sorted(_countries())])
        raise PydanticCustomError("expected", "expected a calendar name: a country code with an optional "
                                  "-subdivision, or a financial calendar; one of {valid}", {"valid": valid})
    if not dash:
        return code
    subdivisions = _countries()[code]
    by_upper = {s.upper(): s for s in subdivisions}
    if subdiv.upper() not in by_upper:
        aliases = holiday_data.country_holidays(code).subdivisions_aliases
        if subdiv not in aliases:
            valid = ", ".join(f"{code}-{s}" for s in subdivisions) or f"{code} (no subdivisions)"
            raise PydanticCustomError("expected", "expected a subdivision of {code}: one of {valid}",
                                      {"code": code, "valid": valid})
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


