"""A manager's home (/home/manager, and / for managers): today so far and yesterday's summary (the
figures the summary page shows for those days: the stored summary, or computed as /summary does) and the week's
trend, 7 days of mentions received, items queued, resolved and breaches, built by a pure function
(`build_trend_table`). A day's trend figures come from its stored summary, else from its running
counts (`models.home_queries.week_trend`: a few hundred rows a day, whatever the day's size). A
slow tick (the figures change by the day) re-reads them and sends them only when they changed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from babel.dates import format_date
from dash import html

from dashboard.components.home_lists import live_home, signature
from dashboard.components.when import number
from dashboard.context import current
from dashboard.exports import summary_figures
from i18n import N_, _, current_reader
from i18n import formats as fmt
from models import home_queries
from models.summary import local_day
from models.tables import utcnow

ROLES: tuple[str, ...] = ("manager", "admin")  # (compliance reads /summary, but has its own home)
TICK_MS = 300_000  # the day's figures move slowly: every 5 minutes
TREND_DAYS = 7


def _page_title(**_kw: Any) -> str:
    return _("Overview") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/home/manager", title=_page_title, name="Manager home", roles=ROLES)


def day_text(day: date | str) -> str:
    """A day as the reader writes it: "Thu 3 Dec 2026" / "jeu. 3 déc. 2026"."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return format_date(value, format="EEE d MMM y", locale=current_reader().language)


def _share(value: float | None) -> str:
    return fmt.percent(value, current_reader(), 1) if value is not None else "—"


def _minutes(value: float | None) -> str:
    return _("{minutes} min").format(minutes=number(round(value))) if value is not None else "—"


def build_day(figures: dict[str, Any], stored: bool, today: bool = False) -> Any:
    """A day's key figures (yesterday's; ``today``: the day so far), as a two-column table (figure, value)."""
    overall = figures["sla"]["overall"]
    rows = [
        (_("Mentions received"), number(figures["volume"]["mentions"])),
        (_("Items queued"), number(overall["items"])),
        (_("Resolved"), number(overall.get("resolved", 0))),
        (_("Breaches"), number(overall["breached"])),
        (_("SLA adherence"), _share(overall["adherence"])),
        (_("First response (median)"), _minutes(overall["first_response_median"])),
    ]
    body = html.Tbody([html.Tr([html.Th(label, scope="row"), html.Td(value)]) for label, value in rows])
    head = html.Thead(html.Tr([html.Th(_("Figure"), scope="col"), html.Th(_("Value"), scope="col")]))
    note = _("The day so far, computed now.") if today else _("Stored summary.") if stored else \
        _("No stored summary for this day yet: computed now.")
    if not today and not figures["volume"]["mentions"]:
        note = _("Nothing was collected that day (a new installation, or the collectors were stopped).")
    return html.Div([
        dbc.Table([head, body], size="sm", striped=True, id="home_manager-today" if today else "home_manager-yesterday",
                  className="w-auto"),
        html.P([note, " ", html.A(_("Open the daily summary"), href=f"/summary?date={figures['day']}")],
               className="small text-muted"),
    ])


def build_trend_table(days: list[home_queries.DayTrend]) -> Any:
    """The week, one row per day, oldest first (pure: the days' figures in, a table out)."""
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in (
        _("Day"), _("Mentions received"), _("Items queued"), _("Resolved"), _("Breaches"))]))
    body = html.Tbody([html.Tr([html.Th(day_text(d.day), scope="row"), html.Td(number(d.received)),
                                html.Td(number(d.items)), html.Td(number(d.resolved)),
                                html.Td(number(d.breached), className="text-danger fw-bold" if d.breached else "")],
                               id=f"home_manager-trend-{d.day}")
                       for d in home_queries.trend_rows(days)])
    return dbc.Table([head, body], size="sm", striped=True, id="home_manager-trend", className="w-auto")


def _week(yesterday: date, yesterday_figures: dict[str, Any]) -> list[home_queries.DayTrend]:
    ctx = current()
    days = [yesterday - timedelta(days=back) for back in range(1, TREND_DAYS)]
    with ctx.db.pages() as session:
        earlier = home_queries.week_trend(session, days, ctx.settings.reporting.timezone, utcnow())
    return [home_queries.trend_from_summary(yesterday_figures), *earlier]


def _content() -> tuple[list[Any], str]:
    ctx = current()
    today = local_day(utcnow(), ctx.settings.reporting.timezone)
    yesterday = today - timedelta(days=1)
    now_figures, _stored = summary_figures(today.isoformat())  # computed now, kept a minute (`summary_figures`)
    figures, stored = summary_figures(yesterday.isoformat())
    week = _week(yesterday, figures)
    children = [
        html.H3(_("Today so far, {day}").format(day=day_text(today)), className="mt-3"),
        build_day(now_figures, False, today=True),
        html.H3(_("Yesterday, {day}").format(day=day_text(yesterday)), className="mt-3"),
        build_day(figures, stored),
        html.H3(_("The last 7 days"), className="mt-4"),
        build_trend_table(week),
    ]
    return children, signature(now_figures.get("computed_at_utc"), figures.get("computed_at_utc"), stored, week,
                               current_reader().language)


layout = live_home("home_manager", N_("Overview"), _content, ROLES, tick_ms=TICK_MS, body="body")
