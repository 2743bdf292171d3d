"""The audit trail for compliance officers and admins: the newest events matching a filter,
and CSV (formula-safe) or JSONL exports of everything matching it.

The page writes for its reader (each event's full local time with its offset, the changes' times
too); the exports keep UTC ISO 8601 (`models.audit`). The date filters are UTC days, as the
exports' are, and say so."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from dashboard.auth.guard import guarded
from dashboard.components.archive_panels import local_times
from dashboard.components.when import local, number
from dashboard.context import current
from dashboard.exports import EXPORT_ROLES
from i18n import N_, _, ngettext
from models import queries
from models.audit import changes, utc_text
from models.audit_log import items_of_replies
from models.ids import parse_id, shown
from models.labels import label


def _page_title(**_kw: Any) -> str:
    return _("Audit trail") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/audit", title=_page_title, name="Audit", roles=EXPORT_ROLES,
                   nav={"order": 60, "label": N_("Audit")})
SHOWN = 100


def shown_value(value: Any) -> str:
    """A before/after value as people read it: nothing as "(none)", text as it is, structures as
    JSON, and any ISO 8601 time inside either in the reader's zone (a hold's scope, a deadline)."""
    if value is None:
        return _("(none)")
    return local_times(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                                       default=str))


def describe(before: dict[str, Any], after: dict[str, Any]) -> str:
    """``status: new → claimed; assignee: (none) → alice`` (field names are the data's)."""
    return "; ".join(f"{field}: {shown_value(old)} → {shown_value(new)}" for field, old, new in changes(before, after))


def _filters() -> Any:
    def field(label: str, ident: str, kind: str = "text", placeholder: str = "") -> Any:
        return dbc.Col([dbc.Label(label, html_for=ident), dbc.Input(id=ident, type=kind, placeholder=placeholder,
                                                                     debounce=True, size="sm")], md=2)

    return dbc.Row([field(_("From (UTC date)"), "audit-since", "date"),
                    field(_("To (UTC date)"), "audit-until", "date"), field(_("Item"), "audit-item", "number"),
                    field(_("Actor"), "audit-actor", placeholder=_("user name"))],
                   className="g-2 mb-2")


def layout(**_query: Any) -> Any:
    return html.Div(
        [
            html.H2(_("Audit trail")),
            html.P(_("Every change to an item, every sign-in and account change: who, when (your local time), "
                     "before and after. The date filters and the exports are in UTC."), className="text-muted"),
            _filters(),
            html.Div(id="audit-links", className="mb-2"),
            html.Div(id="audit-table"),
        ]
    )


def _day(value: str | None, end: bool = False) -> datetime | None:
    try:
        return datetime.fromisoformat(value) + (timedelta(days=1) if end else timedelta()) if value else None
    except ValueError:
        return None


def _item_cell(event: Any, replied_on: dict[int, int]) -> str:
    if event.queue_item_id is not None:
        return str(event.queue_item_id)
    if event.id in replied_on:  # "4821 (reply 3845)"
        return _("{item} (reply {reply})").format(item=replied_on[event.id], reply=event.subject[6:])
    return ""


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
    links = [dbc.Button(_("Export CSV"), href=f"/audit/export.csv{suffix}", external_link=True, color="primary",
                        size="sm", className="me-2", id="audit-csv"),
             dbc.Button(_("Export JSONL"), href=f"/audit/export.jsonl{suffix}", external_link=True, color="secondary",
                        size="sm", id="audit-jsonl")]
    item_id = parse_id(item) if item not in (None, "") else None
    if item not in (None, "") and item_id is None:
        return links, html.P(_("No such item: {value}.").format(value=shown(item)), className="text-warning",
                             id="audit-events")
    with current().db.pages() as session:
        events = queries.newest_audit_events(session, _day(since), _day(until, True), item_id, actor or None, SHOWN)
        replied_on = items_of_replies(session, events)  # a reply's event: the item it was written on
    rows = [html.Tr([html.Td(html.Time(local(e.at, seconds=True), dateTime=utc_text(e.at))), html.Td(e.actor),
                     html.Td(label("action", e.action)), html.Td(_item_cell(e, replied_on)),
                     html.Td(describe(e.before or {}, e.after or {})), html.Td(e.reason or "")]) for e in events]
    head = html.Thead(html.Tr([html.Th(h) for h in (_("When"), _("Who"), _("Action"), _("Item"), _("Change"),
                                                     _("Reason"))]))
    note = html.P(ngettext("The newest matching event; the exports hold all of them.",
                           "The newest {count} matching events; the exports hold all of them.",
                           len(events)).format(count=number(len(events))) if events else _("No matching event."),
                  className="small")
    return links, [note, dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, id="audit-events")]
