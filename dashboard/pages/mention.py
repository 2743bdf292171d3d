"""One mention: its text, author, link, scores, risk flags, why it was routed, history, copies;
the item's actions for those who work its team, and who else has it open ("being viewed by");
the replies to the post (`components.thread`) and, for those who work its team, the Reply panel
(`components.compose`).

Everything from the post (text, names, URL) is untrusted and shown as plain text; the
link is only made clickable for http(s) URLs.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, forbidden_notice, guarded
from dashboard.auth.policy import QUEUE_READERS, WORKERS, can_read_team, can_work_team
from dashboard.components import compose, thread
from dashboard.components.item_actions import ACTIONS, perform
from dashboard.components.links import safe_link
from dashboard.context import current
from models import presence, queries
from models.ids import parse_id, shown
from models.tables import QueueItem, utcnow

dash.register_page(__name__, path_template="/mention/<mention_id>", title="Mention · Vigie", name="Mention",
                   roles=QUEUE_READERS)
PRESENCE_MS = 5000


def _field(label: str, value: Any) -> Any:
    return html.Tr([html.Th(label, className="text-nowrap pe-3"), html.Td(value)])


def _history(events: list[Any]) -> Any:
    if not events:
        return html.P("No action yet.", className="text-muted", id="mention-history")
    rows = [
        html.Tr(
            [
                html.Td(e.at.isoformat(timespec="seconds") + "Z"),
                html.Td(e.actor),
                html.Td(e.action, className="audit-action"),
                html.Td(", ".join(f"{k}: {e.before.get(k)} → {v}" for k, v in e.after.items() if e.before.get(k) != v)),
                html.Td(e.reason or ""),
            ]
        )
        for e in events
    ]
    head = html.Thead(html.Tr([html.Th(h) for h in ("When (UTC)", "Who", "Action", "Change", "Reason")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, id="mention-history")


def _records_link(principal: Any, mention_id: int) -> list[Any]:
    """For compliance, who reads the archive: a link to this item's full record history."""
    if principal is None or principal.role != "compliance":
        return []
    return [html.A("Records", href=f"/archive?mention={mention_id}", id="mention-records",
                   className="fs-6 fw-normal ms-3")]


def _route(item: QueueItem | None, teams: dict[str, str]) -> list[Any]:
    if item is None:
        return [html.P("Not queued.", className="text-muted")]
    sla = queries.sla_state(item.status, item.due_at, item.at_risk_at, utcnow())
    out = [
        html.P([html.B(teams.get(item.team, item.team)), f" · {item.status} · {item.assignee or 'unassigned'}"],
               id="mention-status"),
        html.P(item.explanation, id="mention-explanation"),
        html.P(f"Due {item.due_at.isoformat(timespec='minutes')}Z" + (f" · SLA {sla}" if sla else ""),
               className="text-muted", id="mention-sla"),
    ]
    if item.escalated_at is not None:
        out.append(dbc.Alert(f"Escalated to the lead: {item.escalation_reason or ''}", color="danger",
                             className="py-1"))
    return out


def _actions(item: QueueItem, teams: dict[str, str]) -> list[Any]:
    buttons = [("claim", "Claim", "primary"), ("release", "Release", "secondary"), ("resolve", "Resolve", "success"),
               ("dismiss", "Dismiss", "secondary"), ("escalate", "Escalate", "danger"),
               ("reroute", "Reroute", "warning"), ("reopen", "Reopen", "info")]
    return [
        html.H4("Act"),
        dbc.Textarea(id="mention-reason", placeholder="Reason or note (required to escalate, reroute, reopen)",
                     maxLength=2000, className="mb-2"),
        dcc.Dropdown(id="mention-team", placeholder="Team to reroute to", className="mb-2",
                     options=[{"label": label, "value": key} for key, label in teams.items() if key != item.team]),
        html.Div([dbc.Button(label, id={"type": "mention-act", "action": key}, color=colour, size="sm",
                             className="me-2 mb-2") for key, label, colour in buttons]),
        dbc.Alert(id="mention-alert", is_open=False, dismissable=True, duration=8000),
    ]


def layout(mention_id: str | None = None, **_query: Any) -> Any:
    ctx = current()
    wanted = parse_id(mention_id)
    if wanted is None:
        return dbc.Alert(f"No such mention: {shown(mention_id)} is not a mention number.", color="warning")
    with ctx.db.read() as session:
        detail = queries.mention_detail(session, wanted)
    if detail is None:
        return dbc.Alert(f"Mention {wanted} does not exist.", color="warning")
    m, head, item = detail["mention"], detail["head"], detail["item"]
    principal = current_principal()
    if item is not None and not can_read_team(principal, item.team):
        return forbidden_notice("This item belongs to a team you do not work for.")
    terms = m.risk_terms or {}
    flags = [
        dbc.Badge(f"{flag}: {', '.join(terms.get(flag, []))}", color="danger", className="me-1")
        for flag in m.risk_flags
    ] or [html.Span("none", className="text-muted")]
    teams = {t.key: t.label for t in ctx.settings.teams}
    route = _route(item, teams)
    copy_note = (
        [dbc.Alert(["This post is a copy of ", html.A(f"mention {head.id}", href=f"/mention/{head.id}"), "."],
                   color="info")]
        if head.id != m.id
        else []
    )
    copies = [
        html.Li([html.A(f"{c.network} · {c.author_handle or c.author_name or '?'}", href=f"/mention/{c.id}"),
                 " ", safe_link(c.url)])
        for c in detail["copies"]
    ]
    live = []
    if item is not None:
        live = [dcc.Store(id="mention-item", data={"id": item.id, "changed": item.updated_at.isoformat()}),
                dcc.Interval(id="mention-tick", interval=PRESENCE_MS)]
    return dbc.Row(
        [
            *live,
            dbc.Col(
                [
                    html.H3([f"Mention {m.id}", *_records_link(principal, m.id)]),
                    *copy_note,
                    html.P(m.text, className="vigie-detail-text", id="mention-text"),
                    html.Table(
                        html.Tbody(
                            [
                                _field("Author", f"{m.author_name or ''} {m.author_handle or ''}".strip() or "unknown"),
                                _field("Followers", f"{m.author_followers:,}" if m.author_followers else "unknown"),
                                _field("Network", f"{m.network} (source {detail['source']})"),
                                _field("Link", safe_link(m.url)),
                                _field("Posted", m.created_at.isoformat(timespec="seconds") + "Z"),
                                _field("Collected", m.collected_at.isoformat(timespec="seconds") + "Z"),
                                _field("Language", m.language),
                                _field("Sentiment", f"{m.sentiment_label} ({m.sentiment_score:+.2f})"),
                                _field("Brand", f"{m.brand or 'none'}{' (competitor)' if m.is_competitor else ''}"),
                                _field("Priority", m.priority),
                                _field("Risk flags", html.Div(flags)),
                            ]
                        ),
                        className="table table-sm",
                    ),
                    *([thread.box(item.id, principal), compose.section(item.id)] if item is not None else []),
                ],
                md=7,
            ),
            dbc.Col(
                [
                    html.Div(id="mention-presence", className="mb-2"),
                    html.H4("Why it is here"),
                    html.Div(route, id="mention-route"),
                    *(_actions(item, teams) if item is not None and can_work_team(principal, item.team) else []),
                    html.H4("History"),
                    html.Div(_history(detail["events"]), id="mention-history-box"),
                    html.H4("Copies on other networks"),
                    html.Ul(copies) if copies else html.P("None.", className="text-muted"),
                ],
                md=5,
            ),
        ]
    )


@callback(
    Output("mention-presence", "children"),
    Output("mention-route", "children"),
    Output("mention-history-box", "children"),
    Output("mention-item", "data"),
    Input("mention-tick", "n_intervals"),
    State("mention-item", "data"),
)
@guarded(*QUEUE_READERS)
def tick(_n: int | None, state: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Say who else has the item open, note that we do, and refresh the item when it changed."""
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    now = utcnow()
    with ctx.db.write.begin() as session:
        item_id = parse_id(state.get("id")) if isinstance(state, dict) else None
        item = None if item_id is None else queries.queue_item(session, item_id)
        if item is None or not can_read_team(principal, item.team):
            raise PreventUpdate
        presence.touch(session, item.id, principal.name, now)
        others = [n for n in presence.viewers(session, item.id, now) if n != principal.name]
        changed = item.updated_at.isoformat() != state.get("changed")
        teams = {t.key: t.label for t in ctx.settings.teams}
        route = _route(item, teams) if changed else no_update
        events = queries.item_events(session, item.id) if changed else None
        new_state = {"id": item.id, "changed": item.updated_at.isoformat()}
    note = html.Span(f"Also viewing: {', '.join(others)}", className="vigie-presence") if others else ""
    history = _history(events) if events is not None else no_update
    return note, route, history, (new_state if changed else no_update)


@callback(
    Output("mention-alert", "children"),
    Output("mention-alert", "color"),
    Output("mention-alert", "is_open"),
    Input({"type": "mention-act", "action": dash.ALL}, "n_clicks"),
    State("mention-item", "data"),
    State("mention-reason", "value"),
    State("mention-team", "value"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def act(
    _clicks: list[int | None], state: dict[str, Any], reason: str | None, team: str | None
) -> tuple[Any, str, bool]:
    principal = current_principal()
    assert principal is not None  # guarded
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or trigger.get("action") not in ACTIONS or not any(_clicks):
        raise PreventUpdate
    item_id = state.get("id") if isinstance(state, dict) else None
    outcome = perform(current(), principal, str(trigger["action"]), [item_id], reason=reason, team=team)
    text, colour = outcome.message(str(trigger["action"]))
    return text, colour, True
