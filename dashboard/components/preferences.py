"""The preferences form's choices (dashboard/pages/preferences.py), as pure functions: what the form
shows for an account's stored language and time zone, and what to store for what the form sent."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from i18n import LANGUAGES
from models.users import NOT_ZONES

BROWSER = "browser"  # the language choice "as my browser" (stored as no language)
FIRM = "firm"  # the time-zone choice "the firm's" (stored as no zone); no IANA zone has this name


@lru_cache(maxsize=1)
def zones() -> tuple[str, ...]:
    """The IANA zones this server knows, sorted (the ``posix/`` and ``right/`` copies left out, and the
    names that are not places, which browsers refuse: `models.users.NOT_ZONES`)."""
    return tuple(sorted(z for z in available_timezones()
                        if not z.startswith(("posix/", "right/")) and z not in NOT_ZONES))


def choices(language: str | None, timezone: str | None) -> tuple[str, str]:
    """The form's values for an account's stored preferences (None: the browser's, the firm's)."""
    return (language if language in LANGUAGES else BROWSER, timezone if timezone in zones() else FIRM)


def stored(language: Any, timezone: Any) -> tuple[str | None, str | None] | None:
    """What to store for the form's values, or None when they are not choices the form offers."""
    if language != BROWSER and language not in LANGUAGES:
        return None
    if timezone != FIRM and timezone not in zones():
        return None
    return (None if language == BROWSER else language, None if timezone == FIRM else timezone)
