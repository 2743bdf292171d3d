"""Outbox: new posts from the firm's accounts, and what waits to go out or went wrong.

"New post": a post template (or free text), its placeholders, the network (the firm's account on
it, ``outbound.yaml`` ``accounts``), now or at a set time in the reader's time zone (stored in
UTC), with the same live preview as a reply (`models.replies.check`), then
`models.replies.compose`. The outbox lists replies and posts waiting for approval, scheduled,
queued, sending, failed and "outcome unknown — check" with their last error; for a failed or
unknown send a person records what they checked (`models.outbox.person_checked`), and one not
yet sent can be cancelled. Agents and leads see their teams' replies and every post; compliance
and admins everything.

Texts, names and errors are untrusted: plain components only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import QUEUE_READERS, WORKERS, Principal, can_read_team, can_work_team
from dashboard.components.names import team_name
from dashboard.components.outbound import answerable, hits_text, rules_for, send_time, short
from dashboard.components.when import local, number, when
from dashboard.context import current
from i18n import N_, _, current_reader
from models import library, outbox, replies, reply_views
from models.ids import no_such, parse_id
from models.replies import status_name
from models.reply_rules import kind_name
from models.tables import utcnow


def _page_title(**_kw: Any) -> str:
    return _("Outbox") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/outbox", title=_page_title, name="Outbox", roles=QUEUE_READERS,
                   nav={"order": 28, "label": N_("Outbox")})
SHOWN = ("rejected", "expired", "pending", "queued", "sending", "failed", "unknown")
TICK_MS = 5000


def _may_act(principal: Principal | None, reply: Any) -> bool:
    """A post is its team's (the team chose it when writing it): only its workers, or an admin,
    cancel it or say what became of it; a reply's team works it."""
    if reply.team is None:
        return principal is not None and principal.role == "admin"
    return can_work_team(principal, reply.team)


def may_see(principal: Principal | None, reply: Any) -> bool:
    """Posts are everyone's; a reply belongs to its team."""
    return reply.kind == "post" or reply.team is None or can_read_team(principal, reply.team)


def status_label(reply: Any, now: datetime) -> str:
    if reply.status == "queued" and reply.send_after and reply.send_after > now:
        return _("scheduled for {time}").format(time=local(reply.send_after))
    return status_name(reply.status)


def build_row(reply: Any, now: datetime, may_act: bool) -> Any:
    parts: list[Any] = [
        html.Div([html.B(_("{kind} {id}").format(kind=kind_name(reply.kind).capitalize(), id=reply.id)),
                  " · " + _("{state} · {network} via {source} · team {team} · by {author} · attempts {attempts}")
                  .format(state=status_label(reply, now), network=reply.network, source=reply.source_name or "—",
                          team=team_name(reply.team), author=reply.author, attempts=number(reply.attempts)),
                  " · ", _("written"), " ", when(reply.created_at, now)]),
        html.P(short(reply.text, 300), className="vigie-detail-text mb-1"),
    ]
    if reply.last_error:
        parts.append(html.Div(_("Last error: {error}").format(error=reply.last_error[:500]),
                              className="small text-danger"))
    if reply.mention_id:
        parts.append(html.Div(html.A(_("mention {id}").format(id=reply.mention_id),
                                     href=f"/mention/{reply.mention_id}"),
                              className="small mb-1"))
    if may_act and reply.status in ("failed", "unknown"):
        parts += [dbc.Input(id={"type": "outbox-url", "reply": reply.id}, placeholder=_("its URL, if it was posted"),
                            className="my-1", size="sm"),
                  dbc.Textarea(id={"type": "outbox-note", "reply": reply.id},
                               placeholder=_("What you checked (required)"), maxLength=2000, className="mb-1"),
                  dbc.Button(_("It was posted"), id={"type": "outbox-posted", "reply": reply.id}, size="sm",
                             color="success", className="me-2"),
                  dbc.Button(_("Not posted: send again"), id={"type": "outbox-resend", "reply": reply.id}, size="sm",
                             color="warning", className="me-2")]
    if may_act and reply.status in replies.CANCELLABLE:
        parts.append(dbc.Button(_("Cancel"), id={"type": "outbox-cancel", "reply": reply.id}, size="sm",
                                color="secondary"))
    return dbc.Card(dbc.CardBody(parts), className="mb-2", id=f"outbox-reply-{reply.id}")


def _list(session: Any, principal: Principal | None) -> Any:
    now = utcnow()
    rows = [r for r, _m in outbox.by_status(session, SHOWN) if may_see(principal, r)]
    if not rows:
        return html.P(_("Nothing waits to go out, and nothing went wrong."), className="text-muted")
    acts = principal is not None and principal.role in WORKERS
    return [build_row(r, now, acts and _may_act(principal, r))
            for r in rows]


def _new_post(ctx: Any, session: Any, principal: Principal) -> Any:
    accounts = {n: s for n, s in ctx.settings.outbound.accounts.items() if answerable(ctx.settings, s)}
    teams = [t for t in ctx.settings.teams if can_work_team(principal, t.key)]
    posts = [u for u in library.usable(session) if u.kind == "post" and (principal.role == "admin"
                                                                          or set(u.teams) & set(principal.teams))]
    return html.Div([
        html.H4(_("New post")),
        dcc.Dropdown(id="outbox-template", placeholder=_("a post template (or write free text below)"),
                     className="mb-2",
                     options=[{"label": f"{u.key} ({u.language}) · {u.title}", "value": u.version_id} for u in posts]),
        html.Div(id="outbox-fields"),
        dbc.Label(_("Post text"), html_for="outbox-text", className="visually-hidden"),
        dbc.Textarea(id="outbox-text", placeholder=_("Free text (or the template's text, edited: it then waits for "
                                                     "approval)"), maxLength=replies.MAX_TEXT, className="mb-2",
                     rows=3),
        dbc.Row([dbc.Col(dcc.Dropdown(id="outbox-network",
                                      options=[{"label": _("{network} (account {source})").format(network=n, source=s),
                                                "value": n} for n, s in accounts.items()],
                                      value=next(iter(accounts), None), placeholder=_("network"))),
                 dbc.Col(dcc.Dropdown(id="outbox-team", options=[{"label": t.label, "value": t.key} for t in teams],
                                      value=teams[0].key if teams else None, placeholder=_("team"))),
                 dbc.Col(dcc.Dropdown(id="outbox-brand", value=next((b.name for b in ctx.settings.brands
                                                                     if not b.competitor), None),
                                      options=[b.name for b in ctx.settings.brands if not b.competitor])),
                 dbc.Col(dcc.Dropdown(id="outbox-language", options=list(library.LANGUAGES), placeholder=_("language"),
                                      value=_own_language()))],
                className="mb-2"),
        dbc.Row([dbc.Col([dbc.Label(_("Send on (date)"), html_for="outbox-day", className="visually-hidden"),
                          dbc.Input(id="outbox-day", type="date")], width=3),
                 dbc.Col([dbc.Label(_("Send at (time)"), html_for="outbox-time", className="visually-hidden"),
                          dbc.Input(id="outbox-time", type="time")], width=2),
                 dbc.Col(html.Span(_("Your time zone ({zone}); leave the date empty to send now").format(
                     zone=current_reader().zone.key), className="small text-muted", id="outbox-zone"))],
                className="mb-2"),
        html.Div(id="outbox-preview", className="mb-2"),
        dbc.Button(_("Send"), id="outbox-send", color="primary", size="sm"),
        dbc.Alert(id="outbox-send-alert", is_open=False, dismissable=True, className="mt-2"),
    ], className="mb-4")


def layout(**_query: Any) -> Any:
    ctx, principal = current(), current_principal()
    with ctx.db.read() as session:
        marker = reply_views.change_marker(session)
        new_post = _new_post(ctx, session, principal) if principal and principal.role in WORKERS else None
        listed = _list(session, principal)
    return html.Div([
        dcc.Interval(id="outbox-tick", interval=TICK_MS), dcc.Store(id="outbox-marker", data=marker),
        html.H2(_("Outbox")), new_post,
        html.H4(_("Waiting, scheduled and in trouble")),
        dbc.Alert(id="outbox-alert", is_open=False, dismissable=True),
        html.Div(listed, id="outbox-list"),
    ])


@callback(Output("outbox-fields", "children"), Input("outbox-template", "value"), prevent_initial_call=True)
@guarded(*WORKERS)
def template_fields(version_id: Any) -> Any:
    """One input per placeholder of the template chosen."""
    if version_id is None:
        return []
    with current().db.read() as session:
        chosen = next((u for u in library.usable(session) if u.version_id == version_id), None)
    if chosen is None:
        return html.Div(_("This template is no longer usable."), className="text-danger")
    return [dbc.Input(id={"type": "outbox-value", "name": name}, placeholder=name, className="mb-1", size="sm")
            for name in chosen.placeholders]


def _own_language() -> str:
    """A new post's language, at first: the writer's, where the library has templates in it."""
    language = current_reader().language
    return language if language in library.LANGUAGES else "en"


def _target(ctx: Any, principal: Principal, network: str | None, team: str | None, brand: str | None,
            language: str | None) -> replies.Target:
    source = ctx.settings.outbound.accounts.get(network or "")
    if not network or not answerable(ctx.settings, source):
        raise replies.ReplyError(_("choose a network the firm has an account on"))
    if team is None or not can_work_team(principal, team):
        raise replies.ReplyError(_("choose one of your teams"))
    if language not in (None, "", *library.LANGUAGES):  # the browser's: a language the library has, never another
        raise replies.ReplyError(_("choose a language"))
    return replies.Target("post", network, source, team, brand, language or "en", None, None)


def _values() -> dict[str, str]:
    return {str(item["id"].get("name")): str(item.get("value") or "") for item in (dash.ctx.states_list[-1] or [])
            if isinstance(item, dict) and isinstance(item.get("id"), dict)} if dash.ctx.states_list else {}


POST_STATES = (State("outbox-template", "value"), State("outbox-text", "value"), State("outbox-network", "value"),
               State("outbox-team", "value"), State("outbox-brand", "value"), State("outbox-language", "value"),
               State("outbox-day", "value"), State("outbox-time", "value"),
               State({"type": "outbox-value", "name": ALL}, "value"))


def _version(value: Any) -> int | None:
    """The chosen template version (a dropdown's value, from the browser): None for none."""
    if value is None:
        return None
    version = parse_id(value)
    if version is None:
        raise replies.ReplyError(no_such("template version", value))
    return version


@callback(Output("outbox-preview", "children"), Input("outbox-text", "value"), Input("outbox-template", "value"),
          Input("outbox-network", "value"), Input({"type": "outbox-value", "name": ALL}, "value"), *POST_STATES,
          prevent_initial_call=True)
@guarded(*WORKERS)
def preview(_t: Any, _v: Any, _n: Any, _vals: Any, version_id: Any, text: str | None, network: str | None,
            team: str | None, brand: str | None, language: str | None, *_rest: Any) -> Any:
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    try:
        target = _target(ctx, principal, network, team, brand, language)
        with ctx.db.read() as session:
            checked = replies.check(session, rules_for(ctx.settings), target, text,
                                    _version(version_id), _values())
    except (replies.ReplyError, ValueError) as exc:
        return html.Div(str(exc), className="text-danger small")
    lines = [html.P(checked.text, className="vigie-detail-text mb-1"),
             html.Div((_("{count} of {limit} characters · policy {policy} · waits for approval")
                       if checked.needs_approval else
                       _("{count} of {limit} characters · policy {policy} · goes out without approval")).format(
                 count=number(checked.count), limit=number(checked.limit), policy=checked.policy), className="small")]
    if checked.hits:
        lines.append(html.Div(_("Screening: {hits}").format(hits=hits_text(checked.hits)),
                              className="small text-warning"))
    lines += [html.Div(p, className="small text-danger") for p in checked.problems]
    return dbc.Card(dbc.CardBody(lines), id="outbox-preview-card")


@callback(Output("outbox-send-alert", "children"), Output("outbox-send-alert", "color"),
          Output("outbox-send-alert", "is_open"), Input("outbox-send", "n_clicks"), *POST_STATES,
          prevent_initial_call=True)
@guarded(*WORKERS)
def send_post(clicks: int | None, version_id: Any, text: str | None, network: str | None, team: str | None,
              brand: str | None, language: str | None, day: str | None, clock: str | None, _values_in: Any,
              ) -> tuple[str, str, bool]:
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    if not clicks:
        raise PreventUpdate
    try:
        target = _target(ctx, principal, network, team, brand, language)
        with ctx.db.write.begin() as session:
            post = replies.compose(session, rules_for(ctx.settings), principal.name, target, text,
                                   _version(version_id), _values(),
                                   send_after=send_time(day, clock, current_reader().zone))
            status, ident = post.status, post.id
    except (replies.ReplyError, ValueError) as exc:
        return str(exc), "danger", True
    return (_("Post {id} waits for compliance's approval.") if status == "pending" else
            _("Post {id} is queued.")).format(id=ident), "success", True


@callback(Output("outbox-marker", "data"), Output("outbox-list", "children"), Output("outbox-alert", "children"),
          Output("outbox-alert", "color"), Output("outbox-alert", "is_open"), Input("outbox-tick", "n_intervals"),
          Input({"type": "outbox-posted", "reply": ALL}, "n_clicks"),
          Input({"type": "outbox-resend", "reply": ALL}, "n_clicks"),
          Input({"type": "outbox-cancel", "reply": ALL}, "n_clicks"),
          State({"type": "outbox-url", "reply": ALL}, "value"), State({"type": "outbox-note", "reply": ALL}, "value"),
          State("outbox-marker", "data"), prevent_initial_call=True)
@guarded(*QUEUE_READERS)
def update_outbox(_n: Any, _posted: Any, _resend: Any, _cancel: Any, _urls: Any, _notes: Any,
                  marker: str | None) -> tuple[Any, ...]:
    """A tick rebuilds the list when a reply changed; a click settles or cancels one."""
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    trigger = dash.ctx.triggered_id
    alert: tuple[Any, ...] = (dash.no_update,) * 3
    if isinstance(trigger, dict):
        if not any(t.get("value") for t in dash.ctx.triggered) or principal.role not in WORKERS:
            raise PreventUpdate
        reply_id = parse_id(trigger.get("reply"))

        def given(index: int) -> str:
            return next((str(i.get("value") or "") for i in (dash.ctx.states_list[index] or [])
                         if isinstance(i, dict) and isinstance(i.get("id"), dict) and i["id"].get("reply") == reply_id),
                        "")
        try:
            if reply_id is None:
                raise replies.ReplyError(no_such("reply", trigger.get("reply")))
            with ctx.db.write.begin() as session:
                found = outbox.reply(session, reply_id)
                if found is None or not _may_act(principal, found):
                    raise replies.ReplyError(_("reply {id} does not exist or is not in your teams").format(
                        id=reply_id))
                kind = str(trigger.get("type"))
                if kind == "outbox-cancel":
                    stored = "cancelled from the outbox"  # untranslated: the audit event's reason, stored as is
                    replies.cancel(session, reply_id, principal.name, stored)
                else:
                    outbox.person_checked(session, reply_id, principal.name, kind == "outbox-posted", given(0),
                                          given(1))
            alert = (_("Reply {id}: done.").format(id=reply_id), "success", True)
        except replies.ReplyError as exc:
            alert = (str(exc), "danger", True)
    with ctx.db.read() as session:
        latest = reply_views.change_marker(session)
        if latest == marker and alert[0] is dash.no_update:
            raise PreventUpdate
        listed = _list(session, principal)
    return (latest, listed, *alert)
