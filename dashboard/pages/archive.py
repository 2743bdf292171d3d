"""The archive, for compliance: search the records, read an item's full record history, see the
last verifications, the head and the anchored heads, place and release legal holds
(`components.archive_holds`), export records for auditors
(`components.archive_exports`).

Compliance only: the issue gives the archive to compliance, and records of authors under a
data-protection request are shown to compliance alone (marked "restricted"); admins watch the
archive's health with `vigie archive verify` and /sources. Every callback checks the role again
and reads with ``include_restricted`` only for compliance, so widening the roles would not show
restricted records. Everything read here is untrusted text, shown as text (JSON in ``html.Pre``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.components import archive_exports, archive_holds
from dashboard.components.archive_panels import (
    build_anchors,
    build_chain,
    build_history,
    build_results,
    build_verifications,
)
from dashboard.context import current
from i18n import N_, _
from models import archive_views
from models.archive_tables import RECORD_KINDS
from models.ids import MAX_RECORD_ID, parse_id, shown

ARCHIVE_ROLES: tuple[str, ...] = ("compliance",)


def _page_title(**_kw: Any) -> str:
    return _("Archive") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/archive", title=_page_title, name="Archive", roles=ARCHIVE_ROLES,
                   nav={"order": 62, "label": N_("Archive")})
PAGE = 50  # records per page of a search
HISTORY_PAGE = archive_views.HISTORY_LIMIT
MAX_TEXT = 200  # characters of a search field


def _sees_restricted() -> bool:
    principal = current_principal()
    return principal is not None and principal.role == "compliance"


def day(value: Any, end: bool = False) -> datetime | None:
    """A date field (YYYY-MM-DD, UTC) as the start of that day, or of the next one for an end."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        start = datetime.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return start + timedelta(days=1) if end else start


def text_field(value: Any) -> str | None:
    return value.strip()[:MAX_TEXT] or None if isinstance(value, str) else None


def record_filter(kind: Any, subject: Any, author: Any, mention: Any, since: Any, until: Any,
                  text: Any) -> archive_views.RecordFilter:
    return archive_views.RecordFilter(kind=kind if kind in RECORD_KINDS else None, subject=text_field(subject),
                                      author=text_field(author), mention_id=parse_id(mention),
                                      since=day(since), until=day(until, end=True), text=text_field(text))


def _search_form() -> Any:
    def field(label: str, ident: str, kind: str = "text", placeholder: str = "", md: int = 2) -> Any:
        return dbc.Col([dbc.Label(label, html_for=ident, className="small mb-0"),
                        dbc.Input(id=ident, type=kind, placeholder=placeholder, size="sm", maxLength=MAX_TEXT)], md=md)

    return html.Div([
        dbc.Row([
            dbc.Col([dbc.Label(_("Kind"), html_for="archive-kind", className="small mb-0"),
                     dcc.Dropdown(id="archive-kind", options=list(RECORD_KINDS), placeholder=_("any kind"))], md=2),
            field(_("Subject"), "archive-subject", placeholder="mention:12, reply:3…"),  # untranslated: the syntax
            field(_("Author"), "archive-author", placeholder="network:handle"),
            field(_("Item (mention id)"), "archive-mention", "number"),
            field(_("From (UTC date)"), "archive-since", "date"),
            field(_("To (UTC date)"), "archive-until", "date"),
        ], className="g-2 mb-2"),
        dbc.Row([field(_("Text in the content"), "archive-text", placeholder=_("words, case-insensitive"), md=6),
                 dbc.Col([dbc.Button(_("Search"), id="archive-search", color="primary", size="sm", className="me-2"),
                          dbc.Button(_("Older"), id="archive-older", color="secondary", size="sm", outline=True)],
                         md=3, className="d-flex align-items-end")], className="g-2 mb-2"),
        dcc.Store(id="archive-cursor", data=None),
        html.Div(id="archive-results"),
    ])


def _history_tab(mention_id: int | None) -> Any:
    children: Any = html.P(_("Give an item’s mention id, or open one from the search results."),
                           className="text-muted", id="archive-history-note")
    following = None
    if mention_id is not None:
        children, following = _history(mention_id, 0)
    return html.Div([
        dbc.Row([dbc.Col([dbc.Label(_("Mention id"), html_for="archive-history-mention", className="visually-hidden"),
                          dbc.Input(id="archive-history-mention", type="number", size="sm", value=mention_id,
                                    placeholder=_("mention id"))], md=2),
                 dbc.Col([dbc.Button(_("Show records"), id="archive-history-show", color="primary", size="sm",
                                     className="me-2"),
                          dbc.Button(_("Later"), id="archive-history-later", color="secondary", size="sm",
                                     outline=True)], md=4)], className="g-2 mb-2"),
        dcc.Store(id="archive-history-cursor", data={"mention": mention_id, "after": following}),
        html.Div(children, id="archive-history"),
    ])


def _history(mention_id: int, after: int) -> tuple[Any, int | None]:
    """The records of ``mention_id`` after ``after``, and the cursor of the next page (None: no more)."""
    restricted = _sees_restricted()
    with current().db.pages() as session:
        entries = archive_views.mention_history(session, mention_id, restricted, after_id=after, limit=HISTORY_PAGE)
    following = entries[-1].record.id if len(entries) >= HISTORY_PAGE else None
    return build_history(mention_id, entries, not restricted, HISTORY_PAGE), following


def _status() -> Any:
    path = current().settings.archive.anchor_file
    with current().db.pages() as session:
        verifications = archive_views.last_verifications(session, 10)
        chain = archive_views.chain_state(session)
        anchors = archive_views.anchor_tail(session, Path(path), 10)
        built = [html.H5(_("Head")), build_chain(chain), html.H5(_("Anchored heads")),
                 build_anchors(str(path), anchors), html.H5(_("Last verifications")),
                 build_verifications(verifications)]
    return built


def layout(mention: str | None = None, **_query: Any) -> Any:
    mention_id = parse_id(mention)
    return html.Div([
        html.H2(_("Archive")),
        html.P(_("Every record kept for regulators: posts as received, every action and reply, holds, reviews, "
                 "configuration changes. Records are sealed into hash-chained segments; the head is anchored "
                 "outside the database."), className="text-muted"),
        dbc.Tabs([
            dbc.Tab(_search_form(), label=_("Search records"), tab_id="search", className="pt-3"),
            dbc.Tab(_history_tab(mention_id), label=_("Item history"), tab_id="history", className="pt-3"),
            dbc.Tab(html.Div([dbc.Button(_("Refresh"), id="archive-status-refresh", size="sm", color="secondary",
                                         outline=True, className="mb-2"),
                              html.Div(_status(), id="archive-status")]),
                    label=_("Verification and anchors"), tab_id="status", className="pt-3"),
            dbc.Tab(archive_holds.section(), label=_("Legal holds"), tab_id="holds", className="pt-3"),
            dbc.Tab(archive_exports.section(), label=_("Exports"), tab_id="exports", className="pt-3"),
        ], id="archive-tabs", active_tab="history" if mention_id is not None else "search"),
    ])


@callback(
    Output("archive-results", "children"),
    Output("archive-cursor", "data"),
    Input("archive-search", "n_clicks"),
    Input("archive-older", "n_clicks"),
    State("archive-kind", "value"),
    State("archive-subject", "value"),
    State("archive-author", "value"),
    State("archive-mention", "value"),
    State("archive-since", "value"),
    State("archive-until", "value"),
    State("archive-text", "value"),
    State("archive-cursor", "data"),
    prevent_initial_call=True,
)
@guarded(*ARCHIVE_ROLES)
def search(_search: int | None, _older: int | None, kind: Any, subject: Any, author: Any, mention: Any, since: Any,
           until: Any, text: Any, cursor: Any) -> tuple[Any, Any]:
    """Search (newest first) or, with Older, the next page below the last id shown."""
    older = dash.ctx.triggered_id == "archive-older"
    before = parse_id(cursor.get("before"), MAX_RECORD_ID) if older and isinstance(cursor, dict) else None
    if older and before is None:
        raise PreventUpdate  # nothing searched yet, or the last page was shown
    if mention not in (None, "") and parse_id(mention) is None:
        return html.P(_("No such mention: {value}.").format(value=shown(mention)), className="text-warning"), None
    wanted = record_filter(kind, subject, author, mention, since, until, text)
    with current().db.pages() as session:
        rows = archive_views.search_records(session, wanted, _sees_restricted(), before_id=before, limit=PAGE)
    return build_results(rows, not older, PAGE), {"before": rows[-1].id if len(rows) >= PAGE else None}


@callback(
    Output("archive-history", "children"),
    Output("archive-history-cursor", "data"),
    Input("archive-history-show", "n_clicks"),
    Input("archive-history-later", "n_clicks"),
    State("archive-history-mention", "value"),
    State("archive-history-cursor", "data"),
    prevent_initial_call=True,
)
@guarded(*ARCHIVE_ROLES)
def history(_show: int | None, _later: int | None, mention: Any, cursor: Any) -> tuple[Any, Any]:
    """An item's records from the start, or with Later, the next page after the last one shown."""
    if dash.ctx.triggered_id == "archive-history-later":
        mention_id = parse_id(cursor.get("mention")) if isinstance(cursor, dict) else None
        after = parse_id(cursor.get("after"), MAX_RECORD_ID) if isinstance(cursor, dict) else None
        if mention_id is None or after is None:
            raise PreventUpdate
    else:
        mention_id, after = parse_id(mention), 0
        if mention_id is None:
            return html.P(_("That is not a mention id."), className="text-warning", id="archive-history-note"), None
    built, following = _history(mention_id, after)
    return built, {"mention": mention_id, "after": following}


@callback(
    Output("archive-status", "children"),
    Input("archive-status-refresh", "n_clicks"),
    prevent_initial_call=True,
)
@guarded(*ARCHIVE_ROLES)
def refresh_status(_n: int | None) -> Any:
    return _status()
