"""The audit trail for compliance officers and admins: the newest events matching a filter,
and CSV (formula-safe) or JSONL exports of everything matching it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from dashboard.auth.guard import guarded
from dashboard.context import current
from dashboard.exports import EXPORT_ROLES
from models import queries
from models.audit import describe_changes, utc_text
from models.ids import no_such, parse_id

dash.register_page(__name__, path="/audit", title="Audit trail · Vigie", name="Audit", roles=EXPORT_ROLES,
                   nav={"order": 60, "label": "Audit"})
SHOWN = 100


def _filters() -> Any:
    def field(label: str, ident: str, kind: str = "text", placeholder: str = "") -> Any:
        return dbc.Col([dbc.Label(label, html_for=ident), dbc.Input(id=ident, type=kind, placeholder=placeholder,
                                                                     debounce=True, size="sm")], md=2)

    return dbc.Row([field("From (UTC date)", "audit-since", "date"), field("To (UTC date)", "audit-until", "date"),
                    field("Item", "audit-item", "number"), field("Actor", "audit-actor", placeholder="user name")],
                   className="g-2 mb-2")


def layout(**_query: Any) -> Any:
    return html.Div(
        [
            html.H2("Audit trail"),
            html.P("Every change to an item, every sign-in and account change: who, when (UTC), before and after.",
                   className="text-muted"),
            _filters(),
            html.Div(id="audit-links", className="mb-2"),
            html.Div(id="audit-table"),
        ]
    )


@callback(
    Output("audit-links", "children"),
    Output("audit-table", "children"),
    Input("audit-since", "value"),
    Input("audit-until", "value"),
    Input("audit-item", "value"),
    Input("audit-actor", "value"),
)
@guarded(*EXPORT_ROLES)
def show(since: str | None, until: str | None, item: Any, actor: str | None) -> tuple[Any, Any]:
    query = {k: str(v) for k, v in (("since", since), ("until", until), ("item", item), ("actor", actor)) if v}
    suffix = f"?{urlencode(query)}" if query else ""
    links = [dbc.Button("Export CSV", href=f"/audit/export.csv{suffix}", external_link=True, color="primary",
                        size="sm", className="me-2", id="audit-csv"),
             dbc.Button("Export JSONL", href=f"/audit/export.jsonl{suffix}", external_link=True, color="secondary",
                        size="sm", id="audit-jsonl")]
    def when(value: str | None, end: bool = False) -> datetime | None:
        try:
            return datetime.fromisoformat(value) + (timedelta(days=1) if end else timedelta()) if value else None
        except ValueError:
            return None

    item_id = parse_id(item) if item not in (None, "") else None
    if item not in (None, "") and item_id is None:
        return links, html.P(f"{no_such('item', item).capitalize()}.", className="text-warning", id="audit-events")
    with current().db.read() as session:
        events = queries.newest_audit_events(session, when(since), when(until, True), item_id, actor or None, SHOWN)
    rows = [html.Tr([html.Td(utc_text(e.at)), html.Td(e.actor), html.Td(e.action),
                     html.Td(str(e.queue_item_id or "")), html.Td(describe_changes(e.before or {}, e.after or {})),
                     html.Td(e.reason or "")]) for e in events]
    head = html.Thead(html.Tr([html.Th(h) for h in ("When (UTC)", "Who", "Action", "Item", "Change", "Reason")]))
    note = html.P(f"The newest {len(events)} matching events; the exports hold all of them.", className="small")
    return links, [note, dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, id="audit-events")]
