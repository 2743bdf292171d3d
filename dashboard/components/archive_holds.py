"""The /archive page's legal holds: every hold (matter, scope, who placed it and when, released or
standing), a form to place one and a form to release a standing one with a reason.

Compliance only (the callback is guarded, and `models.holds` is called with the signed-in name);
four eyes is the model's rule: whoever placed a hold cannot release it, and its message is shown
as it is. Placing and releasing each write a "hold" record and an audit event (`models.holds`).
Matters, reasons and scopes are untrusted text, shown as text.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.components.archive_panels import utc
from dashboard.context import current
from models import holds
from models.ids import no_such, parse_id

HOLD_ROLES: tuple[str, ...] = ("compliance",)
SHOWN = 100


def split_list(value: Any) -> tuple[str, ...]:
    """Entries typed one per line or separated by commas."""
    if not isinstance(value, str):
        return ()
    return tuple(dict.fromkeys(p.strip() for p in re.split(r"[,\n]", value) if p.strip()))


def hold_scope(items: Any, authors: Any, sources: Any, since: Any, until: Any, query: Any) -> holds.HoldScope:
    """The scope typed in the form; `holds.HoldError` for what cannot be read (the model checks the rest)."""
    ids: list[int] = []
    for part in split_list(str(items) if isinstance(items, int) and not isinstance(items, bool) else items):
        number = parse_id(part)
        if number is None:
            raise holds.HoldError(f"{no_such('mention', part)}: expected a mention id (a number)")
        ids.append(number)

    def day(value: Any, what: str, end: bool = False) -> datetime | None:
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            start = datetime.fromisoformat(value.strip()[:10])
        except ValueError:
            raise holds.HoldError(f"{what}: expected a date like 2026-01-31") from None
        return start + timedelta(days=1) if end else start

    return holds.HoldScope(tuple(ids), split_list(authors), split_list(sources), day(since, "from"),
                           day(until, "to", end=True), query.strip() if isinstance(query, str) and query.strip()
                           else None)


def build_holds(rows: list[Any]) -> Any:
    if not rows:
        return html.P("No legal hold yet.", className="text-muted", id="archive-holds-table")
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", "Matter", "Scope", "Placed", "Reason", "Released")]))
    body = []
    for h in rows:
        scope = holds.HoldScope.from_json(h.scope or {}).describe()
        released = (f"{utc(h.released_at)} by {h.released_by}: {h.release_reason or ''}" if h.released_at
                    else dbc.Badge("standing", color="danger"))
        body.append(html.Tr([html.Td(str(h.id)), html.Td(h.matter), html.Td(scope),
                             html.Td(f"{utc(h.placed_at)} by {h.placed_by}"), html.Td(h.reason), html.Td(released)]))
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="archive-holds-table")


def _options(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"label": f"#{h.id} {h.matter[:80]} (placed by {h.placed_by})", "value": h.id}
            for h in rows if h.released_at is None]


def matter_options(rows: list[Any]) -> list[dict[str, Any]]:
    """Every hold's matter, for the export tab (a released hold's records may still be asked for)."""
    return [{"label": f"#{h.id} {h.matter[:80]}" + ("" if h.released_at is None else " (released)"), "value": h.id}
            for h in rows]


def _read() -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    with current().db.read() as session:
        rows = holds.all_holds(session, SHOWN)
        return build_holds(rows), _options(rows), matter_options(rows)


def section() -> Any:
    table, options, _matters = _read()

    def field(label: str, ident: str, kind: str = "text", placeholder: str = "", md: int = 3) -> Any:
        return dbc.Col([dbc.Label(label, html_for=ident, className="small mb-0"),
                        dbc.Input(id=ident, type=kind, placeholder=placeholder, size="sm")], md=md)

    place = html.Div([
        html.H5("Place a hold"),
        dbc.Row([field("Matter", "archive-hold-matter", placeholder="e.g. Smith v. Aurelia Bank", md=4),
                 field("From (UTC date)", "archive-hold-since", "date", md=2),
                 field("To (UTC date)", "archive-hold-until", "date", md=2),
                 field("Text in the content", "archive-hold-query", placeholder="optional", md=4)], className="g-2"),
        dbc.Row([field("Items (mention ids)", "archive-hold-items", placeholder="12, 57"),
                 field("Authors", "archive-hold-authors", placeholder="x:@someone, reddit:user"),
                 field("Sources", "archive-hold-sources", placeholder="source names")], className="g-2"),
        dbc.Textarea(id="archive-hold-reason", placeholder="Reason (required)", maxLength=5000, className="my-2"),
        html.P("Nothing selected above holds every record; several items, authors or sources hold any of them; "
               "dates and text narrow that down.", className="small text-muted"),
        dbc.Button("Place hold", id="archive-hold-place", color="danger", size="sm"),
    ], className="mb-4")
    release = html.Div([
        html.H5("Release a hold"),
        dbc.Row([dbc.Col(dcc.Dropdown(id="archive-hold-release-id", options=options, placeholder="standing hold"),
                         md=5),
                 dbc.Col(dbc.Input(id="archive-hold-release-reason", placeholder="Reason (required)", size="sm"),
                         md=5),
                 dbc.Col(dbc.Button("Release", id="archive-hold-release", color="secondary", size="sm"), md=2)],
                className="g-2"),
        html.P("Someone other than whoever placed it releases it (four eyes).", className="small text-muted"),
    ], className="mb-4")
    return html.Div([dbc.Alert(id="archive-hold-alert", is_open=False, dismissable=True), place, release,
                     html.H5("Holds"), html.Div(table, id="archive-holds")])


@callback(
    Output("archive-hold-alert", "children"),
    Output("archive-hold-alert", "color"),
    Output("archive-hold-alert", "is_open"),
    Output("archive-holds", "children"),
    Output("archive-hold-release-id", "options"),
    Output("archive-export-hold", "options"),  # the export tab's choice of matter follows
    Input("archive-hold-place", "n_clicks"),
    Input("archive-hold-release", "n_clicks"),
    State("archive-hold-matter", "value"),
    State("archive-hold-reason", "value"),
    State("archive-hold-items", "value"),
    State("archive-hold-authors", "value"),
    State("archive-hold-sources", "value"),
    State("archive-hold-since", "value"),
    State("archive-hold-until", "value"),
    State("archive-hold-query", "value"),
    State("archive-hold-release-id", "value"),
    State("archive-hold-release-reason", "value"),
    prevent_initial_call=True,
)
@guarded(*HOLD_ROLES)
def hold_action(_place: int | None, _release: int | None, matter: Any, reason: Any, items: Any, authors: Any,
                sources: Any, since: Any, until: Any, query: Any, release_id: Any, release_reason: Any
                ) -> tuple[Any, ...]:
    """Place a hold, or release one; the message, and the list read again."""
    principal = current_principal()
    assert principal is not None  # guarded
    trigger = dash.ctx.triggered_id
    if trigger not in ("archive-hold-place", "archive-hold-release") or not any(
            t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    try:
        with current().db.write.begin() as session:
            if trigger == "archive-hold-place":
                scope = hold_scope(items, authors, sources, since, until, query)
                hold = holds.place_hold(session, principal.name, str(matter or ""), str(reason or ""), scope)
                message = f"Hold {hold.id} placed on {holds.HoldScope.from_json(hold.scope).describe()}."
            else:
                if release_id in (None, ""):
                    raise holds.HoldError("choose the hold to release")
                hold_id = parse_id(release_id)
                if hold_id is None:
                    raise holds.HoldError(no_such("hold", release_id))
                hold = holds.release_hold(session, principal.name, hold_id, str(release_reason or ""))
                message = f"Hold {hold.id} ({hold.matter}) released."
    except holds.HoldError as exc:
        return str(exc), "danger", True, no_update, no_update, no_update
    table, options, matters = _read()
    return message, "success", True, table, options, matters
