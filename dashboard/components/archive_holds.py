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
from dashboard.components.archive_panels import at
from dashboard.components.when import local
from dashboard.context import current
from i18n import _
from models import holds
from models.ids import parse_id, shown

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
            raise holds.HoldError(_("No such mention: {value}: expected a mention id (a number)").format(
                value=shown(part)))
        ids.append(number)

    def day(value: Any, what: str, end: bool = False) -> datetime | None:
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            start = datetime.fromisoformat(value.strip()[:10])
        except ValueError:
            raise holds.HoldError(_("{field}: expected a date like 2026-01-31").format(field=what)) from None
        return start + timedelta(days=1) if end else start

    return holds.HoldScope(tuple(ids), split_list(authors), split_list(sources), day(since, _("From")),
                           day(until, _("To"), end=True), query.strip() if isinstance(query, str) and query.strip()
                           else None)


def scope_text(scope: holds.HoldScope) -> str:
    """What a hold holds, for the reader (`holds.HoldScope.describe` is the command line's English)."""
    parts = []
    for label, values in ((_("items {list}"), scope.mention_ids), (_("authors {list}"), scope.authors),
                          (_("sources {list}"), scope.sources)):
        if values:
            parts.append(label.format(list=", ".join(str(v) for v in values)))
    if scope.since and scope.until:
        parts.append(_("from {start} to {end}").format(start=local(scope.since), end=local(scope.until)))
    elif scope.since:
        parts.append(_("from {start} on").format(start=local(scope.since)))
    elif scope.until:
        parts.append(_("up to {end}").format(end=local(scope.until)))
    if scope.query:
        parts.append(_("content containing {text}").format(text=repr(scope.query)))
    return _("; ").join(parts) or _("every record")


def build_holds(rows: list[Any]) -> Any:
    if not rows:
        return html.P(_("No legal hold yet."), className="text-muted", id="archive-holds-table")
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", _("Matter"), _("Scope"), _("Placed"), _("Reason"),
                                                     _("Released"))]))
    body = []
    for h in rows:
        scope = scope_text(holds.HoldScope.from_json(h.scope or {}))
        released = ([at(h.released_at), " ", _("by {name}: {reason}").format(name=h.released_by,
                                                                              reason=h.release_reason or "")]
                    if h.released_at else dbc.Badge(_("standing"), color="danger"))
        body.append(html.Tr([html.Td(str(h.id)), html.Td(h.matter), html.Td(scope),
                             html.Td([at(h.placed_at), " ", _("by {name}").format(name=h.placed_by)]),
                             html.Td(h.reason), html.Td(released)]))
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="archive-holds-table")


def _options(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"label": _("#{id} {matter} (placed by {name})").format(id=h.id, matter=h.matter[:80], name=h.placed_by),
             "value": h.id}
            for h in rows if h.released_at is None]


def matter_options(rows: list[Any]) -> list[dict[str, Any]]:
    """Every hold's matter, for the export tab (a released hold's records may still be asked for)."""
    return [{"label": f"#{h.id} {h.matter[:80]}" if h.released_at is None
             else _("#{id} {matter} (released)").format(id=h.id, matter=h.matter[:80]), "value": h.id} for h in rows]


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
        html.H5(_("Place a hold")),
        dbc.Row([field(_("Matter"), "archive-hold-matter", placeholder=_("e.g. Smith v. Aurelia Bank"), md=4),
                 field(_("From (UTC date)"), "archive-hold-since", "date", md=2),
                 field(_("To (UTC date)"), "archive-hold-until", "date", md=2),
                 field(_("Text in the content"), "archive-hold-query", placeholder=_("optional"), md=4)],
                className="g-2"),
        dbc.Row([field(_("Items (mention ids)"), "archive-hold-items", placeholder="12, 57"),
                 field(_("Authors"), "archive-hold-authors",
                       placeholder="x:@someone, reddit:user"),  # untranslated: the syntax
                 field(_("Sources"), "archive-hold-sources", placeholder=_("source names"))], className="g-2"),
        dbc.Label(_("Reason (required)"), html_for="archive-hold-reason", className="small mb-0 mt-2"),
        dbc.Textarea(id="archive-hold-reason", placeholder=_("Reason (required)"), maxLength=5000, className="mb-2"),
        html.P(_("Nothing selected above holds every record; several items, authors or sources hold any of them; "
                 "dates and text narrow that down."), className="small text-muted"),
        dbc.Button(_("Place hold"), id="archive-hold-place", color="danger", size="sm"),
    ], className="mb-4")
    release = html.Div([
        html.H5(_("Release a hold")),
        dbc.Row([dbc.Col([dbc.Label(_("Hold to release"), html_for="archive-hold-release-id",
                                    className="visually-hidden"),
                          dcc.Dropdown(id="archive-hold-release-id", options=options, placeholder=_("standing hold"))],
                         md=5),
                 dbc.Col([dbc.Label(_("Reason for the release (required)"), html_for="archive-hold-release-reason",
                                    className="visually-hidden"),
                          dbc.Input(id="archive-hold-release-reason", placeholder=_("Reason (required)"), size="sm")],
                         md=5),
                 dbc.Col(dbc.Button(_("Release"), id="archive-hold-release", color="secondary", size="sm"), md=2)],
                className="g-2"),
        html.P(_("Someone other than whoever placed it releases it (four eyes)."), className="small text-muted"),
    ], className="mb-4")
    return html.Div([dbc.Alert(id="archive-hold-alert", is_open=False, dismissable=True), place, release,
                     html.H5(_("Holds")), html.Div(table, id="archive-holds")])


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
                message = _("Hold {id} placed on {scope}.").format(
                    id=hold.id, scope=scope_text(holds.HoldScope.from_json(hold.scope)))
            else:
                if release_id in (None, ""):
                    raise holds.HoldError(_("Choose the hold to release."))
                hold_id = parse_id(release_id)
                if hold_id is None:
                    raise holds.HoldError(_("No such hold: {value}").format(value=shown(release_id)))
                hold = holds.release_hold(session, principal.name, hold_id, str(release_reason or ""))
                message = _("Hold {id} ({matter}) released.").format(id=hold.id, matter=hold.matter)
    except holds.HoldError as exc:
        return str(exc), "danger", True, no_update, no_update, no_update
    table, options, matters = _read()
    return message, "success", True, table, options, matters
