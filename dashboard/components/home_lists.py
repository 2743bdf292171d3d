"""What the home pages (dashboard/pages/home_*.py) share: a table of items, a red/amber/green
badge, a section heading, a signature of what a list shows (a tick re-sends a list only when it
changed). Post texts and names are put in plain components only (Dash escapes a string child).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import guarded
from dashboard.components.when import due, when
from i18n import N_, _
from models.home_queries import AMBER, GREEN, RED, HomeItem

HOME_TICK_MS = 15_000  # the homes re-read their small lists this often
PRIORITIES = {"critical": N_("critical"), "high": N_("high"), "medium": N_("medium"), "low": N_("low")}
SLA_WORDS = {"breached": N_("breached"), "at risk": N_("at risk"), "on time": N_("on time")}
RAG = {GREEN: (N_("Healthy"), "success"), AMBER: (N_("Needs attention"), "warning"), RED: (N_("Failing"), "danger")}


def priority_text(priority: str) -> str:
    word = PRIORITIES.get(priority)
    return _(word) if word else priority


def sla_text(state: str) -> str:
    word = SLA_WORDS.get(state)
    return _(word) if word else state


def short(text: str, size: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def item_link(item: HomeItem) -> Any:
    return html.A(_("Item {number}").format(number=item.id), href=f"/mention/{item.mention_id}")


def rag_badge(state: str, ident: str | None = None, detail: str | None = None) -> Any:
    label, colour = RAG[state]
    extra: dict[str, Any] = {"id": ident} if ident else {}
    if detail:
        extra["title"] = detail
    return dbc.Badge(_(label), color=colour, className="ms-2", **extra)


Column = tuple[str, Callable[[HomeItem], Any]]


def item_columns(now: datetime, labels: dict[str, str], *names: str) -> list[Column]:
    """The named columns of an item table (item, team, priority, due, sla, claimed, queued, assignee, post)."""
    known: dict[str, Column] = {
        "item": (_("Item"), item_link),
        "team": (_("Team"), lambda i: labels.get(i.team, i.team)),
        "priority": (_("Priority"), lambda i: priority_text(i.priority)),
        "due": (_("Due"), lambda i: due(i.due_at, now)),
        "sla": (_("SLA"), lambda i: sla_text(i.sla)),
        "claimed": (_("Claimed"), lambda i: when(i.claimed_at, now)),
        "queued": (_("Queued"), lambda i: when(i.created_at, now)),
        "assignee": (_("Assignee"), lambda i: i.assignee or "—"),
        "post": (_("Post"), lambda i: html.Span(short(i.text), className="small")),
    }
    return [known[n] for n in names]


def item_table(items: Sequence[HomeItem], columns: Sequence[Column], ident: str, empty: str) -> Any:
    """A table of ``items`` (one row each, with a header row), or ``empty`` said plainly."""
    if not items:
        return html.P(empty, className="text-muted", id=ident)
    head = html.Thead(html.Tr([html.Th(title, scope="col") for title, _cell in columns]))
    body = html.Tbody([html.Tr([html.Td(cell(item)) for _title, cell in columns], id=f"{ident}-{item.id}")
                       for item in items])
    return dbc.Table([head, body], size="sm", striped=True, id=ident)


def signature(*parts: Any) -> str:
    """A short digest of what a list shows: equal digests, nothing to send."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def minute(now: datetime) -> str:
    """The minute of ``now``: relative times ("in 25 min") move with it, so a list is re-sent each minute."""
    return now.strftime("%Y%m%d%H%M")


def live_home(name: str, heading: str, content: Callable[[], tuple[list[Any], str]], roles: Sequence[str],
              tick_ms: int = HOME_TICK_MS, body: str = "lists") -> Callable[..., Any]:
    """A home page's ``layout``: ``heading`` (marked with ``N_``, said in the reader's language) over what
    ``content()`` gives (its children and their signature), re-read every ``tick_ms`` by a callback only
    ``roles`` may run, which sends the children again only when their signature changed."""

    @callback(
        Output(f"{name}-seen", "data"),
        Output(f"{name}-{body}", "children"),
        Input(f"{name}-tick", "n_intervals"),
        State(f"{name}-seen", "data"),
        prevent_initial_call=True,
    )
    @guarded(*roles)
    def refresh(_n: int | None, seen: Any) -> tuple[str, list[Any]]:
        children, now_seen = content()
        if now_seen == seen:
            raise PreventUpdate
        return now_seen, children

    def layout(**_query: Any) -> Any:
        children, seen = content()
        return html.Div([
            html.H2(_(heading)),
            dcc.Interval(id=f"{name}-tick", interval=tick_ms),
            dcc.Store(id=f"{name}-seen", data=seen),
            html.Div(children, id=f"{name}-{body}"),
        ], id=f"{name}-page")

    return layout
