"""The managers' daily summary: a day picked with the date field (or ``?date=``), its figures against
the 7 days before, and PDF / CSV downloads. A stored summary (the collector's, after midnight) is
shown as stored; a day without one (today so far, or before the scheduler ran) is computed now
and said to be so.

Words, numbers, days and times are the reader's (`dashboard/components/readable.py`, `when.py`):
the stored figures keep their UTC ISO times and ISO days; only their display changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from babel.dates import format_date
from dash import Input, Output, callback, dcc, html

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import EVERY_TEAM_ROLES, SUMMARY_READERS
from dashboard.components.names import flag_names, rule_name
from dashboard.components.readable import decimal, number, percent, sentence, signed, signed_percent
from dashboard.components.when import local
from dashboard.context import current
from dashboard.exports import BadQuery, default_summary_day, summary_figures
from i18n import N_, _, current_reader
from models.alert_words import stored_finding
from models.summary import FIRST_DAY, LAST_DAY

# The headline figures' names (the keys are the stored figures').
LABELS = {
    "mentions": N_("Mentions"), "net_sentiment": N_("Net sentiment"), "negative_share": N_("Negative share"),
    "items": N_("Items queued"), "breached": N_("SLA breaches"), "adherence": N_("SLA adherence"),
    "first_response_median": N_("Median first response (min)"), "resolution_median": N_("Median resolution (min)"),
}
SHARES = ("negative_share", "adherence", "action_share")
# Stored keys shown as words.
SENTIMENTS = {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")}
PRIORITIES = {"critical": N_("critical"), "high": N_("high"), "medium": N_("medium"), "low": N_("low")}
STATUSES = {"new": N_("new"), "claimed": N_("claimed"), "resolved": N_("resolved"), "dismissed": N_("dismissed")}


def _page_title(**_kw: Any) -> str:
    return _("Daily summary") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/summary", title=_page_title, name="Summary", roles=SUMMARY_READERS,
                   nav={"order": 50, "label": N_("Summary")})


def _word(words: dict[str, str], key: str) -> str:
    known = words.get(key)
    return _(known) if known is not None else key


def figure(key: str, value: Any) -> str:
    """A stored figure as the reader reads it (shares as percentages, net sentiment signed)."""
    if value is None:
        return "–"
    if key in SHARES:
        return percent(value, 1)
    if key == "net_sentiment":
        return signed(value, 1)
    if isinstance(value, float):
        return decimal(value)
    if isinstance(value, int):
        return number(value)
    return str(value)


def _utc(stored: str) -> datetime:
    """A stored naive UTC ISO time."""
    return datetime.fromisoformat(stored.rstrip("Z"))


def _time(stored: str) -> Any:
    """A stored UTC time as a ``<time>``: the reader's local date, time and offset."""
    return html.Time(local(_utc(stored)), dateTime=stored.rstrip("Z") + "Z")


def _day(stored: str, width: str = "medium") -> Any:
    """A stored ISO day as a ``<time>``: ``3 Dec 2026`` / ``3 déc. 2026``."""
    return html.Time(format_date(date.fromisoformat(stored), format=width, locale=current_reader().language),
                     dateTime=stored)


def _compared(figures: dict[str, Any]) -> str:
    """How the earlier days are compared: whole days, or (a day in progress) up to the same time."""
    until = figures.get("compared_until")
    return _("each from midnight to {time}, as this day so far").format(time=until) if until else _("whole days")


def _table(header: list[str], rows: list[list[Any]], ident: str | None = None) -> Any:
    body = [html.Tr([html.Td(c if not isinstance(c, int | float) else str(c)) for c in r]) for r in rows] or [
        html.Tr(html.Td(_("Nothing that day."), colSpan=len(header)))]
    extra = {"id": ident} if ident else {}
    return dbc.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in header])), html.Tbody(body)], size="sm",
                     bordered=False, striped=True, **extra)


def _section(title: str, *children: Any) -> Any:
    return dbc.Col([html.H4(title, className="mt-3"), *children], lg=6)


def _item_link(notable: dict[str, Any]) -> Any:
    """A link to the item for those who may open it (compliance, admins); its number for the others."""
    principal = current_principal()
    if principal is not None and principal.role in EVERY_TEAM_ROLES:
        return html.A(f"#{notable['item']}", href=f"/mention/{notable['mention']}")
    return f"#{notable['item']}"


def _state(figures: dict[str, Any], stored: bool) -> list[Any]:
    computed = _time(figures["computed_at_utc"])
    if stored:
        text = _("Stored summary, computed {time}.")
    elif figures["complete"]:
        text = _("No stored summary for this day: computed now ({time}).")
    else:
        text = _("No stored summary for this day: computed now ({time}), the day is still in progress.")
    state = sentence(text, time=computed)
    if figures.get("truncated"):
        state.append(" " + _("More items were queued that day than the summary reads: its SLA figures cover the "
                             "first ones."))
    return state


def _counts(names: dict[str, str], counts: dict[str, int]) -> list[list[Any]]:
    """(name, count) rows, each name as the reader reads it (``names``: already in their words)."""
    return [[names.get(k, k), number(v)] for k, v in counts.items()]


def _team_names() -> dict[str, str]:
    """Stored figures name teams in English (``teams.yaml`` ``label``): their names for the reader."""
    return {t.english: t.label for t in current().settings.teams}


def render(figures: dict[str, Any], stored: bool) -> list[Any]:
    """The page's body for one day's figures (plain text cells: post texts are never HTML)."""
    day = figures["day"]
    heading = html.H3([_day(day, "full"), f" ({figures['timezone']})"], id="summary-day", className="mt-2")
    vol, sla = figures["volume"], figures["sla"]
    compared = _compared(figures)
    teams, sentiments = _team_names(), {k: _(v) for k, v in SENTIMENTS.items()}
    flags = flag_names()
    sla_rows = [[team, number(s["items"]), figure("", s["first_response_median"]), figure("", s["first_response_p90"]),
                 figure("", s["resolution_median"]), number(s["met"]), number(s["breached"]), number(s["pending"]),
                 figure("adherence", s["adherence"])]
                for team, s in [(_("All teams"), sla["overall"]),
                                *((teams.get(t, t), v) for t, v in sla["teams"].items())]]
    terms = ", ".join(f"{t['term']} ({number(t['posts'])})" for t in figures["terms"]) or "–"
    hashtags = ", ".join(f"{t['hashtag']} ({number(t['posts'])})" for t in figures["hashtags"]) or "–"
    return [
        heading,
        html.P([*_state(figures, stored), " ", html.A("PDF", href=f"/summary/export.pdf?date={day}", id="summary-pdf"),
                " · ", html.A("CSV", href=f"/summary/export.csv?date={day}", id="summary-csv")],
               id="summary-state", className="text-muted"),
        dbc.Row([
            _section(_("Headline, against the previous 7 days ({compared})").format(compared=compared), _table(
                [_("Figure"), _("This day"), _("Previous 7 days (mean)"), _("Difference")],
                [[_word(LABELS, k), figure(k, c["value"]), figure(k, c["previous_mean"]),
                  signed_percent(c["change_pct"])] for k, c in figures["comparison"].items()], "summary-headline")),
            _section(_("Volume"),
                     _table([_("Network"), _("Mentions")], _counts({}, vol["by_network"]), "summary-networks"),
                     _table([_("Sentiment"), _("Mentions")], _counts(sentiments, vol["by_sentiment"]),
                            "summary-sentiment"),
                     _table([_("Team"), _("Items queued")], _counts(teams, vol["by_team"]), "summary-teams"),
                     html.P(_("Copies on other networks, counted once above: {count}.").format(
                         count=number(vol["copies"])), className="small text-muted")),
        ]),
        html.H4(_("SLA adherence"), className="mt-3"),
        _table([_("Team"), _("Items"), _("First response median (min)"), "p90", _("Resolution median (min)"), _("Met"),
                _("Breached"), _("Pending"), _("Adherence")], sla_rows, "summary-sla"),
        html.P(_("Met: closed by its due time; breached: closed later, or still open past it; pending: open, not yet "
                 "due. Items filed closed by a routing rule (spam) are counted but not judged."),
               className="small text-muted"),
        html.P(_("First response: minutes from queueing to the first claim, of the items queued that day (the wall's "
                 "median is of the items claimed since midnight, wherever they were queued); medians within half a "
                 "minute under an hour."), className="small text-muted", id="summary-first-response"),
        dbc.Row([
            _section(_("Top issues (routing rules)"), _table(
                [_("Issue"), _("Items")],
                [[rule_name(i["rule"], i["description"]), number(i["items"])] for i in figures["issues"]],
                "summary-issues")),
            _section(_("Top topics (risk flags)"), _table(
                [_("Topic"), _("Mentions")],
                [[flags.get(t["topic"], t["topic"]), number(t["mentions"])] for t in figures["topics"]],
                "summary-topics"),
                html.P(_("Terms: {terms}").format(terms=terms)),
                html.P(_("Hashtags: {hashtags}").format(hashtags=hashtags))),
        ]),
        html.H4(_("Per-network value: which networks brought items that needed action"), className="mt-3"),
        _table([_("Network"), _("Mentions"), _("Items"), _("Needed action"), _("Dismissed"), _("Critical / high"),
                _("Action share")],
               [[n["network"], number(n["mentions"]), number(n["items"]), number(n["needed_action"]),
                 number(n["dismissed"]), number(n["critical_high"]), figure("action_share", n["action_share"])]
                for n in figures["networks"]], "summary-value"),
        html.H4(_("Notable items"), className="mt-3"),
        _table([_("Item"), _("Priority"), _("Team"), _("Network"), _("Author (followers)"), _("Post"), _("Status")],
               [[_item_link(n), _word(PRIORITIES, n["priority"]), teams.get(n["team"], n["team"]), n["network"],
                 f"{n['author']} ({figure('', n['followers'])})", n["text"][:200], _word(STATUSES, n["status"])]
                for n in figures["notable"]], "summary-notable"),
        html.H4(_("Spike and crisis alerts"), className="mt-3"),
        _table([_("Opened"), _("Alert")],
               [[_time(a["opened_at_utc"]), stored_finding(a, flags)] for a in figures["alerts"]], "summary-alerts"),
        html.H4(_("The previous 7 days ({compared})").format(compared=compared), className="mt-3"),
        _table([_("Day"), _("Mentions"), _("Net sentiment"), _("Items"), _("SLA breaches"), _("Adherence"),
                _("First response median")],
               [[_day(p["day"]), number(p["mentions"]), figure("net_sentiment", p["net_sentiment"]),
                 number(p["items"]), number(p["breached"]), figure("adherence", p["adherence"]),
                 figure("", p["first_response_median"])]
                for p in figures["previous"]], "summary-previous"),
    ]


def layout(date: str | None = None, **_query: Any) -> Any:
    return html.Div([
        html.H2(_("Daily summary")),
        dbc.Row([dbc.Col([dbc.Label(_("Day"), html_for="summary-date"),
                          dbc.Input(id="summary-date", type="date", debounce=True,
                                    value=(date or "")[:10] or default_summary_day().isoformat(),
                                    size="sm")], md=2)], className="mb-2"),
        dcc.Loading(html.Div(id="summary-body")),
    ])


def _asked_day(raw: str | None) -> str | None:
    """Why ``raw`` is no day the summary can show, in the reader's words; None when it is one (or empty)."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return _("Pick a day with the date field (a date like 2026-11-24).")
    if not FIRST_DAY <= day <= LAST_DAY:
        return _("Pick a day from {first} to {last}.").format(
            first=format_date(FIRST_DAY, format="medium", locale=current_reader().language),
            last=format_date(LAST_DAY, format="medium", locale=current_reader().language))
    return None


@callback(Output("summary-body", "children"), Input("summary-date", "value"))
@guarded(*SUMMARY_READERS)
def show_summary(day: str | None) -> Any:
    wrong = _asked_day(day)
    if wrong is not None:
        return dbc.Alert(wrong, color="warning", id="summary-error")
    try:
        figures, stored = summary_figures(day)
    except BadQuery as exc:
        return dbc.Alert(str(exc), color="warning", id="summary-error")  # (checked above: a fallback)
    return render(figures, stored)
