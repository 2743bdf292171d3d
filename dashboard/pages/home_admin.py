"""The admin's and the operator's home (/home/admin, and / for them): the health of the sources
(`dashboard.components.health.source_state`), of the collectors (their heartbeats) and of the
notifications (backlog and failures), each with a red/amber/green state (`models.home_queries`'s
pure rules). A tick re-reads them (bounded) and sends them only when they changed.

Source errors and notification errors are shown as plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.auth.guard import current_principal
from dashboard.auth.policy import role_label
from dashboard.components.health import polled_intervals, source_state
from dashboard.components.home_lists import live_home, minute, rag_badge, short, signature
from dashboard.components.when import number, when
from dashboard.context import current
from i18n import N_, _, ngettext
from models import heartbeats, home_queries, notifications, ops_queries
from models.tables import utcnow

ROLES: tuple[str, ...] = ("admin", "operator")
FAILURES_SHOWN = 5
SOURCE_WORDS = {"ok": N_("ok"), "stale": N_("stale"), "failing": N_("failing"), "waiting": N_("waiting"),
                "not run yet": N_("not run yet"), "disabled": N_("disabled"), "not configured": N_("not configured")}
OTHER_HOMES = (("/home/agent", "agent"), ("/home/lead", "lead"), ("/home/compliance", "compliance"),
               ("/home/manager", "manager"))


def _page_title(**_kw: Any) -> str:
    return _("System health") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/home/admin", title=_page_title, name="Admin home", roles=ROLES)


def _table(head: list[str], rows: list[Any], ident: str, empty: str) -> Any:
    if not rows:
        return html.P(empty, className="text-muted", id=ident)
    return dbc.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in head])), html.Tbody(rows)],
                     size="sm", striped=True, id=ident)


def build_sources(rows: list[Any], states: dict[str, Any], now: datetime) -> Any:
    body = []
    for row in rows:
        state = states[row.name]
        word = SOURCE_WORDS.get(state.label)
        body.append(html.Tr([
            html.Td(row.name), html.Td(row.kind),
            html.Td(dbc.Badge(_(word) if word else state.label, color=state.color, id=f"home-state-{row.name}")),
            html.Td(when(row.last_ok_at, now, never=_("never"))),
            html.Td(number(row.consecutive_failures or 0)),
            html.Td(short(row.last_error or "", 160), className="small text-break"),
        ]))
    return _table([_("Source"), _("Kind"), _("State"), _("Last success"), _("Failures in a row"), _("Last error")],
                  body, "home_admin-sources", _("No source yet."))


def build_collectors(beats: list[Any], now: datetime) -> Any:
    body = [html.Tr([
        html.Td(b.worker_id), html.Td(b.hostname), html.Td(when(b.beat_at, now)),
        html.Td(_("stopped") if b.stopped_at is not None else
                _("silent") if heartbeats.collector_gone(b, now) is not None else _("alive")),
        html.Td(number(len(b.sources or []))),
    ]) for b in beats]
    return _table([_("Collector"), _("Host"), _("Last heartbeat"), _("State"), _("Sources held")], body,
                  "home_admin-collectors", _("No collector has ever run."))


def build_failures(failed: list[Any], now: datetime) -> Any:
    body = [html.Tr([html.Td(when(n.created_at, now)), html.Td(n.channel), html.Td(n.event),
                     html.Td(short(n.last_error or "", 160), className="small text-break")]) for n in failed]
    return _table([_("Created"), _("Channel"), _("Event"), _("Error")], body, "home_admin-failures",
                  _("No message has failed."))


def _read(now: datetime) -> dict[str, Any]:
    ctx = current()
    with ctx.db.pages() as session:
        # on the primary, even with a replica: judged by `now` (`models.heartbeats.health`)
        health = heartbeats.health(ctx.db, polled_intervals(ctx.settings), now, session=session)
        backlog = ops_queries.notification_backlog(session)
        failed = notifications.failed_notifications(session, limit=FAILURES_SHOWN)
    rows, stale, beats = health.rows, health.stale, health.beats[:20]
    configured = {s.name: s.enabled for s in ctx.settings.sources}
    states = {r.name: source_state(r, now, r.name in configured, configured.get(r.name, False), stale.get(r.name))
              for r in rows}
    ready, _detail = heartbeats.collectors_ready(beats, now)
    alive = sum(1 for b in beats if heartbeats.collector_gone(b, now) is None)
    return {"rows": rows, "states": states, "beats": beats, "ready": ready, "alive": alive,
            "pending": backlog["pending"], "failed": backlog["failed"], "failures": failed,
            "sources_rag": home_queries.worst(home_queries.source_rag(s.color) for s in states.values()),
            "collectors_rag": home_queries.collectors_rag(ready, alive),
            "notify_rag": home_queries.notifications_rag(backlog["pending"], backlog["failed"],
                                                         failed[0].created_at if failed else None, now)}


def _content() -> tuple[list[Any], str]:
    now = utcnow()
    seen = _read(now)
    principal = current_principal()
    children = [
        html.P([html.A(_("Source details"), href="/sources", className="me-3"),
                *(html.A(_("Home of the role {role}").format(role=role_label(role)), href=path, className="me-3")
                  for path, role in OTHER_HOMES if principal is not None and principal.role == "admin")]),
        html.H3([_("Sources"), rag_badge(seen["sources_rag"], "home_admin-rag-sources")], className="mt-3"),
        build_sources(seen["rows"], seen["states"], now),
        html.H3([_("Collectors"), rag_badge(seen["collectors_rag"], "home_admin-rag-collectors")], className="mt-4"),
        html.P(ngettext("{count} collector alive.", "{count} collectors alive.", seen["alive"]).format(
            count=number(seen["alive"])), className="small text-muted"),
        build_collectors(seen["beats"], now),
        html.H3([_("Notifications"), rag_badge(seen["notify_rag"], "home_admin-rag-notifications")],
                className="mt-4"),
        html.P(_("{pending} waiting to be sent, {failed} given up on.").format(
            pending=number(seen["pending"]), failed=number(seen["failed"])), id="home_admin-backlog"),
        build_failures(seen["failures"], now),
    ]
    digest = signature([(r.name, seen["states"][r.name].label, r.last_ok_at, r.consecutive_failures)
                        for r in seen["rows"]], [(b.worker_id, b.beat_at, b.stopped_at) for b in seen["beats"]],
                       seen["pending"], seen["failed"], [n.id for n in seen["failures"]], minute(now))
    return children, digest


layout = live_home("home_admin", N_("System health"), _content, ROLES, body="body")
