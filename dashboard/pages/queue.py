"""A team's live queue: highest priority and newest first; claim, release, resolve, dismiss,
escalate, reroute. Agents and leads of the team work it; compliance and admins read it.

The grid is filled once by `layout()`; afterwards each tick asks only for items
changed since the last one and sends them as an AG Grid row transaction (add,
update or remove), never the whole table. Actions write through `models.actions`,
each with an audit event.

With a replica (``DATABASE_READ_URL``) the layout and the ticks read it (``db.pages``); the rules
that keep a lagging replica from losing or repeating a change are `models.replica`'s: the page's
state carries ``lsn``, the position its last read had applied (an upper bound), and ``seen``, the
clock of that read's snapshot (a lower bound). A tick on a replica behind ``lsn`` sends nothing;
the recheck of the seconds behind the cursor lasts while ``seen`` is within `RECHECK_FOR` of the
cursor, so a replica that paused or lagged keeps it open until it has replayed past it. An
action's own rows are read again on the primary, which is why its callback moves ``lsn`` to the
primary's position: the next ticks wait for the replica rather than show those rows as they were.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, callback, clientside_callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, forbidden_notice, guarded
from dashboard.auth.policy import QUEUE_READERS, WORKERS, can_read_team, can_work_team
from dashboard.components.item_actions import perform
from dashboard.components.names import flag_names
from dashboard.components.queue_grid import (
    LABEL_FORMATTER,
    LABELS_FORMATTER,
    SCORE_FORMATTER,
    SLA_GETTER,
    build_transaction,
    grid_context,
    grid_texts,
    label_column,
    with_link,
)
from dashboard.components.when import grid_time_column, number
from dashboard.components.worker_cache import MarkerCache
from dashboard.context import current
from i18n import N_, _, ngettext
from models import queries, replica
from models.ids import parse_cursor, parse_ids
from models.tables import utcnow


def _page_title(**_kw: Any) -> str:
    return _("Queue") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path_template="/queue/<team>", title=_page_title, name="Queue", roles=QUEUE_READERS,
                   nav={"order": 10, "per_team": True})

# Rows changed this long before the page's position are asked for again while that
# position is recent: a transaction stamped earlier that committed later (PostgreSQL
# writers run concurrently) is still seen.
OVERLAP = timedelta(seconds=5)
RECHECK_FOR = timedelta(seconds=30)
# Past this many changes at once (a backfill, a bulk action) or this many rows shown, the
# page reloads its top rows instead of applying a transaction: the grid stays bounded.
MAX_SHOWN = 2 * queries.QUEUE_LIMIT

PRIORITY_COMPARATOR = "({critical:0,high:1,medium:2,low:3})[valueA] - ({critical:0,high:1,medium:2,low:3})[valueB]"
CLOCK_REFRESH = ("function (_n) {"
                 "  var now = Date.now();"
                 "  if (now - (window.__vigieQueueClock || 0) < 20000) { return window.dash_clientside.no_update; }"
                 "  window.__vigieQueueClock = now;"
                 "  try { dash_ag_grid.getApi('queue-grid').refreshCells({columns: ['created_at', 'due_at', 'sla'],"
                 "                                                         force: true}); } catch (e) {}"
                 "  return window.dash_clientside.no_update; }")  # untranslated: JavaScript


# The risk flags' column is filtered on the names it shows, not the stored keys.
FLAGS_FILTER = ("vigieQueue.labels({value: params.data && params.data.flags, context: params.context},"
                " 'flag')")  # untranslated: JavaScript


def columns(can_work: bool) -> list[dict[str, Any]]:
    """The grid's columns in the reader's language (row data keeps stored keys and ISO times)."""
    found: list[dict[str, Any]] = [
        label_column("priority", _("Priority"), "priority", width=155, minWidth=140, sortIndex=0, sort="asc",
                     comparator={"function": PRIORITY_COMPARATOR},
                     cellClassRules={"vigie-prio-critical": "params.value === 'critical'",
                                     "vigie-prio-high": "params.value === 'high'"}),
        grid_time_column("created_at", _("Posted"), width=150, sort="desc", sortIndex=1, filter=False),
        label_column("status", _("Status"), "status", width=135, minWidth=110),
        {"field": "assignee", "headerName": _("Assignee"), "width": 125, "minWidth": 110},
        {"field": "text", "headerName": _("Post"), "flex": 1, "minWidth": 320, "wrapText": True, "autoHeight": True,
         "cellClass": "vigie-text-cell"},
        {"field": "author", "headerName": _("Author"), "width": 150},
        {"field": "network", "headerName": _("Network (+copies)"), "width": 155, "minWidth": 130},
        {"field": "language", "headerName": _("Lang"), "width": 110, "minWidth": 100},
        {"field": "sentiment", "headerName": _("Sentiment"), "width": 115, "minWidth": 110, "type": "numericColumn",
         "valueFormatter": {"function": SCORE_FORMATTER}},
        {"field": "flags", "headerName": _("Risk flags"), "width": 170,
         "valueFormatter": {"function": LABELS_FORMATTER.format(kind="flag")},
         "filterValueGetter": {"function": FLAGS_FILTER}},  # the filter reads the names shown
        {"field": "rule_id", "headerName": _("Rule"), "width": 150},
        grid_time_column("due_at", _("Due"), due_time=True, width=185, minWidth=160, filter=False),
        {"headerName": _("SLA"), "colId": "sla", "width": 135, "minWidth": 110,
         "valueGetter": {"function": SLA_GETTER},
         "valueFormatter": {"function": LABEL_FORMATTER.format(kind="sla")},
         "cellClassRules": {"vigie-sla-breached": "params.value === 'breached'",
                            "vigie-sla-risk": "params.value === 'at risk'"}},  # untranslated: JS
        {"field": "escalated", "headerName": _("Esc."), "headerTooltip": _("Escalated to the team lead"),
         "width": 130, "minWidth": 90,
         "valueFormatter": {"function": "params.value ? vigieQueue.word(params, 'lead') : ''"}},
        {"field": "link", "headerName": _("Item"), "width": 100, "cellRenderer": "markdown", "sortable": False},
    ]
    if can_work:  # opens the item page at its Reply panel
        found.append({"field": "reply", "headerName": _("Reply"), "width": 110, "cellRenderer": "markdown",
                      "sortable": False, "filter": False, "pinned": "right"})
    return found


def _count(text: str, n: int) -> str:
    return text.format(n=number(n))


def _summary(counts: dict[str, int]) -> list[Any]:
    open_, new, claimed, overdue = (int(counts.get(k, 0)) for k in ("open", "new", "claimed", "overdue"))
    return [
        dbc.Badge(_count(ngettext("{n} open", "{n} open", open_), open_), color="primary", className="me-2",
                  id="queue-count-open"),
        dbc.Badge(_count(ngettext("{n} new", "{n} new", new), new), color="info", className="me-2"),
        dbc.Badge(_count(ngettext("{n} claimed", "{n} claimed", claimed), claimed), color="secondary",
                  className="me-2"),
        dbc.Badge(_count(ngettext("{n} past due", "{n} past due", overdue), overdue), color="danger",
                  className="me-2"),
    ]


def _state(team: str, key: queries.ChangeKey, known: list[int], floor: str, lsn: int | None = None,
           seen: datetime | None = None) -> dict[str, Any]:
    """The page's position in the stream of changes; ``floor``: the rows were read whole at
    that time, so nothing stamped before it needs asking for again; ``lsn`` and ``seen``: how far
    the database read had got (`models.replica`; None on SQLite, and ``seen`` None: "now")."""
    return {"team": team, "key": list(key), "known": known, "floor": floor, "lsn": lsn,
            "seen": seen.isoformat() if seen else None}


def _lsn(state: dict[str, Any]) -> int:
    value = state.get("lsn")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _seen(state: dict[str, Any], now: datetime) -> datetime:
    """The clock of the snapshot the page read last (from the browser: a bad one counts as now)."""
    try:
        return datetime.fromisoformat(str(state["seen"])) if state.get("seen") else now
    except ValueError:
        return now


def _buttons(can_work: bool) -> Any:
    if not can_work:
        return html.P(_("Read-only: your role reads this queue but does not work it."), className="text-muted small")
    return html.Div(
        [
            dbc.Button(_("Claim"), id="queue-claim", color="primary", className="me-2", size="sm"),
            dbc.Button(_("Release items"), id="queue-release", color="secondary", outline=True, className="me-2",
                       size="sm"),
            dbc.Button(_("Resolve"), id="queue-resolve", color="success", className="me-2", size="sm"),
            dbc.Button(_("Dismiss…"), id="queue-dismiss-open", color="secondary", className="me-2", size="sm"),
            dbc.Button(_("Escalate…"), id="queue-escalate-open", color="danger", className="me-2", size="sm"),
            dbc.Button(_("Reroute…"), id="queue-reroute-open", color="warning", className="me-2", size="sm"),
            html.Span(_("Select rows, then act. New items appear on their own."), className="text-muted small"),
        ],
        className="mb-2",
    )


def _reason_modal(other_teams: list[dict[str, str]]) -> Any:
    """One dialog for the actions that need a reason (reroute also needs a team)."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Reason"), id="queue-modal-title")),
            dbc.ModalBody(
                [
                    html.Div([dbc.Label(_("Team"), html_for="queue-reroute-team"),
                              dcc.Dropdown(id="queue-reroute-team", options=other_teams, clearable=False,
                                           placeholder=_("Choose a team"))],
                             id="queue-team-box"),
                    dbc.Label(_("Reason (kept in the audit trail)"), html_for="queue-reason", className="mt-2"),
                    dbc.Textarea(id="queue-reason", maxLength=2000),
                ]
            ),
            dbc.ModalFooter(dbc.Button(_("Confirm"), id="queue-modal-confirm", color="warning")),
        ],
        id="queue-modal",
        is_open=False,
    )


def layout(team: str | None = None, **_query: Any) -> Any:
    ctx = current()
    if team not in ctx.settings.team_keys:
        return dbc.Alert(_("There is no team called {team}.").format(team=repr(team)), color="warning")
    principal = current_principal()
    if not can_read_team(principal, team):
        return forbidden_notice(_("You do not work for {team}.").format(team=ctx.settings.team(team).label))
    label = ctx.settings.team(team).label
    with ctx.db.pages() as session:
        at = replica.snapshot(ctx.db, session)
        key = queries.newest_change(session)  # before the rows: a change in between is sent again, not lost
        rows = with_link(queries.open_queue(session, team))
        counts = queries.team_counts(session, ctx.settings.team_keys)[team]
        lsn = replica.position(ctx.db, session)
    other_teams = [{"label": t.label, "value": t.key} for t in ctx.settings.teams if t.key != team]
    return html.Div(
        [
            dcc.Store(id="queue-state", data=_state(team, key, [r["id"] for r in rows], floor=key[0], lsn=lsn,
                                                    seen=at.clock if at.standby else None)),
            dcc.Store(id="queue-pending"),
            dcc.Interval(id="queue-tick", interval=ctx.settings.refresh_ms),
            dcc.Store(id="queue-clock"),
            html.Div(
                [
                    html.H2(label, className="me-3 mb-0", id="queue-title"),
                    html.Div(_summary(counts), id="queue-summary"),
                ],
                className="d-flex align-items-center mb-2",
            ),
            _buttons(can_work_team(principal, team)),
            dbc.Alert(id="queue-alert", is_open=False, dismissable=True, duration=8000),
            _reason_modal(other_teams),
            dag.AgGrid(
                id="queue-grid",
                rowData=rows,
                columnDefs=columns(can_work_team(principal, team)),
                getRowId="params.data.id",
                defaultColDef={"resizable": True, "sortable": True, "filter": True, "wrapHeaderText": True,
                               "autoHeaderHeight": True},
                dashGridOptions={
                    "context": grid_context(flags=flag_names()),
                    "localeText": grid_texts(),
                    "tooltipShowDelay": 300,
                    "suppressColumnVirtualisation": True,  # every column in the page: screen readers, find in page
                    "rowSelection": {"mode": "multiRow"},
                    "animateRows": False,
                    # Evaluated in the browser, so an item turns at risk or overdue on time without a change.
                    "rowClassRules": {
                        "vigie-overdue": "params.data.due_at < new Date().toISOString()",  # untranslated: JS
                        "vigie-at-risk": "params.data.due_at >= new Date().toISOString() && "  # untranslated: JS
                                         "params.data.at_risk_at < new Date().toISOString()",
                    },
                },
                style={"height": "72vh"},
            ),
        ]
    )


clientside_callback(CLOCK_REFRESH, Output("queue-clock", "data"), Input("queue-tick", "n_intervals"),
                    prevent_initial_call=True)


_counts_cache = MarkerCache()


def _team_counts(session: Any, newest: dict[str, Any], teams: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """Every team's counts as of the newest change read (``newest``: the last of a tick's forward
    changes, fewer than a page, so the newest there was) and of this second (what is overdue moves
    with the clock): read once for all the queue screens of this worker that saw the same. A
    transaction stamped earlier that commits within that second does not move the newest change: the
    counts read before it serve that second, and the next change (a later tick) reads them again."""
    marker = f"{newest['updated_at']}|{newest['id']}|{int(utcnow().timestamp())}"
    return _counts_cache.get("counts", marker, lambda: queries.team_counts(session, teams))


@callback(
    Output("queue-grid", "rowTransaction"),
    Output("queue-grid", "rowData"),
    Output("queue-state", "data"),
    Output("queue-summary", "children"),
    Input("queue-tick", "n_intervals"),
    State("queue-state", "data"),
    prevent_initial_call=True,
)
@guarded(*QUEUE_READERS)
def refresh_queue(_n: int, state: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    ctx = current()
    team = str(state["team"])
    if not can_read_team(current_principal(), team):
        raise PreventUpdate
    key_id = parse_cursor(state["key"][1])
    if key_id is None:  # the page's state comes from the browser: a cursor that is no row id is no cursor
        raise PreventUpdate
    key: queries.ChangeKey = (str(state["key"][0]), key_id)
    known = set(state["known"])
    with ctx.db.pages() as session:
        now = replica.snapshot(ctx.db, session)
        if replica.behind(now, state.get("lsn")):
            raise PreventUpdate  # an older database than the page's last read: wait for it to catch up
        clock = now.clock if now.standby else None
        forward = queries.changes_after(session, key, limit=queries.QUEUE_LIMIT)
        if len(forward) >= queries.QUEUE_LIMIT or len(known) > MAX_SHOWN:
            # A burst: reload the queue's top rows rather than page through thousands of changes.
            newest = queries.newest_change(session)
            rows = with_link(queries.open_queue(session, team))
            counts = queries.team_counts(session, ctx.settings.team_keys)[team]
            new_state = _state(team, newest, [r["id"] for r in rows], floor=newest[0],
                               lsn=replica.position(ctx.db, session), seen=clock)
            return no_update, rows, new_state, _summary(counts)
        at = datetime.fromisoformat(key[0])
        behind = []
        # Measured on the clock of the snapshot read last (a replica's, paused or lagging), not this worker's.
        if _seen(state, utcnow()) - at < RECHECK_FOR:
            start = max(at - OVERLAP, datetime.fromisoformat(state["floor"]))
            behind = queries.changes_between(session, start, at)
        lsn = replica.position(ctx.db, session)
        if not forward and not behind:
            if lsn == state.get("lsn") and (clock.isoformat() if clock else None) == state.get("seen"):
                return no_update, no_update, no_update, no_update
            return no_update, no_update, _state(team, key, sorted(known), state["floor"], lsn, clock), no_update
        transaction, known = build_transaction(team, behind + forward, known)
        fresh_counts = _team_counts(session, forward[-1], ctx.settings.team_keys)[team] if forward else None
    if forward:
        key = (forward[-1]["updated_at"], int(forward[-1]["id"]))
    new_state = _state(team, key, sorted(known), floor=state["floor"], lsn=lsn, seen=clock)
    if not (transaction["add"] or transaction["update"] or transaction["remove"]):
        return no_update, no_update, new_state, no_update
    summary = _summary(fresh_counts) if fresh_counts is not None else no_update
    return transaction, no_update, new_state, summary


MODAL_OPENERS = {"queue-dismiss-open": ("dismiss", N_("Dismiss: why does it need no action?")),
                 "queue-escalate-open": ("escalate", N_("Escalate to the team lead: why?")),
                 "queue-reroute-open": ("reroute", N_("Reroute to another team"))}


@callback(
    Output("queue-modal", "is_open"),
    Output("queue-modal-title", "children"),
    Output("queue-team-box", "style"),
    Output("queue-pending", "data"),
    Input("queue-dismiss-open", "n_clicks"),
    Input("queue-escalate-open", "n_clicks"),
    Input("queue-reroute-open", "n_clicks"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def open_modal(_d: int | None, _e: int | None, _r: int | None) -> tuple[bool, str, dict[str, str], str]:
    action, title = MODAL_OPENERS[str(dash.ctx.triggered_id)]
    return True, _(title), ({} if action == "reroute" else {"display": "none"}), action


@callback(
    Output("queue-alert", "children"),
    Output("queue-alert", "color"),
    Output("queue-alert", "is_open"),
    Output("queue-grid", "rowTransaction", allow_duplicate=True),
    Output("queue-modal", "is_open", allow_duplicate=True),
    Output("queue-state", "data", allow_duplicate=True),
    Input("queue-claim", "n_clicks"),
    Input("queue-release", "n_clicks"),
    Input("queue-resolve", "n_clicks"),
    Input("queue-modal-confirm", "n_clicks"),
    State("queue-grid", "selectedRows"),
    State("queue-pending", "data"),
    State("queue-reroute-team", "value"),
    State("queue-reason", "value"),
    State("queue-state", "data"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def act(
    _c: int | None, _rl: int | None, _r: int | None, _m: int | None, selected: list[dict[str, Any]] | None,
    pending: str | None, team: str | None, reason: str | None, state: dict[str, Any],
) -> tuple[Any, str, bool, Any, bool, Any]:
    principal = current_principal()
    assert principal is not None  # guarded
    which = str(dash.ctx.triggered_id)
    action = {"queue-claim": "claim", "queue-release": "release", "queue-resolve": "resolve"}.get(which, pending)
    if action not in ("claim", "release", "resolve", "dismiss", "escalate", "reroute"):
        raise PreventUpdate
    if not selected:
        return _("Select at least one item first."), "warning", True, no_update, False, no_update
    ids = [r.get("id") for r in selected if isinstance(r, dict)]
    outcome = perform(current(), principal, action, ids, reason=reason, team=team)
    text, colour = outcome.message(action)
    # The selected rows as stored now (not as the browser sent them), refused ones included: an item
    # another agent claimed first shows who has it at once. Only items of this page's team are read.
    team_key = str(state["team"])
    if not can_read_team(principal, team_key):  # the page's team comes from the browser: checked
        return text, colour, True, no_update, False, no_update
    wanted = parse_ids(ids)[0]
    done = {d["id"] for d in outcome.done}
    with current().db.read() as session:  # the primary: these rows must show this action
        rows = [r for r in queries.rows_by_ids(session, wanted) if r["team"] == team_key or r["id"] in done]
    transaction, _known = build_transaction(team_key, rows, {r["id"] for r in rows})
    # With a replica, the next ticks wait until it has applied the action (models.replica, rule 4).
    primary = replica.primary_position(current().db)
    # Only the position changes: a tick that ran meanwhile moved the rest of the state (its key and
    # known rows), and writing back the state this click sent would undo it (rows added twice).
    new_state: Any = no_update
    if primary is not None:
        new_state = Patch()
        new_state["lsn"] = max(primary, _lsn(state))
    return text, colour, True, transaction, False, new_state
