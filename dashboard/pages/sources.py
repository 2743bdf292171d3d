"""Sources: the health of every configured source, live.

State (stale, ok, failing, waiting on a rate limit, not run yet, disabled), last success, the
items of the last run, failures in a row, when the next request is allowed and the last
error as the collector recorded it, plus the items each source sent that could not be
read (kept in rejected_items) over the last 24 hours. "stale" (in red) means no run for three of
its intervals, or its collector is gone (`models.heartbeats`): the row's figures are old news.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.auth.guard import guarded
from dashboard.auth.policy import SIGNED_IN
from dashboard.components.health import polled_intervals, source_state
from dashboard.components.when import due, number, when
from dashboard.context import current
from i18n import N_, _, ngettext
from models import heartbeats
from models.health import rejected_counts
from models.notifications import failed_notifications, item_mentions, pending_count
from models.outbox import troubles_by_source
from models.tables import utcnow


def _page_title(**_kw: Any) -> str:
    return _("Sources") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/sources", title=_page_title, name="Sources", roles=SIGNED_IN,
                   nav={"order": 30, "label": N_("Sources")})

HEADERS = (N_("Source"), N_("Kind"), N_("State"), N_("Last success"), N_("Last run"), N_("Items last run"),
           N_("Failures in a row"), N_("Next request"), N_("Rejected (24 h)"), N_("Last error"))


def _rows(session: Any) -> tuple[list[Any], dict[int, int], dict[str, str]]:
    """The source rows and their stale reasons, read on the primary even with a replica (judged by this
    worker's clock: `models.heartbeats.health`), and the rejected items of the last 24 hours."""
    health = heartbeats.health(current().db, polled_intervals(current().settings), utcnow(), session=session)
    return health.rows, rejected_counts(session, utcnow() - timedelta(hours=24)), health.stale


def _table(rows: list[Any], rejected: dict[int, int], stale: dict[str, str]) -> Any:
    ctx = current()
    configured = {s.name: s for s in ctx.settings.sources}
    now = utcnow()
    body = []
    for row in rows:
        cfg = configured.get(row.name)
        state = source_state(row, now, cfg is not None, bool(cfg and cfg.enabled), stale.get(row.name))
        nxt = due(row.not_before, now) if row.not_before and row.not_before > now else _("on schedule")
        body.append(
            html.Tr(
                [
                    html.Td(row.name),
                    html.Td(row.kind),
                    html.Td([dbc.Badge(state.label, color=state.color, id=f"sources-state-{row.name}"),
                             html.Div(state.detail, className="small")]),
                    html.Td(when(row.last_ok_at, now, never=_("never"))),
                    html.Td(when(row.last_run_at, now, never=_("never"))),
                    html.Td(number(row.items_last_run or 0)),
                    html.Td(number(row.consecutive_failures or 0)),
                    html.Td(nxt),
                    html.Td(number(rejected.get(row.id, 0))),
                    html.Td(row.last_error or "", className="small text-break"),  # plain text, never HTML
                ],
                id=f"sources-row-{row.name}",
            )
        )
    return dbc.Table([html.Thead(html.Tr([html.Th(_(h)) for h in HEADERS])), html.Tbody(body)], size="sm",
                     hover=True, responsive=True)


def _signature(rows: list[Any], rejected: dict[int, int], notes: tuple[list[Any], int, dict[int, int]],
               stale: dict[str, str]) -> str:
    failed, pending, _mentions = notes
    return "|".join(f"{r.name}:{r.last_run_at}:{r.consecutive_failures}:{r.not_before}:{rejected.get(r.id, 0)}"
                    f":{stale.get(r.name, '')}" for r in rows) + f"|n:{failed[0].id if failed else 0}:{pending}"


def build_troubles(troubles: dict[str, dict[str, Any]]) -> Any:
    """Per source: replies failed, of unknown outcome and being retried, with the newest error (plain text)."""
    if not troubles:
        return html.P(_("No reply or post failed, is of unknown outcome or is being retried."), className="small",
                      id="sources-troubles")
    now = utcnow()
    rows = [html.Tr([html.Td(name or "—"), html.Td(number(t["failed"])), html.Td(number(t["unknown"])),
                     html.Td(number(t["retrying"])), html.Td(when(t["at"], now, never="")),
                     html.Td(t["error"] or "", className="small text-break")],
                    id=f"sources-troubles-{name}") for name, t in sorted(troubles.items())]
    head = html.Thead(html.Tr([html.Th(h) for h in (_("Source"), _("Failed"), _("Outcome unknown"), _("Retrying"),
                                                     _("Newest"), _("Newest error"))]))
    return html.Div([html.P(_("Replies and posts to check on the /outbox page."), className="small"),
                     dbc.Table([head, html.Tbody(rows)], size="sm", id="sources-troubles")])


def _troubles_marker(troubles: dict[str, dict[str, Any]]) -> str:
    return ";".join(f"{k}:{v['failed']}:{v['unknown']}:{v['retrying']}:{v['at']}" for k, v in sorted(troubles.items()))


def _notes(session: Any) -> tuple[list[Any], int, dict[int, int]]:
    """Given-up notifications, the pending count, and the mention of each item named (for links)."""
    failed = failed_notifications(session)
    items = {n.queue_item_id for n in failed if n.queue_item_id}
    return failed, pending_count(session), item_mentions(session, items)


def _notifications(notes: tuple[list[Any], int, dict[int, int]]) -> Any:
    """Notifications the collector gave up on (a channel's URL or token is wrong, its service is down)."""
    failed, pending, mentions = notes
    waiting = ngettext("{count} notification waiting to be sent.", "{count} notifications waiting to be sent.",
                       pending).format(count=number(pending))
    given_up = _("None given up on.") if not failed else ngettext(
        "The newest one given up on:", "The newest {count} given up on:", len(failed)).format(count=number(len(failed)))
    head = html.P(waiting + " " + given_up, className="small", id="sources-notifications-summary")
    if not failed:
        return head
    now = utcnow()
    rows = [html.Tr([html.Td(when(n.created_at, now)), html.Td(n.channel), html.Td(n.event),
                     html.Td(html.A(_("item {id}").format(id=n.queue_item_id),
                                    href=f"/mention/{mentions[n.queue_item_id]}")
                             if n.queue_item_id in mentions else ""),
                     html.Td(number(n.attempts)), html.Td(n.last_error or "", className="small text-break")])
            for n in failed]
    table_head = html.Thead(html.Tr([html.Th(h) for h in (_("Written"), _("Channel"), _("Event"), _("Item"),
                                                           _("Attempts"), _("Last error"))]))
    return html.Div([head, dbc.Table([table_head, html.Tbody(rows)], size="sm", id="sources-notifications")])


def layout(**_query: Any) -> Any:
    ctx = current()
    with ctx.db.pages() as session:
        rows, rejected, stale = _rows(session)
        notes = _notes(session)
        troubles = troubles_by_source(session)
    return html.Div(
        [
            dcc.Interval(id="sources-tick", interval=max(ctx.settings.refresh_ms, 5000)),
            dcc.Store(id="sources-marker", data=_signature(rows, rejected, notes, stale) + _troubles_marker(troubles)),
            html.H2(_("Sources")),
            html.P(_("Health of each source as the collectors last recorded it. A failing source is retried "
                     "with growing waits and never stops the others. Stale: not run for three of its intervals, "
                     "or its collector stopped or went silent."), className="text-muted"),
            html.Div(_table(rows, rejected, stale), id="sources-table"),
            html.H4(_("Notifications")),
            html.Div(_notifications(notes), id="sources-notes"),
            html.H4(_("Replies and posts")),
            html.Div(build_troubles(troubles), id="sources-replies"),
        ]
    )


@callback(
    Output("sources-marker", "data"),
    Output("sources-table", "children"),
    Output("sources-notes", "children"),
    Output("sources-replies", "children"),
    Input("sources-tick", "n_intervals"),
    State("sources-marker", "data"),
    prevent_initial_call=True,
)
@guarded(*SIGNED_IN)
def refresh_sources(_n: int, marker: str) -> tuple[Any, Any, Any, Any]:
    with current().db.pages() as session:
        rows, rejected, stale = _rows(session)
        notes = _notes(session)
        troubles = troubles_by_source(session)
    latest = _signature(rows, rejected, notes, stale) + _troubles_marker(troubles)
    if latest == marker:
        return no_update, no_update, no_update, no_update
    return latest, _table(rows, rejected, stale), _notifications(notes), build_troubles(troubles)
