"""The wall: the command-center screen. Dark, large, nothing to click, read from five metres.

Panels: an alerts banner (open spike alerts with the posts that triggered them), a source
health strip, headline KPIs (mentions in the last hour against the same hour last week, net
sentiment, today's median first response), each team's open items and SLA breaches, a 24-hour
timeline per network with net sentiment, a ticker of the newest critical and high items, the
network mix, top terms and hashtags, and share of voice against the competitors.

Each tick (``VIGIE_REFRESH_MS``) first reads a cheap change marker; when nothing changed,
nothing is sent. The "live" panels follow every change, and what changes with time alone
(items falling due, a source's wait ending) within 5 s; the 24-hour panels (timeline, mix,
terms, voice, and the day's sentiment and first responses) are recomputed every 15 s. Both
are computed and drawn once per marker for all the screens this worker serves, and the marker
itself is read once a second per worker (`MARKER_SECONDS`); the panels show the time their data was
read ("Updated ..."). ``?rotate=SECONDS``
alternates the two halves of the wall (assets/wall.js), which also reconnects and reloads the
page by itself (see there).
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timedelta
from typing import Any

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html, no_update
from dash import ctx as dash_ctx

from dashboard.auth.guard import guarded
from dashboard.auth.policy import WALL
from dashboard.components import wall_panels as panels
from dashboard.components.health import health_marker, polled_intervals
from dashboard.components.names import flag_names
from dashboard.components.worker_cache import FreshFor, MarkerCache
from dashboard.context import current
from i18n import N_, _, current_reader
from models import erasure, heartbeats, kpis, outbox, queries, wall_rollup
from models.tables import utcnow


def _page_title(**_kw: Any) -> str:
    return _("Wall") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/wall", title=_page_title, name="Wall", roles=WALL,
                   nav={"order": 40, "label": N_("Wall")})

TIMELINE_HOURS = 24
SLOW_SECONDS = 15
# What changes with time alone (an item falling due, a source's wait ending, the day's first
# responses at midnight) is recomputed this often at most, once per worker for all its screens.
CLOCK_SECONDS = 5
TICKER_ITEMS = 5
ROTATE_RANGE = (5, 3600)
_cache = MarkerCache()
MARKER_SECONDS = 1.0  # the markers are read once a second per worker, for all its wall screens
_markers_now = FreshFor(MARKER_SECONDS)
_cache_lock = threading.Lock()  # the top terms' dictionary below
# per database (tests serve several from one app): (the words skipped, the newest data-protection
# request, each post's terms by id)
_terms: weakref.WeakKeyDictionary[Any, tuple[frozenset[str], int, dict[int, kpis.Terms]]] = weakref.WeakKeyDictionary()


def _cached(name: str, marker: str, compute: Any) -> Any:
    """The value computed for ``marker``, shared by every screen of this worker."""
    return _cache.get(name, marker, compute)


def ctx_triggered(component: str) -> bool:
    return any(t["prop_id"].startswith(component + ".") for t in dash_ctx.triggered)


def _configured() -> dict[str, bool]:
    return {s.name: s.enabled for s in current().settings.sources}


def _markers(session: Any, now: datetime) -> tuple[str, str, heartbeats.Health]:
    """(live, slow, health): live moves with any item, mention, alert (opened, confirmed, closed) or
    failing-source change, and every ``CLOCK_SECONDS``; slow moves every ``SLOW_SECONDS``. The
    sources' and collectors' health (stale sources, collectors silent without a clean stop) is read
    on the primary, with a replica too: judged by this worker's clock (`models.heartbeats.health`)."""
    last = queries.last_change(session)
    newest, seen, closed = kpis.change_marks(session)
    state = heartbeats.health(current().db, polled_intervals(current().settings), now, session=session)
    health = health_marker(state.rows, {k for k, v in _configured().items() if v}, state.stale)
    health += "|" + ",".join(worker for worker, _why in state.silent)
    clock = int(now.timestamp()) // CLOCK_SECONDS
    replies = outbox.counts(session)
    troubles = f"{replies.get('failed', 0)}:{replies.get('unknown', 0)}"
    live = f"{last.isoformat() if last else '-'}|{newest}|{seen or '-'}|{closed or '-'}|{clock}|{health}|{troubles}"
    slow = str(int(now.timestamp()) // SLOW_SECONDS)
    return live, slow, state


def _shared_markers(session: Any, now: datetime) -> tuple[str, str, heartbeats.Health]:
    """`_markers`, read by the first wall screen of this worker to tick in a second and shared by the
    others of that second: a change shows on the walls up to MARKER_SECONDS later than read alone."""
    # per engine: the primary and a replica (read by whoever has a write pending) keep their own
    return _markers_now.get(f"wall:{id(session.get_bind())}", lambda: _markers(session, now))


def _live(session: Any, now: datetime, health: heartbeats.Health) -> dict[str, Any]:
    settings = current().settings
    hour_ago = now - timedelta(hours=1)
    week_end = kpis.same_time_last_week(now, settings.reporting.timezone)
    alerts = kpis.open_alerts(session)
    return {
        "last_hour": kpis.mention_count(session, hour_ago, now),
        "last_week": kpis.mention_count(session, week_end - timedelta(hours=1), week_end),
        "net_hour": kpis.net_sentiment(kpis.sentiment_counts(session, hour_ago, now)),
        "counts": queries.team_counts(session, settings.team_keys),
        "ticker": queries.newest_critical(session, limit=TICKER_ITEMS),
        "alerts": alerts,
        "alert_count": kpis.open_alert_count(session),
        "excerpts": {a.id: kpis.mention_excerpts(session, a.mention_ids[:3]) for a in alerts},
        "sources": health.rows,
        "stale": health.stale,
        "silent": health.silent,
        "replies": outbox.counts(session),
        "as_of": now,  # when read: the panels' ages and "Updated" time are as of then
    }


def _top_terms(session: Any, db: Any, since: datetime, until: datetime, brands: list[str]) -> Any:
    """`kpis.top_terms` of the window's newest posts, each post's terms found once per worker and
    database ``db``: a step tokenises only the posts that arrived since the last (a post never
    changes once stored, but for a data-protection request's restriction, which empties the cache)."""
    skip = kpis.term_skip(brands)
    ids = kpis.recent_ids(session, since, until)
    generation = erasure.newest_request(session)
    with _cache_lock:
        kept = _terms.get(db)
    known = kept[2] if kept is not None and kept[:2] == (skip, generation) else {}
    missing = [i for i in ids if i not in known]
    found = {i: kpis.post_terms(text, skip) for i, text in kpis.texts_by_id(session, missing).items()}
    terms = {i: known[i] if i in known else found[i] for i in ids if i in known or i in found}
    with _cache_lock:
        _terms[db] = (skip, generation, terms)  # the current window's posts only
    return kpis.count_terms(terms[i] for i in ids if i in terms)


def _slow(session: Any, now: datetime) -> dict[str, Any]:
    settings = current().settings
    since = kpis.hours_back(now, TIMELINE_HOURS)
    rows = wall_rollup.network_hours(session, since, now)  # whole hours from the rollups
    brands = [b.name for b in settings.brands] + [k for b in settings.brands for k in b.keywords]
    words, tags = _top_terms(session, current().db, now - timedelta(hours=TIMELINE_HOURS), now, brands)
    hours = [(since + timedelta(hours=i)).strftime("%Y-%m-%dT%H:00:00") for i in range(TIMELINE_HOURS)]
    responses = kpis.first_responses(session, kpis.local_midnight(now, settings.reporting.timezone), now)
    overall, per_team = kpis.medians_by_team(responses)
    return {"rows": rows, "hours": hours, "words": words, "tags": tags,
            "net_day": kpis.net_sentiment(kpis.sentiment_totals(rows)),  # the timeline's 24 hours
            "frt": overall, "frt_count": len(responses), "frt_team": per_team,
            "voice": kpis.share_of_voice(wall_rollup.brand_counts(session, now - timedelta(hours=TIMELINE_HOURS), now))}


def _live_parts(data: dict[str, Any], slow: dict[str, Any], marker: str) -> tuple[Any, ...]:
    """The live panels as of when their data was read; the day's figures of the KPI cards (24 h
    sentiment, first responses) come from the 15-second panels' data. Drawn once per ``marker``
    (both data's), language and time zone for all the screens of this worker."""
    settings = current().settings
    reader = current_reader()
    zone = reader.zone.key  # the reader's: a kiosk screen's is the firm's
    now = data["as_of"]

    def draw() -> tuple[Any, ...]:
        labels = {t.key: t.label for t in settings.teams}
        head = panels.headline_kpis(data["last_hour"], data["last_week"],
                                    kpis.change(data["last_hour"], data["last_week"]),
                                    data["net_hour"], slow["net_day"], slow["frt"], slow["frt_count"])
        teams = panels.team_cards(data["counts"], labels, slow["frt_team"])
        return (head + teams, panels.ticker(data["ticker"], labels, zone),
                panels.alerts_banner(data["alerts"], data["excerpts"], zone, data["alert_count"], flag_names()),
                panels.health_strip(data["sources"], _configured(), now, data["replies"], data["stale"],
                                    data["silent"]),
                _("Updated {time} ({zone})").format(time=panels.local_time(now, zone, "%H:%M:%S"), zone=zone))

    return _cached(f"live-drawn:{reader.language}:{zone}", marker, draw)  # type: ignore[no-any-return]


def _slow_parts(data: dict[str, Any], marker: str, scale: float = 1.0) -> tuple[Any, ...]:
    """The 24-hour panels as drawn for ``marker`` (the slow data's), drawn once per language, time
    zone and scale for all the screens of this worker (the chart as a plain figure dictionary)."""
    reader = current_reader()
    zone = reader.zone.key

    def draw() -> tuple[Any, ...]:
        figure = panels.timeline_figure(data["rows"], data["hours"], zone, scale, panels.timeline_labels())
        return (figure.to_dict(), panels.network_mix(kpis.network_totals(data["rows"])),
                panels.terms(data["words"], data["tags"]), panels.voice(data["voice"]))

    return _cached(f"drawn:{reader.language}:{zone}:{scale}", marker, draw)  # type: ignore[no-any-return]


def _snapshot(session: Any, now: datetime, live: str, slow: str,
              health: heartbeats.Health) -> tuple[dict[str, Any], dict[str, Any]]:
    # The live part words the stale sources' reasons (language, time zone): kept per reader.
    reader = current_reader()
    return (_cached(f"live:{reader.language}:{reader.zone.key}", live, lambda: _live(session, now, health)),
            _cached("slow", slow, lambda: _slow(session, now)))


def _rotate(raw: Any) -> tuple[int, str]:
    """Seconds between the halves (0: no rotation), and a note when ``?rotate=`` was not understood."""
    if raw in (None, ""):
        return 0, ""
    try:
        seconds = int(str(raw))
    except ValueError:
        seconds = -1
    low, high = ROTATE_RANGE
    if not low <= seconds <= high:
        return 0, _("rotate={value} ignored: expected whole seconds from {low} to {high}").format(
            value=str(raw)[:20], low=low, high=high)
    return seconds, ""


def _box(title: str, body: Any, wide: bool = False) -> Any:
    return html.Div([html.Div(title, className="kpi-label mb-1"), body],
                    className="wall-box wall-wide" if wide else "wall-box")


def layout(rotate: Any = None, **_query: Any) -> Any:
    ctx = current()
    now = utcnow()
    seconds, note = _rotate(rotate)
    with ctx.db.pages() as session:
        live_marker, slow_marker, health = _shared_markers(session, now)
        live, slow = _snapshot(session, now, live_marker, slow_marker, health)
    kpi_cards, ticker, alerts, strip, updated = _live_parts(live, slow, f"{live_marker}|{slow_marker}")
    timeline, mix, term_panel, voice = _slow_parts(slow, slow_marker)
    config = panels.data_attributes(rotate=seconds, reload_minutes=ctx.settings.reporting.wall_reload_minutes,
                                    refresh_ms=ctx.settings.refresh_ms, zone=current_reader().zone.key,
                                    word_live=_("live"), word_reconnecting=_("reconnecting since {time}"),
                                    word_refused=_("access refused: sign this screen in again"))
    span = TIMELINE_HOURS
    return html.Div(
        [
            dcc.Store(id="wall-marker", data=live_marker),
            dcc.Store(id="wall-slow-marker", data=slow_marker),
            dcc.Store(id="wall-scale", data=1.0),  # the screen's width over 1920, set in the browser
            dcc.Interval(id="wall-tick", interval=ctx.settings.refresh_ms),
            html.Div(id="wall-config", **config),
            html.Div([html.H1(_("Command center"), className="wall-title"),
                      html.Span(note, id="wall-note", className="wall-note"),
                      html.Span(updated, id="wall-updated", className="wall-updated"),
                      html.Span("● " + _("live"), id="wall-connection", className="wall-connection")],
                     className="wall-head"),
            html.Div(alerts, id="wall-alerts", className="wall-alerts"),
            html.Div(strip, id="wall-strip", className="source-strip"),
            html.Div(
                [
                    html.Div(kpi_cards, id="wall-kpis", className="wall-kpis"),
                    html.Div(
                        [
                            _box(_("Last {hours} hours: mentions per network, net sentiment").format(hours=span),
                                 dcc.Graph(id="wall-timeline", figure=timeline, config={"displayModeBar": False,
                                                                                         "staticPlot": True},
                                           responsive=True, className="wall-graph"), wide=True),
                            _box(_("Newest critical and high-priority items"), html.Div(ticker, id="wall-ticker")),
                        ],
                        className="wall-row",
                    ),
                ],
                className="wall-panel", **panels.data_attributes(panel=0),
            ),
            html.Div(
                [
                    _box(_("Network mix, {hours} h").format(hours=span), html.Div(mix, id="wall-networks-box")),
                    _box(_("Conversation, {hours} h").format(hours=span), html.Div(term_panel, id="wall-terms-box")),
                    _box(_("Share of voice, {hours} h").format(hours=span), html.Div(voice, id="wall-voice-box")),
                ],
                className="wall-panel wall-row wall-row-3", **panels.data_attributes(panel=1),
            ),
        ],
        className="vigie-wall",
    )


# The screen's size is known in the browser only: a 3840-pixel wall draws the chart's text twice as large.
clientside_callback("function(_) { return Math.max(1, Math.round(window.innerWidth / 192) / 10); }",  # untranslated: JS
                    Output("wall-scale", "data"), Input("wall-config", "id"))


def _scale(raw: Any) -> float:
    """The browser's scale, kept within 1..4 and to a tenth (it comes from the client, and the panels
    are drawn once per scale: a worker keeps at most 31 of them)."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return 1.0
    return round(min(4.0, max(1.0, value)), 1) if value == value else 1.0  # (NaN: not a number)


@callback(
    Output("wall-marker", "data"),
    Output("wall-slow-marker", "data"),
    Output("wall-kpis", "children"),
    Output("wall-ticker", "children"),
    Output("wall-alerts", "children"),
    Output("wall-strip", "children"),
    Output("wall-updated", "children"),
    Output("wall-timeline", "figure"),
    Output("wall-networks-box", "children"),
    Output("wall-terms-box", "children"),
    Output("wall-voice-box", "children"),
    Input("wall-tick", "n_intervals"),
    Input("wall-scale", "data"),
    State("wall-marker", "data"),
    State("wall-slow-marker", "data"),
    prevent_initial_call=True,
)
@guarded(*WALL)
def refresh_wall(_n: int, scale: Any, marker: str, slow_marker: str) -> tuple[Any, ...]:
    ctx = current()
    now = utcnow()
    rescaled = ctx_triggered("wall-scale")
    with ctx.db.pages() as session:
        live_marker, new_slow, health = _shared_markers(session, now)
        live_changed, slow_changed = live_marker != marker, new_slow != slow_marker or rescaled
        if not live_changed and not slow_changed:
            return (no_update,) * 11
        live, slow = _snapshot(session, now, live_marker, new_slow, health)
    # the KPI cards also show figures of the slow data (24 h sentiment, first responses today)
    live_out = _live_parts(live, slow, f"{live_marker}|{new_slow}")  # (one of the two changed: see above)
    slow_out = _slow_parts(slow, new_slow, _scale(scale)) if slow_changed else (no_update,) * 4
    return (live_marker if live_changed else no_update, new_slow if slow_changed else no_update, *live_out, *slow_out)
