"""Pure figure builders: rows in, Plotly figure out; tested without a browser.

They take their words (legend, axes) as arguments, English by default (`SENTIMENT_LABELS`, marked
for the catalogue: a page passes ``{k: _(v) …}``), and the reader's time zone, in which the hour
ticks are labelled by the builder itself (tickvals/ticktext: Plotly's own date labels would be
UTC and English, and its locale bundles are not shipped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from i18n import N_

WALL_TEXT = "#f2f4f8"
SENTIMENT_LABELS = {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive"),
                    "mean": N_("mean sentiment"), "volume": N_("mentions per hour")}
HOVER = "%{customdata} · %{y}<extra>%{fullData.name}</extra>"  # untranslated: a Plotly template


def complete_hours(rows: list[dict[str, Any]], now: datetime, hours: int) -> list[dict[str, Any]]:
    """One row per hour of the last ``hours`` (zeros where nothing was said), oldest first."""
    by_hour = {r["hour"]: r for r in rows}
    last = now.replace(minute=0, second=0, microsecond=0)
    out = []
    for back in range(hours - 1, -1, -1):
        key = (last - timedelta(hours=back)).strftime("%Y-%m-%dT%H:00:00")
        out.append(by_hour.get(key, {"hour": key, "count": 0, "mean": None, "negative": 0, "positive": 0}))
    return out


def hour_labels(hours: list[str], zone: str) -> list[str]:
    """The local ``HH:MM`` of each naive-UTC ISO hour, in ``zone``."""
    return [datetime.fromisoformat(h).replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).strftime("%H:%M")
            for h in hours]


def build_sentiment_figure(rows: list[dict[str, Any]], dark: bool = True, labels: dict[str, str] | None = None,
                           zone: str = "UTC") -> go.Figure:
    """Hourly volume (bars: negative, other, positive) with mean sentiment (line, right axis); the
    hours labelled every two in ``zone``."""
    words = {**SENTIMENT_LABELS, **(labels or {})}
    hours = [r["hour"] for r in rows]
    local = hour_labels(hours, zone)
    negative = [r["negative"] for r in rows]
    positive = [r["positive"] for r in rows]
    other = [r["count"] - r["negative"] - r["positive"] for r in rows]
    fig = go.Figure()
    for key, values, col in (("negative", negative, "#ff6b6b"), ("neutral", other, "#8892a6"),
                             ("positive", positive, "#4cd97b")):
        fig.add_bar(x=hours, y=values, name=words[key], marker_color=col, customdata=local, hovertemplate=HOVER)
    fig.add_scatter(
        x=hours, y=[r["mean"] for r in rows], name=words["mean"], yaxis="y2", mode="lines+markers",
        line={"color": "#ffd166", "width": 4}, customdata=local, hovertemplate=HOVER,
    )
    text = WALL_TEXT if dark else "#212529"
    fig.update_layout(
        barmode="stack",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": text, "size": 18},
        margin={"l": 50, "r": 60, "t": 10, "b": 40},
        legend={"orientation": "h", "y": 1.12},
        yaxis={"title": words["volume"], "gridcolor": "#2a3348"},
        yaxis2={"title": words["mean"], "overlaying": "y", "side": "right", "range": [-1, 1], "showgrid": False},
        xaxis={"type": "date", "tickmode": "array", "tickvals": hours[::2], "ticktext": local[::2]},
    )
    return fig
