"""One mention: its text, author, link, scores, risk flags, why it was routed, history, copies.

Everything from the post (text, names, URL) is untrusted and shown as plain text; the
link is only made clickable for http(s) URLs.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.links import safe_link
from dashboard.context import current
from models import queries

dash.register_page(__name__, path_template="/mention/<mention_id>", title="Mention · Vigie", name="Mention")


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


def layout(mention_id: str | None = None, **_query: Any) -> Any:
    ctx = current()
    try:
        wanted = int(mention_id or "")
    except ValueError:
        return dbc.Alert("That is not a mention number.", color="warning")
    with ctx.db.read() as session:
        detail = queries.mention_detail(session, wanted)
    if detail is None:
        return dbc.Alert(f"Mention {wanted} does not exist.", color="warning")
    m, head, item = detail["mention"], detail["head"], detail["item"]
    terms = m.risk_terms or {}
    flags = [
        dbc.Badge(f"{flag}: {', '.join(terms.get(flag, []))}", color="danger", className="me-1")
        for flag in m.risk_flags
    ] or [html.Span("none", className="text-muted")]
    teams = {t.key: t.label for t in ctx.settings.teams}
    route = (
        [
            html.P([html.B(teams.get(item.team, item.team)), f" · {item.status} · {item.assignee or 'unassigned'}"]),
            html.P(item.explanation, id="mention-explanation"),
            html.P(f"Due {item.due_at.isoformat(timespec='minutes')}Z", className="text-muted"),
        ]
        if item is not None
        else [html.P("Not queued.", className="text-muted")]
    )
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
    return dbc.Row(
        [
            dbc.Col(
                [
                    html.H3(f"Mention {m.id}"),
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
                ],
                md=7,
            ),
            dbc.Col(
                [
                    html.H4("Why it is here"),
                    *route,
                    html.H4("History"),
                    _history(detail["events"]),
                    html.H4("Copies on other networks"),
                    html.Ul(copies) if copies else html.P("None.", className="text-muted"),
                ],
                md=5,
            ),
        ]
    )
