"""Pure figure builders: rows in, Plotly figure out; tested without a browser."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

WALL_TEXT = "#f2f4f8"


def complete_hours(rows: list[dict[str, Any]], now: datetime, hours: int) -> list[dict[str, Any]]:
    """One row per hour of the last ``hours`` (zeros where nothing was said), oldest first."""
    by_hour = {r["hour"]: r for r in rows}
    last = now.replace(minute=0, second=0, microsecond=0)
    out = []
    for back in range(hours - 1, -1, -1):
        key = (last - timedelta(hours=back)).strftime("%Y-%m-%dT%H:00:00")
        out.append(by_hour.get(key, {"hour": key, "count": 0, "mean": None, "negative": 0, "positive": 0}))
    return out


def build_sentiment_figure(rows: list[dict[str, Any]], dark: bool = True) -> go.Figure:
    """Hourly volume (bars: negative, other, positive) with mean sentiment (line, right axis)."""
    hours = [r["hour"] for r in rows]
    negative = [r["negative"] for r in rows]
    positive = [r["positive"] for r in rows]
    other = [r["count"] - r["negative"] - r["positive"] for r in rows]
    fig = go.Figure()
    fig.add_bar(x=hours, y=negative, name="negative", marker_color="#ff6b6b")
    fig.add_bar(x=hours, y=other, name="neutral", marker_color="#8892a6")
    fig.add_bar(x=hours, y=positive, name="positive", marker_color="#4cd97b")
    fig.add_scatter(
        x=hours, y=[r["mean"] for r in rows], name="mean sentiment", yaxis="y2", mode="lines+markers",
        line={"color": "#ffd166", "width": 4},
    )
    text = WALL_TEXT if dark else "#212529"
    fig.update_layout(
        barmode="stack",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": text, "size": 18},
        margin={"l": 50, "r": 60, "t": 10, "b": 40},
        legend={"orientation": "h", "y": 1.12},
        yaxis={"title": "mentions per hour", "gridcolor": "#2a3348"},
        yaxis2={"title": "mean sentiment", "overlaying": "y", "side": "right", "range": [-1, 1], "showgrid": False},
        xaxis={"type": "date", "tickformat": "%H:%M", "dtick": 3600000 * 2},
    )
    return fig
