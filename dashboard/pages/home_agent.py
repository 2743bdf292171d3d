"""An agent's home (/home/agent, and / for agents): the items they hold, the oldest claim first, and
their teams' most urgent unclaimed items, soonest due first. Each with its team, priority, due
time and a link to the item. A tick re-reads the two small lists and sends them only when they
changed (or a minute passed: the due times move). An agent sees their own teams only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import html

from dashboard.auth.guard import current_principal
from dashboard.auth.policy import readable_teams
from dashboard.components.home_lists import item_columns, item_table, live_home, minute, signature
from dashboard.context import current
from i18n import N_, _
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
    with ctx.db.pages() as session:
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


layout = live_home("home_agent", N_("My work"), _lists, ROLES)
