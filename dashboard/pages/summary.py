"""The managers' daily summary: a day picked with the date field (or ``?date=``), its figures against
the 7 days before, and PDF / CSV downloads. A stored summary (the collector's, after midnight) is
shown as stored; a day without one (today so far, or before the scheduler ran) is computed now
and said to be so."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import EVERY_TEAM_ROLES, SUMMARY_READERS
from dashboard.exports import BadQuery, default_summary_day, summary_figures
from models.summary_export import LABELS, change_text, compared_text, fmt

dash.register_page(__name__, path="/summary", title="Daily summary · Vigie", name="Summary", roles=SUMMARY_READERS,
                   nav={"order": 50, "label": "Summary"})


def _table(header: list[str], rows: list[list[Any]], ident: str | None = None) -> Any:
    body = [html.Tr([html.Td(str(c)) for c in r]) for r in rows] or [
        html.Tr(html.Td("Nothing that day.", colSpan=len(header)))]
    extra = {"id": ident} if ident else {}
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)], size="sm",
                     bordered=False, striped=True, **extra)


def _section(title: str, *children: Any) -> Any:
    return dbc.Col([html.H4(title, className="mt-3"), *children], lg=6)


def _item_link(notable: dict[str, Any]) -> Any:
    """A link to the item for those who may open it (compliance, admins); its number for the others."""
    principal = current_principal()
    if principal is not None and principal.role in EVERY_TEAM_ROLES:
        return html.A(f"#{notable['item']}", href=f"/mention/{notable['mention']}")
    return f"#{notable['item']}"


def render(figures: dict[str, Any], stored: bool) -> list[Any]:
    """The page's body for one day's figures (plain text cells: post texts are never HTML)."""
    day = figures["day"]
    heading = html.H3(f"{day} ({figures['timezone']})", id="summary-day", className="mt-2")
    state = (f"Stored summary, computed {figures['computed_at_utc']} UTC." if stored else
             f"No stored summary for this day: computed now ({figures['computed_at_utc']} UTC)"
             + ("" if figures["complete"] else ", the day is still in progress") + ".")
    vol, sla = figures["volume"], figures["sla"]
    if figures.get("truncated"):
        state += " More items were queued that day than the summary reads: its SLA figures cover the first ones."
    sla_rows = [[team, f"{s['items']:,}", fmt("", s["first_response_median"]), fmt("", s["first_response_p90"]),
                 fmt("", s["resolution_median"]), f"{s['met']:,}", f"{s['breached']:,}", f"{s['pending']:,}",
                 fmt("adherence", s["adherence"])]
                for team, s in [("All teams", sla["overall"]), *sla["teams"].items()]]
    return [
        heading,
        html.P([state, " ", html.A("PDF", href=f"/summary/export.pdf?date={day}", id="summary-pdf"), " · ",
                html.A("CSV", href=f"/summary/export.csv?date={day}", id="summary-csv")],
               id="summary-state", className="text-muted"),
        dbc.Row([
            _section(f"Headline, against the previous 7 days ({compared_text(figures)})", _table(
                ["Figure", "This day", "Previous 7 days (mean)", "Change"],
                [[LABELS[k], fmt(k, c["value"]), fmt(k, c["previous_mean"]), change_text(c["change_pct"])]
                 for k, c in figures["comparison"].items()], "summary-headline")),
            _section("Volume",
                     _table(["Network", "Mentions"], [[k, f"{v:,}"] for k, v in vol["by_network"].items()],
                            "summary-networks"),
                     _table(["Sentiment", "Mentions"], [[k, f"{v:,}"] for k, v in vol["by_sentiment"].items()],
                            "summary-sentiment"),
                     _table(["Team", "Items queued"], [[k, f"{v:,}"] for k, v in vol["by_team"].items()],
                            "summary-teams"),
                     html.P(f"Copies on other networks, counted once above: {vol['copies']:,}.",
                            className="small text-muted")),
        ]),
        html.H4("SLA adherence", className="mt-3"),
        _table(["Team", "Items", "First response median (min)", "p90", "Resolution median (min)", "Met",
                "Breached", "Pending", "Adherence"], sla_rows, "summary-sla"),
        html.P("Met: closed by its due time; breached: closed later, or still open past it; pending: open, not yet "
               "due. Items filed closed by a routing rule (spam) are counted but not judged.",
               className="small text-muted"),
        dbc.Row([
            _section("Top issues (routing rules)", _table(
                ["Issue", "Items"], [[i["description"], f"{i['items']:,}"] for i in figures["issues"]],
                "summary-issues")),
            _section("Top topics (risk flags)", _table(
                ["Topic", "Mentions"], [[t["topic"], f"{t['mentions']:,}"] for t in figures["topics"]],
                "summary-topics"),
                html.P("Terms: " + (", ".join(f"{t['term']} ({t['posts']})" for t in figures["terms"]) or "–")),
                html.P("Hashtags: " + (", ".join(f"{t['hashtag']} ({t['posts']})" for t in figures["hashtags"])
                                       or "–"))),
        ]),
        html.H4("Per-network value: which networks brought items that needed action", className="mt-3"),
        _table(["Network", "Mentions", "Items", "Needed action", "Dismissed", "Critical / high", "Action share"],
               [[n["network"], f"{n['mentions']:,}", f"{n['items']:,}", f"{n['needed_action']:,}",
                 f"{n['dismissed']:,}", f"{n['critical_high']:,}", fmt("action_share", n["action_share"])]
                for n in figures["networks"]], "summary-value"),
        html.H4("Notable items", className="mt-3"),
        _table(["Item", "Priority", "Team", "Network", "Author (followers)", "Post", "Status"],
               [[_item_link(n), n["priority"], n["team"], n["network"],
                 f"{n['author']} ({fmt('', n['followers'])})", n["text"][:200], n["status"]]
                for n in figures["notable"]], "summary-notable"),
        html.H4("Spike and crisis alerts", className="mt-3"),
        _table(["Opened (UTC)", "Alert"], [[a["opened_at_utc"], a["summary"]] for a in figures["alerts"]],
               "summary-alerts"),
        html.H4(f"The previous 7 days ({compared_text(figures)})", className="mt-3"),
        _table(["Day", "Mentions", "Net sentiment", "Items", "Breaches", "Adherence", "First response median"],
               [[p["day"], f"{p['mentions']:,}", fmt("net_sentiment", p["net_sentiment"]), f"{p['items']:,}",
                 f"{p['breached']:,}", fmt("adherence", p["adherence"]), fmt("", p["first_response_median"])]
                for p in figures["previous"]], "summary-previous"),
    ]


def layout(date: str | None = None, **_query: Any) -> Any:
    return html.Div([
        html.H2("Daily summary"),
        dbc.Row([dbc.Col([dbc.Label("Day", html_for="summary-date"),
                          dbc.Input(id="summary-date", type="date", debounce=True,
                                    value=(date or "")[:10] or default_summary_day().isoformat(),
                                    size="sm")], md=2)], className="mb-2"),
        dcc.Loading(html.Div(id="summary-body")),
    ])


@callback(Output("summary-body", "children"), Input("summary-date", "value"))
@guarded(*SUMMARY_READERS)
def show_summary(day: str | None) -> Any:
    try:
        figures, stored = summary_figures(day)
    except BadQuery as exc:
        return dbc.Alert(str(exc), color="warning", id="summary-error")
    return render(figures, stored)
