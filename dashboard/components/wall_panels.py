"""The wall's panels: figures in, Dash components out (pure, tested without a browser).

Every text that came from outside (posts, handles, source errors) is a plain string child: Dash
escapes it, it is never HTML. Sizes are in rem; the wall scales the root font with the screen's
width, so a 3840x2160 screen shows the same layout twice as large.

Words are the reader's (``_()``: the request's language, a kiosk screen's from its browser);
numbers too (``10,508`` / ``10 508``); times are given in the zone the caller passes (the reader's).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from dash import html

from dashboard.components.figures import HOVER, WALL_TEXT
from dashboard.components.health import failing, source_state
from dashboard.components.readable import minutes_text, number, sentence, signed, signed_percent
from i18n import N_, _, current_reader, ngettext
from i18n import formats as fmt
from models.alert_words import finding
from models.kpis import Voice

NETWORK_COLOURS = {"x": "#9aa5b8", "mastodon": "#8c7bff", "bluesky": "#3ea8ff", "reddit": "#ff6a33",
                   "news": "#ffd166", "rss": "#ffd166", "import": "#4cd97b"}
OTHER_COLOUR = "#c9a0ff"
PRIORITY_TAGS = {"critical": N_("CRITICAL"), "high": N_("HIGH"), "medium": N_("MEDIUM"), "low": N_("LOW")}
# The timeline's words, in English; the wall passes them translated (`timeline_labels()`).
TIMELINE_LABELS = {"volume": N_("mentions per hour"), "net": N_("net sentiment")}


def data_attributes(**values: Any) -> Any:
    """``data-*`` attributes for a component (Dash passes them through; its type hints do not know them)."""
    return {f"data-{k.replace('_', '-')}": str(v) for k, v in values.items()}


def legend_name(network: str) -> str:
    """A network's name for a Plotly legend, which reads some HTML tags: a webhook or an import can
    name its network, so the characters of markup are left out."""
    return re.sub(r"[<>&\"']", "", network)[:40] or "?"


def colour(network: str) -> str:
    return NETWORK_COLOURS.get(network, OTHER_COLOUR)


def local_time(value: datetime, zone: str, fmt: str = "%H:%M") -> str:
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).strftime(fmt)


def timeline_labels() -> dict[str, str]:
    """The timeline's words in the reader's language."""
    return {key: _(text) for key, text in TIMELINE_LABELS.items()}


def kpi(label: str, value: str, sub: str | list[Any], ident: str, bad: bool = False) -> Any:
    return html.Div([html.Div(label, className="kpi-label"),
                     html.Div(value, id=ident, className="kpi-value" + (" kpi-bad" if bad else "")),
                     html.Div(sub, className="kpi-sub")], className="kpi")


def headline_kpis(last_hour: int, last_week: int, change: float | None, net_hour: float | None,
                  net_day: float | None, frt_median: float | None, frt_count: int) -> list[Any]:
    week = html.Span(number(last_week), id="wall-kpi-volume-week")
    compared = sentence(_("{count} in the same hour last week"), count=week) if change is None else \
        sentence(_("{count} in the same hour last week ({change})"), count=week, change=signed_percent(change))
    return [
        kpi(_("Mentions, last hour"), number(last_hour), compared, "wall-kpi-volume",
            bad=change is not None and change >= 100),
        kpi(_("Net sentiment, last hour"), signed(net_hour),
            sentence(_("24 h: {net} · positive minus negative, per 100 mentions"),
                     net=html.Span(signed(net_day), id="wall-kpi-net-day")),
            "wall-kpi-net", bad=net_hour is not None and net_hour < -20),
        kpi(_("Median first response, today"), minutes_text(frt_median),
            sentence(ngettext("{count} item claimed since midnight", "{count} items claimed since midnight",
                              frt_count), count=html.Span(number(frt_count), id="wall-kpi-frt-count")),
            "wall-kpi-frt"),
    ]


def team_cards(counts: dict[str, dict[str, int]], labels: dict[str, str],
               frt: dict[str, float | None]) -> list[Any]:
    cards = []
    for team, c in counts.items():
        breached, opened = c.get("overdue", 0), c.get("open", 0)
        cards.append(html.Div([
            html.Div(labels.get(team, team), className="kpi-label"),
            html.Div([part if not isinstance(part, str) else html.Span(part, className="kpi-unit")
                      for part in sentence(ngettext("{count} open", "{count} open", opened), count=html.Span(
                          number(opened), id=f"wall-open-{team}", className="kpi-value"))]),
            html.Div(sentence(ngettext("{count} SLA breach", "{count} SLA breaches", breached),
                              count=html.Span(number(breached), id=f"wall-breached-{team}")),
                     className="kpi-sub kpi-bad" if breached else "kpi-sub"),
            html.Div(_("{new} new · {claimed} claimed · {critical} critical · first response {duration}").format(
                new=number(c.get("new", 0)), claimed=number(c.get("claimed", 0)),
                critical=number(c.get("critical", 0)), duration=minutes_text(frt.get(team))), className="kpi-sub"),
        ], className="kpi team-kpi"))
    return cards


def ticker(items: list[dict[str, Any]], labels: dict[str, str], zone: str) -> list[Any]:
    if not items:
        return [html.Div(_("No open critical or high-priority items."), className="ticker-meta")]
    out = []
    for item in items:
        created = datetime.fromisoformat(item["created_at"].rstrip("Z"))
        tag = PRIORITY_TAGS.get(item["priority"])
        priority = _(tag) if tag else item["priority"].upper()
        out.append(html.Div([
            html.Div(item["text"][:200], className="ticker-text"),
            html.Div(f"{priority} · {labels.get(item['team'], item['team'])} · {item['network']} · "
                     f"{item['author']} · {local_time(created, zone)}", className="ticker-meta"),
        ], className=f"ticker-item ticker-{item['priority']}"))
    return out


BANNER_CELLS = 4  # the banner's grid: two columns, two rows (it is capped so that the panels still fit)


def alerts_banner(alerts: list[Any], excerpts: dict[int, list[dict[str, Any]]], zone: str,
                  total: int | None = None, flags: dict[str, str] | None = None) -> list[Any]:
    """One cell per open alert: what was found (in the reader's words, a topic by its name in
    ``flags``), since when, and the first posts that triggered it.
    One alert has the banner's width and its two newest posts; several share a two-column grid, one
    post each. When more are open (``total``, counted whatever `open_alerts`' limit) than the grid
    holds, its last cell counts and names the rest: an alert is never hidden without saying so."""
    total = max(total or 0, len(alerts))
    shown = alerts if total <= BANNER_CELLS else alerts[:BANNER_CELLS - 1]
    out = []
    for alert in shown:
        posts = [html.Li(f"{p['author'] or _('unknown')} · {p['network']}: {p['text'][:160]}")
                 for p in excerpts.get(alert.id, [])[:2 if total == 1 else 1]]
        listed = len(alert.mention_ids)
        out.append(html.Div([
            html.Div([html.Span(_("ALERT"), className="alert-tag"), " ", finding(alert, flags)[1]],
                     className="alert-title"),
            html.Div(ngettext("since {opened}, last confirmed {seen} · {count} post listed",
                              "since {opened}, last confirmed {seen} · {count} posts listed", listed).format(
                opened=local_time(alert.opened_at, zone), seen=local_time(alert.last_seen_at, zone, "%H:%M:%S"),
                count=number(listed)), className="alert-meta"),
            html.Ul(posts, className="alert-posts"),
        ], className=f"wall-alert wall-alert-{alert.kind}", id=f"wall-alert-{alert.id}"))
    rest, named = total - len(shown), alerts[len(shown):len(shown) + 2]
    if rest and named:  # (a count read a moment after the list may name none: the next tick has them)
        out.append(html.Div([
            html.Div([html.Span(_("ALERT"), className="alert-tag"), " ",
                      ngettext("{count} more open alert", "{count} more open alerts", rest).format(count=number(rest))],
                     className="alert-title"),
            html.Ul([html.Li(finding(a, flags)[1]) for a in named], className="alert-posts"),
        ], className="wall-alert wall-alert-more", id="wall-alert-more"))
    return out


def _stale_text(why: str, then: datetime | None, now: datetime) -> str:
    if then is None:
        return _("{why}; no success yet").format(why=why)
    return _("{why}; last success {age}").format(why=why, age=fmt.relative(then, now, current_reader()))


def _down_text(count: int, then: datetime | None, now: datetime, error: str) -> str:
    if then is None:
        return ngettext("{count} failed poll, no success yet: {error}", "{count} failed polls, no success yet: {error}",
                        count).format(count=number(count), error=error)
    return ngettext("{count} failed poll, last success {age}: {error}",
                    "{count} failed polls, last success {age}: {error}", count).format(
        count=number(count), age=fmt.relative(then, now, current_reader()), error=error)


def health_strip(rows: list[Any], configured: dict[str, bool], now: datetime,
                 replies: dict[str, int] | None = None, stale: dict[str, str] | None = None,
                 silent: list[tuple[str, str]] | None = None) -> list[Any]:
    """A chip per enabled source (stale, ok, waiting, failing…), then a red line per collector silent
    without a clean stop (``silent``: worker id, why; its sources may already be taken over by the
    others), per stale source (``stale``: why, per name) and per failing one, then a red line when
    replies failed or their outcome is unknown (``replies``: counts per reply state)."""
    enabled = {name for name, on in configured.items() if on}
    stale = stale or {}
    chips = []
    for row in rows:
        if row.name not in enabled:
            continue
        state = source_state(row, now, True, True, stale.get(row.name))
        chips.append(html.Span(f"{row.name} · {_(state.label)}", className=f"health-chip health-{state.color}",
                               title=state.detail))
    down = [html.Div([  # plain text: worker ids come from the environment of each collector
        html.Span(_("COLLECTOR SILENT · {worker}").format(worker=worker), className="strip-name"),
        html.Span(" — " + why),
    ], className="strip-item", id=f"wall-silent-{n}") for n, (worker, why) in enumerate(silent or [])]
    down += [html.Div([
        html.Span(_("SOURCE STALE · {name} ({kind})").format(name=row.name, kind=row.kind), className="strip-name"),
        html.Span(" — " + _stale_text(stale[row.name], row.last_ok_at, now)),
    ], className="strip-item", id=f"wall-stale-{row.name}") for row in rows if enabled & {row.name} & set(stale)]
    down += [html.Div([  # plain text: errors quote servers
        html.Span(_("SOURCE DOWN · {name} ({kind})").format(name=row.name, kind=row.kind), className="strip-name"),
        html.Span(" — " + _down_text(row.consecutive_failures, row.last_ok_at, now,
                                     (row.last_error or _("no message"))[:160])),
    ], className="strip-item") for row in failing(rows, enabled) if row.name not in stale]  # most failures first
    failed, unknown = (replies or {}).get("failed", 0), (replies or {}).get("unknown", 0)
    if failed or unknown:
        down.append(html.Div([
            html.Span(ngettext("{count} REPLY FAILED / UNKNOWN", "{count} REPLIES FAILED / UNKNOWN",
                               failed + unknown).format(count=number(failed + unknown)), className="strip-name"),
            html.Span(" — " + _("{failed} failed, {unknown} of unknown outcome: check them on /outbox").format(
                failed=number(failed), unknown=number(unknown)))],
            className="strip-item", id="wall-replies-trouble"))
    return [html.Div(chips, className="health-chips"), *down]


def bars(rows: list[tuple[str, int, float, str]], ident: str) -> Any:
    """Horizontal bars as plain HTML: (label, value, share 0..1, colour)."""
    reader = current_reader()
    return html.Div([
        html.Div([
            html.Div(label, className="bar-label"),
            html.Div(html.Div(className="bar-fill", style={"width": f"{share * 100:.1f}%", "background": col}),
                     className="bar-track"),
            html.Div(f"{fmt.number(value, reader)} · {fmt.percent(share, reader)}", className="bar-value"),
        ], className="bar-row", **data_attributes(label=label, value=value))
        for label, value, share, col in rows
    ] or [html.Div(_("No mentions yet."), className="ticker-meta")], id=ident, className="bars")


def network_mix(totals: list[tuple[str, int]]) -> Any:
    total = sum(n for _, n in totals) or 1
    return bars([(net, n, n / total, colour(net)) for net, n in totals], "wall-networks")


def voice(rows: list[Voice]) -> Any:
    return bars([(_("{brand} (competitor)").format(brand=v.brand) if v.competitor else v.brand, v.mentions, v.share,
                  "#ff9f43" if v.competitor else "#3ea8ff") for v in rows], "wall-voice")


def terms(words: list[tuple[str, int]], tags: list[tuple[str, int]]) -> list[Any]:
    def cloud(pairs: list[tuple[str, int]], ident: str, empty: str) -> Any:
        top = pairs[0][1] if pairs else 1
        return html.Div([html.Span([w, html.Small(" " + number(n))], className="term",
                                   style={"fontSize": f"{1.05 + 0.8 * n / top:.2f}rem"}, **data_attributes(count=n))
                         for w, n in pairs] or [html.Span(empty, className="ticker-meta")], id=ident,
                        className="terms")
    return [html.Div(_("Top terms"), className="kpi-label"), cloud(words, "wall-terms", _("No terms yet.")),
            html.Div(_("Top hashtags"), className="kpi-label mt-2"), cloud(tags, "wall-tags", _("No hashtags yet."))]


def timeline_figure(rows: list[dict[str, Any]], hours: list[str], zone: str, scale: float = 1.0,
                    labels: dict[str, str] | None = None) -> go.Figure:
    """24 h of volume per network (stacked bars) with net sentiment per hour (line, right axis).
    ``scale``: the screen's width over 1920 (a 4K wall draws the chart's text twice as large);
    ``labels``: the axis and legend words (`timeline_labels()`, English by default); ``zone``: the
    reader's, in which the ticks are labelled."""
    words = {**TIMELINE_LABELS, **(labels or {})}
    networks = sorted({r["network"] for r in rows})
    by = {(r["hour"], r["network"]): r for r in rows}
    # The axis runs in UTC (continuous across a DST change: two hours never share one place);
    # each tick is labelled with its own local time, every third local hour.
    local = [local_time(datetime.fromisoformat(h), zone) for h in hours]
    ticks = [(h, label) for h, label in zip(hours, local, strict=True) if int(label[:2]) % 3 == 0]
    fig = go.Figure()
    for net in networks:
        fig.add_bar(x=hours, y=[by[(h, net)]["count"] if (h, net) in by else 0 for h in hours],
                    name=legend_name(net), marker_color=colour(net), customdata=local,
                    hovertemplate=HOVER)
    net_line = []
    for h in hours:
        cells = [by[(h, n)] for n in networks if (h, n) in by]
        total = sum(c["count"] for c in cells)
        net_line.append(None if not total else
                        round(100 * (sum(c["positive"] for c in cells) - sum(c["negative"] for c in cells)) / total, 1))
    fig.add_scatter(x=hours, y=net_line, name=words["net"], yaxis="y2", mode="lines+markers", customdata=local,
                    hovertemplate=HOVER,
                    line={"color": "#ffffff", "width": 4 * scale}, marker={"size": 7 * scale}, connectgaps=False)
    fig.update_layout(
        barmode="stack", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"color": WALL_TEXT, "size": round(18 * scale)},
        margin={"l": round(60 * scale), "r": round(70 * scale), "t": round(10 * scale), "b": round(40 * scale)},
        legend={"orientation": "h", "y": 1.14}, uirevision="wall",
        yaxis={"title": words["volume"], "gridcolor": "#2a3348"},
        yaxis2={"title": words["net"], "overlaying": "y", "side": "right", "range": [-100, 100],
                "tickvals": [-100, -50, 0, 50, 100], "showgrid": False, "zeroline": True, "zerolinecolor": "#55607a"},
        xaxis={"type": "date", "tickmode": "array", "tickvals": [h for h, _ in ticks],
               "ticktext": [label for _, label in ticks]},
    )
    return fig
