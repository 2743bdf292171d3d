"""A lead's home (/home/lead, and / for leads): for the teams they lead, the breaches (open items past
due), the items at risk, the unassigned items (their count and the oldest few) and who is
overloaded (`models.home_queries.overloaded`), each linking to triage, the queue or the item.
A tick re-reads the small lists and sends them only when they changed (or a minute passed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.auth.guard import current_principal
from dashboard.auth.policy import LEADS, led_teams
from dashboard.components.home_lists import item_columns, item_table, live_home, minute, signature
from dashboard.components.when import number
from dashboard.context import current
from i18n import N_, _, ngettext
from models import home_queries, queries, users
from models.tables import utcnow

ROLES: tuple[str, ...] = LEADS


def _page_title(**_kw: Any) -> str:
    return _("My teams") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/home/lead", title=_page_title, name="Lead home", roles=ROLES)


def _read(teams: list[str], now: datetime) -> dict[str, Any]:
    with current().db.pages() as session:
        counts = queries.team_counts(session, tuple(teams))
        loads = home_queries.team_loads(queries.workload(session, teams), users.team_members(session, teams))
        return {
            "breaches": home_queries.breaches(session, teams, now=now),
            "at_risk": home_queries.at_risk(session, teams, now=now),
            "unassigned": home_queries.oldest_unassigned(session, teams, now=now),
            "overdue": sum(counts[t]["overdue"] for t in teams),
            "new": sum(counts[t]["new"] for t in teams),
            "loads": loads,
        }


def build_overload(loads: dict[str, dict[str, int]], labels: dict[str, str]) -> Any:
    """Who holds too much, per team, with the team's loads beside (a table with headers)."""
    rows = []
    for team, members in sorted(loads.items()):
        heavy = home_queries.overloaded(members)
        mean = sum(members.values()) / len(members) if members else 0.0
        for name in heavy:
            rows.append(html.Tr([html.Td(name), html.Td(labels.get(team, team)), html.Td(number(members[name])),
                                 html.Td(number(round(mean, 1))),
                                 html.Td(html.A(_("Triage"), href="/triage"))], id=f"home_lead-overloaded-{name}"))
    if not rows:
        return html.P(_("Nobody holds much more than their team’s mean."), className="text-muted",
                      id="home_lead-overloaded")
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in (
        _("Agent"), _("Team"), _("Items held"), _("Team mean"), _("Rebalance"))]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, id="home_lead-overloaded")


def _lists() -> tuple[list[Any], str]:
    now = utcnow()
    ctx = current()
    teams = led_teams(current_principal(), ctx.settings.team_keys)
    seen = _read(teams, now)
    labels = {t.key: t.label for t in ctx.settings.teams}
    columns = item_columns(now, labels, "item", "team", "priority", "due", "assignee", "post")
    children = [
        html.P([html.A(_("Open triage"), href="/triage", className="me-3"),
                *(html.A(_("Open the queue of {team}").format(team=labels.get(t, t)), href=f"/queue/{t}",
                         className="me-3") for t in teams)]),
        html.H3([_("Past due"), dbc.Badge(number(seen["overdue"]), color="danger", className="ms-2",
                                          id="home_lead-count-breaches")], className="mt-3"),
        item_table(seen["breaches"], columns, "home_lead-breaches", _("No item past due.")),
        html.H3(_("At risk"), className="mt-4"),
        item_table(seen["at_risk"], columns, "home_lead-at-risk", _("No item at risk.")),
        html.H3([_("Unassigned"), dbc.Badge(number(seen["new"]), color="info", className="ms-2",
                                            id="home_lead-count-unassigned")], className="mt-4"),
        html.P(ngettext("{count} item waits for someone to claim it; the oldest:",
                        "{count} items wait for someone to claim them; the oldest:", seen["new"]).format(
            count=number(seen["new"])), className="small text-muted") if seen["new"] else None,
        item_table(seen["unassigned"], item_columns(now, labels, "item", "team", "priority", "queued", "due", "post"),
                   "home_lead-unassigned", _("No unassigned item.")),
        html.H3(_("Overloaded"), className="mt-4"),
        build_overload(seen["loads"], labels),
    ]
    digest = signature([(i.id, i.status, i.assignee) for key in ("breaches", "at_risk", "unassigned")
                        for i in seen[key]], seen["overdue"], seen["new"], seen["loads"], minute(now))
    return children, digest


layout = live_home("home_lead", N_("My teams"), _lists, ROLES)
