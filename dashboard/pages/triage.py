"""Triage, for team leads: escalations, items at risk or past their SLA, unassigned items by
age, and the workload of each agent; bulk assign, reroute and resolve.

A lead sees the teams it leads (an admin sees all). Each tick reads a cheap marker (the newest
item change, and the clock in 5-second steps); when it moved, the page re-reads its bounded
lists and sends the grid only what changed (an AG Grid row transaction), so an item that falls
past its SLA moves to "breached" without a reload. The lists are read once per marker for all
the lead screens of a worker with the same teams (`_cache`); each screen words them for its reader.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import LEADS, Principal, led_teams
from dashboard.components import corrections
from dashboard.components.item_actions import perform
from dashboard.components.queue_grid import LABELS_FORMATTER, grid_context, grid_texts, label_column, with_link
from dashboard.components.when import grid_time_column, number, when
from dashboard.components.worker_cache import MarkerCache
from dashboard.context import current
from i18n import N_, _, ngettext
from models import queries, users
from models.corrections import recent as correction_rows
from models.ids import parse_id
from models.tables import utcnow


def _page_title(**_kw: Any) -> str:
    return _("Triage") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/triage", title=_page_title, name="Triage", roles=LEADS,
                   nav={"order": 20, "label": N_("Triage")})

RECHECK_SECONDS = 5
_cache = MarkerCache()  # the lists read per (teams, marker), shared by this worker's lead screens


def columns() -> list[dict[str, Any]]:
    """The grid's columns in the reader's language (row data keeps stored keys and ISO times)."""
    return [
        {"field": "why", "headerName": _("Why here"), "width": 210, "minWidth": 160,
         "valueFormatter": {"function": LABELS_FORMATTER.format(kind="why")},
         "cellClassRules": {"vigie-sla-breached": "params.value.includes('breached')",
                            "vigie-sla-risk": "params.value.includes('at risk')"}},  # untranslated: JS
        label_column("priority", _("Priority"), "priority", width=125, minWidth=110,
                     cellClassRules={"vigie-prio-critical": "params.value === 'critical'",
                                     "vigie-prio-high": "params.value === 'high'"}),
        label_column("team", _("Team"), "team", width=170, minWidth=130),
        label_column("status", _("Status"), "status", width=135, minWidth=110),
        {"field": "assignee", "headerName": _("Assignee"), "width": 125, "minWidth": 110},
        grid_time_column("queued_at", _("Queued"), width=150, sort="asc", filter=False),
        grid_time_column("due_at", _("Due"), due_time=True, width=185, minWidth=160, filter=False),
        {"field": "text", "headerName": _("Post"), "flex": 1, "minWidth": 280, "wrapText": True, "autoHeight": True,
         "cellClass": "vigie-text-cell"},
        {"field": "network", "headerName": _("Network"), "width": 115, "minWidth": 100},
        {"field": "link", "headerName": _("Item"), "width": 100, "cellRenderer": "markdown", "sortable": False},
    ]


def _teams(principal: Principal | None) -> list[str]:
    return led_teams(principal, current().settings.team_keys)


def _signature(row: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _workload_table(loads_read: list[dict[str, Any]], members: list[tuple[str, str]]) -> tuple[Any, str]:
    """The table and a signature of its figures (the tick sends it only when they change)."""
    loads = {(w["assignee"], w["team"]): w for w in loads_read}
    labels = {t.key: t.label for t in current().settings.teams}
    now = utcnow()
    rows, figures = [], []
    for name, team in sorted(set(members) | set(loads)):
        w = loads.get((name, team), {"claimed": 0, "oldest": None, "breached": 0})
        oldest = when(w["oldest"], now) if w["oldest"] else "—"
        # Claims age by the minute: the signature moves when the shown age would.
        age = int((now - w["oldest"]).total_seconds() // 60) if w["oldest"] else None
        figures.append((name, team, w["claimed"], age, w["breached"]))
        rows.append(html.Tr([html.Td(name), html.Td(labels.get(team, team)), html.Td(number(w["claimed"])),
                             html.Td(oldest),
                             html.Td(number(w["breached"]), className="text-danger fw-bold" if w["breached"] else "")]))
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in (_("Agent"), _("Team"), _("Claimed"),
                                                                  _("Oldest claim"), _("Past due"))]))
    table = dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, id="triage-workload")
    return table, _signature({"figures": figures})


def _counts(rows: list[dict[str, Any]], totals: dict[str, int]) -> list[Any]:
    """Badges: breached and unassigned from the whole teams' counts (read from the count index);
    escalated and at risk from the bounded lists ("200+" when a list is full)."""
    def listed(word: str) -> int:
        return sum(1 for r in rows if word in r["why"])

    def shown(n: int, full: bool = False) -> str:  # "200+" when a bounded list is full
        return number(n) + "+" if full and n >= queries.TRIAGE_LIMIT else number(n)

    escalated, at_risk = listed("escalated"), listed("at risk")  # untranslated: stored keys
    breached, unassigned = int(totals["overdue"]), int(totals["new"])
    return [dbc.Badge(ngettext("{n} escalated", "{n} escalated", escalated).format(n=shown(escalated, True)),
                      color="danger", className="me-2", id="triage-count-escalated"),
            dbc.Badge(ngettext("{n} breached", "{n} breached", breached).format(n=shown(breached)), color="danger",
                      className="me-2", id="triage-count-breached"),
            dbc.Badge(ngettext("{n} at risk", "{n} at risk", at_risk).format(n=shown(at_risk, True)),
                      color="warning", text_color="dark", className="me-2"),
            dbc.Badge(ngettext("{n} unassigned", "{n} unassigned", unassigned).format(n=shown(unassigned)),
                      color="info", className="me-2")]


def _totals(session: Any, teams: list[str]) -> dict[str, int]:
    counts = queries.team_counts(session, tuple(teams))
    return {k: sum(counts[t][k] for t in teams) for k in ("overdue", "new")}


def _marker(session: Any) -> str:
    """Changes when any item changes and every `RECHECK_SECONDS` (items fall at risk or due with
    the clock alone): between two, a tick reads nothing more."""
    last = queries.last_change(session)
    return f"{last.isoformat() if last else '-'}|{int(time.time() // RECHECK_SECONDS)}"


def _lists(session: Any, teams: list[str]) -> dict[str, Any]:
    """What the page reads for ``teams``, in no reader's words: the same for every lead of them."""
    return {"members": users.team_members(session, teams), "rows": queries.triage_rows(session, teams),
            "totals": _totals(session, teams), "loads": queries.workload(session, teams)}


def _read(session: Any, teams: list[str], marker: str) -> dict[str, Any]:
    """Everything the page shows, and the state its tick compares against. The lists are read once
    per marker for all the lead screens of this worker with the same teams (`_cache`); each
    reader gets its own copies, in its words."""
    name = f"{id(current().db)}:{','.join(teams)}"  # one database per app; a test process holds several
    read = _cache.get(name, marker, lambda: _lists(session, teams))
    members, totals = read["members"], read["totals"]
    rows = with_link([dict(r) for r in read["rows"]])
    workload, load_signature = _workload_table(read["loads"], members)
    state = {"rows": {str(r["id"]): _signature(r) for r in rows}, "load": load_signature, "totals": totals}
    return {"rows": rows, "totals": totals, "workload": workload, "members": members, "state": state}


def layout(**_query: Any) -> Any:
    ctx = current()
    teams = _teams(current_principal())
    with ctx.db.pages() as session:
        marker = _marker(session)  # before the reads: a change in between is read again, not missed
        seen = _read(session, teams, marker)
        found_corrections = correction_rows(session, tuple(teams))
    rows, totals, workload = seen["rows"], seen["totals"], seen["workload"]
    members = [{"label": n, "value": n} for n in sorted({name for name, _t in seen["members"]})]
    labels = {t.key: t.label for t in ctx.settings.teams}
    return html.Div(
        [
            dcc.Store(id="triage-known", data={**seen["state"], "marker": marker}),
            dcc.Interval(id="triage-tick", interval=ctx.settings.refresh_ms),
            html.Div([html.H2(_("Triage"), className="me-3 mb-0"),
                      html.Span(", ".join(labels[t] for t in teams), className="text-muted me-3"),
                      html.Div(_counts(rows, totals), id="triage-counts")],
                     className="d-flex align-items-center mb-2"),
            dbc.Row(
                [
                    dbc.Col([dbc.Label(_("Assign to"), html_for="triage-assignee", className="visually-hidden"),
                             # (dbc.Select draws ``placeholder`` as its own hidden option of value "": an
                             # option of ours with that value showed blank)
                             dbc.Select(id="triage-assignee", size="sm", value="", placeholder=_("Assign to…"),
                                        options=members)], md=2),
                    dbc.Col(dbc.Button(_("Assign"), id="triage-assign", color="primary", size="sm"), md="auto"),
                    dbc.Col([dbc.Label(_("Reroute to team"), html_for="triage-team", className="visually-hidden"),
                             dbc.Select(id="triage-team", size="sm", value="", placeholder=_("Reroute to team…"),
                                        options=[{"label": labels[k], "value": k} for k in ctx.settings.team_keys])],
                            md=2),
                    dbc.Col([dbc.Label(_("Reason (required to reroute)"), html_for="triage-reason",
                                       className="visually-hidden"),
                             dbc.Input(id="triage-reason", placeholder=_("Reason (required to reroute)"),
                                       maxLength=2000, size="sm")], md=3),
                    dbc.Col(dbc.Button(_("Reroute"), id="triage-reroute", color="warning", size="sm"), md="auto"),
                    dbc.Col(dbc.Button(_("Resolve"), id="triage-resolve", color="success", size="sm"), md="auto"),
                ],
                className="g-2 mb-2 align-items-center",
            ),
            dbc.Alert(id="triage-alert", is_open=False, dismissable=True, duration=10000),
            dag.AgGrid(
                id="triage-grid",
                rowData=rows,
                columnDefs=columns(),
                getRowId="params.data.id",
                defaultColDef={"resizable": True, "sortable": True, "filter": True, "wrapHeaderText": True,
                               "autoHeaderHeight": True},
                dashGridOptions={"context": grid_context(labels), "localeText": grid_texts(), "tooltipShowDelay": 300,
                                 "suppressColumnVirtualisation": True,
                                 "rowSelection": {"mode": "multiRow"}, "animateRows": False},
                style={"height": "55vh"},
            ),
            html.H4(_("Workload"), className="mt-3"),
            html.Div(workload, id="triage-workload-box"),
            html.H4(_("Corrections by the team"), className="mt-3"),
            html.P(_("Judgements the team marked wrong on item pages, newest first (they train the model: "
                     "vigie model train --with-corrections)."), className="text-muted small"),
            corrections.listing(found_corrections, labels),
        ]
    )


@callback(
    Output("triage-grid", "rowTransaction"),
    Output("triage-known", "data"),
    Output("triage-counts", "children"),
    Output("triage-workload-box", "children"),
    Input("triage-tick", "n_intervals"),
    State("triage-known", "data"),
    prevent_initial_call=True,
)
@guarded(*LEADS)
def refresh(_n: int, state: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """When the marker moved, re-read the bounded lists; send only added, changed and removed rows."""
    ctx = current()
    teams = _teams(current_principal())
    with ctx.db.pages() as session:
        marker = _marker(session)
        if marker == state.get("marker"):
            return no_update, no_update, no_update, no_update
        seen = _read(session, teams, marker)
    rows, totals, workload = seen["rows"], seen["totals"], seen["workload"]
    known: dict[str, str] = state.get("rows", {})
    now = seen["state"]["rows"]
    new_state = {**seen["state"], "marker": marker}
    table = workload if seen["state"]["load"] != state.get("load") else no_update
    badges = _counts(rows, totals) if now != known or totals != state.get("totals") else no_update
    if now == known:
        return no_update, new_state, badges, table
    add = [r for r in rows if str(r["id"]) not in known]
    update = [r for r in rows if str(r["id"]) in known and known[str(r["id"])] != now[str(r["id"])]]
    remove = [{"id": number} for i in known if i not in now and (number := parse_id(i)) is not None]
    return {"add": add, "update": update, "remove": remove}, new_state, badges, table


@callback(
    Output("triage-alert", "children"),
    Output("triage-alert", "color"),
    Output("triage-alert", "is_open"),
    Input("triage-assign", "n_clicks"),
    Input("triage-reroute", "n_clicks"),
    Input("triage-resolve", "n_clicks"),
    State("triage-grid", "selectedRows"),
    State("triage-assignee", "value"),
    State("triage-team", "value"),
    State("triage-reason", "value"),
    prevent_initial_call=True,
)
@guarded(*LEADS)
def bulk(_a: int | None, _r: int | None, _s: int | None, selected: list[dict[str, Any]] | None,
         assignee: str | None, team: str | None, reason: str | None) -> tuple[str, str, bool]:
    principal = current_principal()
    assert principal is not None  # guarded
    action = {"triage-assign": "assign", "triage-reroute": "reroute", "triage-resolve": "resolve"}.get(
        str(dash.ctx.triggered_id))
    if action is None:
        raise PreventUpdate
    if not selected:
        return _("Select at least one item first."), "warning", True
    if action == "assign" and not assignee:
        return _("Choose who to assign the items to."), "warning", True
    ids = [r.get("id") for r in selected if isinstance(r, dict)]
    outcome = perform(current(), principal, action, ids, reason=reason, team=team, assignee=assignee)
    text, colour = outcome.message(action)
    return text, colour, True
