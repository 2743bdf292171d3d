"""Times and numbers as people read them: pure functions of a value, a `Reader` and, for relative
times, the current time. Stored and exported times stay naive UTC (`models.tables.utcnow`); these
only write them for a reader, in their language and time zone.

- `number(10505, fr)` → ``10 505`` (the language's separators; U+202F between thousands in French);
- `relative(t, now)` → ``12 min ago`` / ``il y a 12 min`` (up to a week; older: the local date);
- `local(t)` → ``4 Dec 2026, 10:42 UTC+01:00``: the local date, time and offset, what a relative
  time carries "at hand" (its tooltip, `dashboard/components/when.py`);
- `due(t, now)` → ``in 25 min`` / ``overdue by 1 h 10`` for SLA deadlines;
- `duration(seconds)` → ``25 min``, ``1 h 10``, ``2 d 3 h``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_date, format_datetime, get_timezone_gmt
from babel.numbers import format_decimal, format_percent

from i18n import UTC, Reader, translations

RELATIVE_FOR = timedelta(days=7)  # older than this, a time is shown as its local date


def _in(reader: Reader, message: str) -> str:
    """``message`` in the reader's language (these functions write for the reader given, not the request's)."""
    return translations(reader.language).gettext(message)


def _aware(when: datetime) -> datetime:
    """Stored times are naive UTC; an aware one is taken as it is."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def number(value: float, reader: Reader) -> str:
    return format_decimal(value, locale=reader.language)


def percent(value: float, reader: Reader, digits: int = 0) -> str:
    return format_percent(round(value, digits + 2), locale=reader.language, decimal_quantization=False)


def local(when: datetime, reader: Reader, seconds: bool = False) -> str:
    """The local date, time and UTC offset: ``4 Dec 2026, 10:42 UTC+01:00``."""
    moment = _aware(when).astimezone(reader.zone)
    clock = "HH:mm:ss" if seconds else "HH:mm"
    day = format_date(moment, format="medium", locale=reader.language)
    time = format_datetime(moment, format=clock, locale=reader.language)
    offset = get_timezone_gmt(moment, width="iso8601", locale=reader.language)
    return f"{day}, {time} UTC{'+00:00' if offset in ('Z', '') else offset}"


def local_clock(when: datetime, reader: Reader) -> str:
    """The local time of day only: ``10:42``."""
    return format_datetime(_aware(when).astimezone(reader.zone), format="HH:mm", locale=reader.language)


def local_day(when: datetime, reader: Reader) -> str:
    return format_date(_aware(when).astimezone(reader.zone), format="medium", locale=reader.language)


def relative(when: datetime, now: datetime, reader: Reader) -> str:
    """``12 min ago`` / ``il y a 12 min``, ``in 3 h`` / ``dans 3 h``; ``just now`` under a minute;
    beyond a week the local date (the relative form stops helping)."""
    delta = _aware(when) - _aware(now)
    if abs(delta) < timedelta(minutes=1):
        return _in(reader, "just now")
    if abs(delta) > RELATIVE_FOR:
        return local_day(when, reader)
    span = duration(abs(delta).total_seconds(), reader)
    return _in(reader, "in {duration}").format(duration=span) if delta > timedelta(0) else \
        _in(reader, "{duration} ago").format(duration=span)


def duration(seconds: float, reader: Reader) -> str:
    """A length of time to the minute: ``25 min``, ``1 h 10``, ``3 h``, ``2 d 3 h``."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _in(reader, "{days} d {hours} h").format(days=days, hours=hours) if hours else \
            _in(reader, "{days} d").format(days=days)
    if hours:
        return _in(reader, "{hours} h {minutes:02d}").format(hours=hours, minutes=mins) if mins else \
            _in(reader, "{hours} h").format(hours=hours)
    return _in(reader, "{minutes} min").format(minutes=mins)


def due(deadline: datetime, now: datetime, reader: Reader) -> str:
    """An SLA deadline: ``in 25 min``, ``overdue by 1 h 10``, ``due now``."""
    left = (_aware(deadline) - _aware(now)).total_seconds()
    if abs(left) < 60:
        return _in(reader, "due now")
    if left > 0:
        return _in(reader, "in {duration}").format(duration=duration(left, reader))
    return _in(reader, "overdue by {duration}").format(duration=duration(-left, reader))
