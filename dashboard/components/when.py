"""Times and numbers on a page, for the request's reader (`i18n.current_reader`), never raw ISO.

- `when(t, now)`: "12 min ago" with the local date, time and offset in its tooltip and the UTC
  instant in its ``datetime`` attribute (an ``<time>`` element: screen readers and tests read it);
- `due(t, now)`: "in 25 min" / "overdue by 1 h 10", the local deadline in its tooltip;
- `local(t)`: "4 Dec 2026, 10:42 UTC+01:00" where the full time is the point (an audit row);
- `number(n)`: "10,505" / "10 505".

AG Grid formats its time columns in the browser (`dashboard/assets/vigie-i18n.js`, the same
rules): `grid_time_column()` gives a column definition and `grid_locale()` what the page passes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from i18n import _, current_reader
from i18n import formats as fmt


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z" if moment.tzinfo is None else \
        moment.isoformat(timespec="seconds")


def when(moment: datetime | None, now: datetime, ident: Any = None, never: str = "—") -> Any:
    if moment is None:
        return html.Span(never, id=ident) if ident is not None else never
    reader = current_reader()
    extra = {"id": ident} if ident is not None else {}
    return html.Time(fmt.relative(moment, now, reader), dateTime=_iso(moment), title=fmt.local(moment, reader),
                     **extra)


def due(deadline: datetime | None, now: datetime, ident: Any = None, never: str = "—") -> Any:
    if deadline is None:
        return never
    extra = {"id": ident} if ident is not None else {}
    reader = current_reader()
    return html.Time(fmt.due(deadline, now, reader), dateTime=_iso(deadline), title=fmt.local(deadline, reader),
                     **extra)


def local(moment: datetime | None, seconds: bool = False, never: str = "—") -> str:
    return fmt.local(moment, current_reader(), seconds) if moment is not None else never


def number(value: float) -> str:
    return fmt.number(value, current_reader())


def grid_locale() -> dict[str, Any]:
    """What the grid's formatters need: the reader's language and zone, and the catalogue's words
    (``{"language": "fr", "zone": "Europe/Paris", "words": {...}}``)."""
    reader = current_reader()
    words = {"now": _("just now"), "in": _("in {duration}"), "ago": _("{duration} ago"), "due_now": _("due now"),
             "overdue": _("overdue by {duration}"), "dh": _("{days} d {hours} h"), "d": _("{days} d"),
             "hm": _("{hours} h {minutes:02d}"), "h": _("{hours} h"), "m": _("{minutes} min")}
    return {"language": reader.language, "zone": reader.zone.key, "words": words}


def grid_time_column(field: str, header: str, due_time: bool = False, **extra: Any) -> dict[str, Any]:
    """An AG Grid column showing ``field`` (an ISO UTC string in the row data) as a relative time,
    or an SLA deadline with ``due_time``, the local date and time in its tooltip. The page passes
    ``grid_locale()`` as the grid's ``dashGridOptions.context``."""
    kind = "due" if due_time else "when"
    return {"field": field, "headerName": header, "minWidth": 130,
            "valueFormatter": {"function": f"vigieI18n.{kind}(params.value, params.context)"},
            "tooltipValueGetter": {"function": "vigieI18n.local(params.value, params.context)"}, **extra}
