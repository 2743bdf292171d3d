"""One-click corrections: the item page's "Judgement wrong?" buttons, and the leads' list of them
(the triage page). A click records what the person thinks (models/corrections.py, audited); it
does not move the item (Reroute does, with its reason)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import WORKERS, can_work_team
from dashboard.components.names import flag_name
from dashboard.components.when import local
from dashboard.context import current
from i18n import _
from models import corrections, queries
from models.actions import ActionError
from models.ids import parse_id
from models.labels import label

MAX_VALUE = 100


def said(kind: str, wrong: str, right: str | None, teams: dict[str, str]) -> str:
    """A correction in the reader's language."""
    if kind == "sentiment":
        return _("sentiment {wrong}, should be {right}").format(wrong=label("sentiment", wrong),
                                                                right=label("sentiment", right))
    if kind == "flag":
        return _("flag “{flag}” should not have fired").format(flag=flag_name(wrong))
    return _("team {wrong}, should be {right}").format(wrong=teams.get(wrong, wrong),
                                                       right=teams.get(right or "", right or ""))


def section(item: Any, sentiment: str, flags: list[str], teams: dict[str, str]) -> Any:
    """The buttons for an item whose decided sentiment is ``sentiment``, flagged ``flags``."""
    def button(text: str, kind: str, value: str) -> Any:
        return dbc.Button(text, id={"type": "correct", "kind": kind, "value": value}, size="sm", outline=True,
                          color="secondary", className="me-1 mb-1")

    buttons = [
        *(button(_("Sentiment is {label}").format(label=label("sentiment", s)), "sentiment", s)
          for s in corrections.SENTIMENTS if s != sentiment),
        *(button(_("Not “{flag}”").format(flag=flag_name(f)), "flag", f) for f in flags),
        *(button(_("Belongs to {team}").format(team=name), "team", key) for key, name in teams.items()
          if key != item.team),
    ]
    return html.Div([html.H6(_("Judgement wrong?"), className="mt-2"), html.Div(buttons),
                     html.Div(id="correct-result", className="small")], id="correct-box")


@callback(
    Output("correct-result", "children"),
    Input({"type": "correct", "kind": dash.ALL, "value": dash.ALL}, "n_clicks"),
    State("mention-item", "data"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def mark(clicks: list[int | None], state: dict[str, Any]) -> Any:
    """Record the clicked correction, for an item of a team the person works for."""
    principal = current_principal()
    assert principal is not None  # guarded
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks):
        raise dash.exceptions.PreventUpdate
    kind, value = trigger.get("kind"), trigger.get("value")
    item_id = parse_id(state.get("id")) if isinstance(state, dict) else None
    if kind not in corrections.KINDS or not isinstance(value, str) or len(value) > MAX_VALUE or item_id is None:
        return dbc.Alert(_("That correction is not one Vigie knows."), color="danger")
    ctx = current()
    try:
        with ctx.db.write.begin() as session:
            item = queries.queue_item(session, item_id)
            if item is None or not can_work_team(principal, item.team):
                return dbc.Alert(_("This item belongs to a team you do not work for."), color="danger")
            row = corrections.correct(session, item.id, principal.name, kind, value, ctx.settings.team_keys)
            if not can_work_team(principal, row.team):  # rerouted between the read and the lock: undone
                raise ActionError(_("This item belongs to a team you do not work for."))
            what = said(row.kind, row.wrong, row.right, {t.key: t.label for t in ctx.settings.teams})
    except ActionError as refused:
        return dbc.Alert(str(refused), color="warning")
    return dbc.Alert(_("Recorded: {what}. Your team's lead sees it on the triage page.").format(what=what),
                     color="success")


def listing(rows: list[corrections.Listed], teams: dict[str, str]) -> Any:
    """The leads' list: newest first, each with the post it is about."""
    if not rows:
        return html.P(_("No corrections yet."), className="text-muted")
    head = html.Thead(html.Tr([html.Th(_("When")), html.Th(_("Who")), html.Th(_("Team")), html.Th(_("Marked wrong")),
                               html.Th(_("Post"))]))
    body = html.Tbody([
        html.Tr([html.Td(local(r.at)), html.Td(r.actor), html.Td(teams.get(r.team, r.team)),
                 html.Td(said(r.kind, r.wrong, r.right, teams)),
                 html.Td(html.A(r.text, href=f"/mention/{r.mention_id}"))])
        for r in rows
    ])
    return dbc.Table([head, body], size="sm", striped=True, id="triage-corrections")
