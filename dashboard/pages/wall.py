"""The wall: live counts per team, sentiment over the last hours, newest critical items,
and a red strip naming any source that is failing.

Dark, large type, nothing to click. Each tick first asks for a cheap change marker
(newest queue change and newest mention); when nothing changed, nothing is sent.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update
from sqlalchemy import func, select

from dashboard.auth.guard import guarded
from dashboard.auth.policy import WALL
from dashboard.components.figures import build_sentiment_figure, complete_hours
from dashboard.components.health import build_health_strip, health_marker
from dashboard.context import current
from models import queries
from models.tables import Mention, utcnow

dash.register_page(__name__, path="/wall", title="Wall · Vigie", name="Wall", roles=WALL)

WALL_HOURS = 12


def _enabled() -> set[str]:
    return {s.name for s in current().settings.sources if s.enabled}


def _marker(session: Any) -> str:
    """Changes when an item or mention arrives or changes, when a source starts or stops
    failing, and once a minute (items fall due)."""
    last = queries.last_change(session)
    newest = session.scalar(select(func.max(Mention.id)))
    health = health_marker(queries.source_health(session), _enabled())
    return f"{last.isoformat() if last else '-'}|{newest or 0}|{utcnow():%Y%m%d%H%M}|{health}"


def _kpis(counts: dict[str, dict[str, int]], labels: dict[str, str]) -> list[Any]:
    cards = []
    for team, c in counts.items():
        overdue_class = "kpi-sub kpi-bad" if c.get("overdue") else "kpi-sub"
        cards.append(
            dbc.Col(
                html.Div(
                    [
                        html.Div(labels.get(team, team), className="kpi-label"),
                        html.Div(str(c.get("open", 0)), className="kpi-value", id=f"wall-open-{team}"),
                        html.Div(f"{c.get('new', 0)} new · {c.get('claimed', 0)} claimed", className="kpi-sub"),
                        html.Div(
                            f"{c.get('overdue', 0)} past due · {c.get('critical', 0)} critical", className=overdue_class
                        ),
                    ],
                    className="kpi",
                ),
                md=4,
            )
        )
    return cards


def _ticker(items: list[dict[str, Any]], labels: dict[str, str]) -> list[Any]:
    if not items:
        return [html.Div("No open critical or high-priority items.", className="ticker-meta")]
    return [
        html.Div(
            [
                html.Div(item["text"][:200]),  # plain text: Dash escapes it, never HTML
                html.Div(
                    f"{item['priority'].upper()} · {labels.get(item['team'], item['team'])} · {item['network']} · "
                    f"{item['author']} · {item['created_at'][11:16]} UTC",
                    className="ticker-meta",
                ),
            ],
            className="ticker-item",
        )
        for item in items
    ]


def _snapshot(session: Any, marker: str) -> tuple[str, list[Any], Any, list[Any], list[Any]]:
    ctx = current()
    labels = {t.key: t.label for t in ctx.settings.teams}
    counts = queries.team_counts(session, ctx.settings.team_keys)
    hourly = queries.sentiment_by_hour(session, WALL_HOURS)
    critical = queries.newest_critical(session, limit=6)
    figure = build_sentiment_figure(complete_hours(hourly, utcnow(), WALL_HOURS))
    strip = build_health_strip(queries.source_health(session), _enabled(), utcnow())
    return marker, _kpis(counts, labels), figure, _ticker(critical, labels), strip


def layout(**_query: Any) -> Any:
    ctx = current()
    with ctx.db.read() as session:
        marker, kpis, figure, ticker, strip = _snapshot(session, _marker(session))
    return html.Div(
        [
            dcc.Store(id="wall-marker", data=marker),
            dcc.Interval(id="wall-tick", interval=ctx.settings.refresh_ms),
            html.Div(strip, id="wall-strip", className="source-strip"),
            html.H1("Command center"),
            dbc.Row(kpis, id="wall-kpis", className="g-3 mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(f"Sentiment, last {WALL_HOURS} hours", className="kpi-label"),
                            dcc.Graph(id="wall-sentiment", figure=figure, config={"displayModeBar": False},
                                      style={"height": "52vh"}),
                        ],
                        md=7,
                    ),
                    dbc.Col(
                        [
                            html.Div("Newest critical items", className="kpi-label mb-2"),
                            html.Div(ticker, id="wall-ticker"),
                        ],
                        md=5,
                    ),
                ]
            ),
        ],
        className="vigie-wall",
    )


@callback(
    Output("wall-marker", "data"),
    Output("wall-kpis", "children"),
    Output("wall-sentiment", "figure"),
    Output("wall-ticker", "children"),
    Output("wall-strip", "children"),
    Input("wall-tick", "n_intervals"),
    State("wall-marker", "data"),
    prevent_initial_call=True,
)
@guarded(*WALL)
def refresh_wall(_n: int, marker: str) -> tuple[Any, Any, Any, Any, Any]:
    ctx = current()
    with ctx.db.read() as session:
        latest = _marker(session)
        if latest == marker:
            return no_update, no_update, no_update, no_update, no_update
        return _snapshot(session, latest)
