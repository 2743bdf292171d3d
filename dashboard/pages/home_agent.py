"""An agent's home (/home/agent, and / for agents): the items they hold, the oldest claim first, and
their teams' most urgent unclaimed items, soonest due first. Each with its team, priority, due
time and a link to the item. A tick re-reads the two small lists and sends them only when they
changed (or a minute passed: the due times move). An agent sees their own teams only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import readable_teams
from dashboard.components.home_lists import HOME_TICK_MS, item_columns, item_table, minute, signature
from dashboard.context import current
from i18n import _
from models import home_queries
from models.tables import utcnow

ROLES: tuple[str, ...] = ("agent", "admin")


def _page_title(**_kw: Any) -> str:
    return _("My work") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/home/agent", title=_page_title, name="Agent home", roles=ROLES)


def _read(now: datetime) -> tuple[list[home_queries.HomeItem], list[home_queries.HomeItem], list[str]]:
    ctx, principal = current(), current_principal()
    teams = readable_teams(principal, ctx.settings.team_keys)
    name = principal.name if principal is not None else ""
    with ctx.db.read() as session:
        held = home_queries.held_items(session, name, teams, now=now)
        urgent = home_queries.urgent_unclaimed(session, teams, now=now)
    return held, urgent, teams


def _lists() -> tuple[list[Any], str]:
    """The page's lists and their signature."""
    now = utcnow()
    held, urgent, teams = _read(now)
    labels = {t.key: t.label for t in current().settings.teams}
    children = [
        html.H3(_("Items I hold"), className="mt-3"),
        item_table(held, item_columns(now, labels, "item", "team", "priority", "due", "claimed", "post"),
                   "home_agent-held", _("You hold no item. Claim one from your queue.")),
        html.H3(_("Most urgent unclaimed items"), className="mt-4"),
        item_table(urgent, item_columns(now, labels, "item", "team", "priority", "due", "queued", "post"),
                   "home_agent-urgent", _("No unclaimed item in your teams.")),
        html.P([html.A(_("Open the queue of {team}").format(team=labels.get(t, t)), href=f"/queue/{t}",
                       className="me-3") for t in teams], className="mt-2"),
    ]
    seen = signature([(i.id, i.status, i.due_at) for i in held], [(i.id, i.due_at) for i in urgent], minute(now))
    return children, seen


def layout(**_query: Any) -> Any:
    children, seen = _lists()
    return html.Div([
        html.H2(_("My work")),
        dcc.Interval(id="home_agent-tick", interval=HOME_TICK_MS),
        dcc.Store(id="home_agent-seen", data=seen),
        html.Div(children, id="home_agent-lists"),
    ], id="home_agent-page")


@callback(
    Output("home_agent-seen", "data"),
    Output("home_agent-lists", "children"),
    Input("home_agent-tick", "n_intervals"),
    State("home_agent-seen", "data"),
    prevent_initial_call=True,
)
@guarded(*ROLES)
def refresh(_n: int | None, seen: Any) -> tuple[str, list[Any]]:
    children, now_seen = _lists()
    if now_seen == seen:
        raise PreventUpdate
    return now_seen, children
