"""Home: each team's queue at a glance and the health of every source."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.auth.guard import current_principal
from dashboard.auth.policy import SIGNED_IN, can_read_team
from dashboard.components.health import polled_intervals, source_state
from dashboard.context import current
from models import heartbeats, queries
from models.tables import utcnow

dash.register_page(__name__, path="/", title="Vigie", name="Home", roles=SIGNED_IN)


def _source_row(row: Any, configured: dict[str, bool], now: Any, stale: dict[str, str]) -> Any:
    state = source_state(row, now, row.name in configured, configured.get(row.name, False), stale.get(row.name))
    return html.Tr(
        [
            html.Td(row.name),
            html.Td(row.kind),
            html.Td(dbc.Badge(state.label, color=state.color, title=state.detail, id=f"home-state-{row.name}")),
            html.Td(row.last_ok_at.isoformat(timespec="seconds") + "Z" if row.last_ok_at else "never"),
            html.Td(str(row.items_last_run or 0)),
            html.Td(str(row.consecutive_failures or 0)),
            html.Td(row.last_error or "", className="small text-break"),
        ]
    )


def layout(**_query: Any) -> Any:
    ctx = current()
    with ctx.db.read() as session:
        counts = queries.team_counts(session, ctx.settings.team_keys)
        sources = queries.source_health(session)
        total = queries.count_mentions(session)
        now = utcnow()
        stale = heartbeats.stale_sources(session, polled_intervals(ctx.settings), now, sources)
    configured = {s.name: s.enabled for s in ctx.settings.sources}
    principal = current_principal()
    cards = [
        dbc.Col(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H4(team.label),
                        html.P(f"{counts[team.key]['open']} open · {counts[team.key]['overdue']} past due"),
                        *([dbc.Button("Open queue", href=f"/queue/{team.key}", color="primary", size="sm")]
                          if can_read_team(principal, team.key) else []),
                    ]
                )
            ),
            md=4,
        )
        for team in ctx.settings.teams
    ]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Source", "Kind", "State", "Last success", "Items last run",
                                                     "Failures in a row", "Last error")]))
    return html.Div(
        [
            html.H2("Overview"),
            html.P(f"{total:,} mentions stored.", id="home-total"),
            dbc.Row(cards, className="g-3 mb-4"),
            html.H3(["Sources ", dbc.Button("Details", href="/sources", size="sm", color="link")]),
            dbc.Table([head, html.Tbody([_source_row(r, configured, now, stale) for r in sources])], size="sm",
                      id="home-sources"),
        ]
    )
