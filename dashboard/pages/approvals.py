"""Approvals: compliance decides the replies and posts waiting for it.

Three lists: waiting (oldest first, each with the item it answers, its writer and team, how long
it has waited against the approval SLA, why it waits and a word diff against the template it came
from), expired (waited past ``expire_hours``: the writer edits it to submit it again) and the 50
most recent decisions. Approving or rejecting (a reason required) goes through
`models.replies`, which refuses whoever wrote or edited the reply (four eyes): its message is
shown as it is. The page asks every few seconds whether any reply changed (one cheap query) and
rebuilds the lists only then.

Every text here (post, reply, names, reasons) is untrusted and shown as plain text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import can_read_team
from dashboard.components.names import team_name
from dashboard.components.outbound import (
    diff_spans,
    hits_text,
    minutes_text,
    reason_text,
    short,
    sla_label,
    sla_state,
)
from dashboard.components.when import due, number, when
from dashboard.context import current
from i18n import N_, _, ngettext
from models import outbox, replies, reply_views
from models.compose import fill, with_disclosure, word_diff
from models.ids import no_such, parse_id
from models.replies import status_name
from models.reply_rules import kind_name
from models.tables import utcnow

APPROVERS: tuple[str, ...] = ("compliance", "admin")


def _page_title(**_kw: Any) -> str:
    return _("Approvals") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/approvals", title=_page_title, name="Approvals", roles=APPROVERS,
                   nav={"order": 25, "label": N_("Approvals")})
TICK_MS = 5000
DECIDED_SHOWN = 50


def build_header(waiting: int, oldest: datetime | None, now: datetime, sla_minutes: int) -> str:
    """The header line: N waiting, the oldest's wait, the SLA."""
    if not waiting:
        return _("Nothing waiting. SLA {sla}.").format(sla=minutes_text(sla_minutes))
    waited = max(0, int((now - oldest).total_seconds() // 60)) if oldest else 0
    return ngettext("{count} waiting, oldest waiting for {waited}, SLA {sla}.",
                    "{count} waiting, oldest waiting for {waited}, SLA {sla}.", waiting).format(
        count=number(waiting), waited=minutes_text(waited), sla=minutes_text(sla_minutes))


def build_item(reply: Any, mention: Any) -> Any:
    """The item a reply answers: a link to its page, network, author, the start of the post."""
    if reply.kind == "post" or mention is None:
        return html.Div(_("New post on {network} (source {source})").format(
            network=reply.network, source=reply.source_name or "—"), className="small")
    author = mention.author_handle or mention.author_name or _("unknown author")
    return html.Div([html.A(_("mention {id}").format(id=mention.id), href=f"/mention/{mention.id}"),
                     f" · {mention.network} · {author}: ",
                     html.Span(short(mention.text), className="text-muted")], className="small")


def build_diff(reply: Any, version: Any, disclosure: str | None) -> Any:
    """The reply against the template it came from (placeholders filled), or a note for free text."""
    if version is None:
        return html.Div(_("free text, no template"), className="small text-muted")
    base = with_disclosure(fill(version.body, reply.values or {}).text.strip(), disclosure)
    return html.Div([html.Div(_("Against template version {version} ({title}):").format(version=version.version,
                                                                                        title=version.title),
                              className="small text-muted"),
                     html.Div(diff_spans(word_diff(base, reply.text)), className="vigie-diff")])


def build_waiting_card(reply: Any, mention: Any, version: Any, reason: str | None, now: datetime,
                       sla_minutes: int, disclosure: str | None) -> Any:
    sla = sla_state(reply.submitted_at, now, sla_minutes)
    why = [reason_text(reason, reply.policy)]
    if reply.screening:
        why.append(_("screening: {hits}").format(hits=hits_text(reply.screening)))
    deadline = reply.submitted_at + timedelta(minutes=sla_minutes) if reply.submitted_at else None
    return dbc.Card(dbc.CardBody([
        html.Div([html.B(_("{kind} {id}").format(kind=kind_name(reply.kind).capitalize(), id=reply.id)),
                  " · " + _("{network} · team {team} · written by {author}").format(
                      network=reply.network, team=team_name(reply.team), author=reply.author),
                  dbc.Badge(_("{state} · {waited} of {sla}").format(state=sla_label(sla),
                                                                   waited=minutes_text(sla.minutes),
                                                                   sla=minutes_text(sla_minutes)),
                            color=sla.colour, className="ms-2", id=f"approvals-sla-{reply.id}")]),
        html.Div([_("Waiting since"), " ", when(reply.submitted_at, now), " · ", _("approval due"), " ",
                  due(deadline, now)], className="small text-muted"),
        build_item(reply, mention),
        html.Div(_("Why it waits: {why}").format(why=" · ".join(why)), className="small mt-1"),
        html.P(reply.text, className="vigie-detail-text mt-2 mb-1"),
        build_diff(reply, version, disclosure),
        dbc.Textarea(id={"type": "approvals-reason", "reply": reply.id}, maxLength=2000, className="my-2",
                     placeholder=_("Reason (required to reject; the writer reads it)")),
        # the hash of the text shown: approving a text edited since is refused (never approved unseen)
        dcc.Store(id={"type": "approvals-sha", "reply": reply.id}, data=reply.text_sha256),
        dbc.Button(_("Approve"), id={"type": "approvals-approve", "reply": reply.id}, color="success", size="sm",
                   className="me-2"),
        dbc.Button(_("Reject"), id={"type": "approvals-reject", "reply": reply.id}, color="danger", size="sm"),
    ]), className="mb-2", id=f"approvals-reply-{reply.id}")


def build_expired(rows: list[tuple[Any, Any]], now: datetime) -> Any:
    if not rows:
        return html.P(_("None."), className="text-muted")
    body = [html.Tr([html.Td(str(r.id)), html.Td(kind_name(r.kind)), html.Td(r.network), html.Td(team_name(r.team)),
                     html.Td(r.author), html.Td(when(r.submitted_at, now)), html.Td(build_item(r, m)),
                     html.Td(short(r.text, 120))]) for r, m in rows]
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", _("Kind"), _("Network"), _("Team"), _("Writer"),
                                                     _("Submitted"), _("Answers"), _("Text"))]))
    return dbc.Table([head, html.Tbody(body)], size="sm", id="approvals-expired-table")


def build_decided(decisions: list[reply_views.Decision], now: datetime) -> Any:
    if not decisions:
        return html.P(_("No decision yet."), className="text-muted")
    body = [html.Tr([html.Td(when(d.at, now)), html.Td(_("approved") if d.action == "reply.approve" else
                                                       status_name("rejected")),
                     html.Td(d.actor), html.Td(str(d.reply_id)),
                     html.Td(d.reply.author if d.reply else "—"), html.Td(short(d.reply.text, 100) if d.reply else ""),
                     html.Td(d.reason or "")]) for d in decisions]
    head = html.Thead(html.Tr([html.Th(h) for h in (_("When"), _("Decision"), _("By"), "#", _("Writer"), _("Text"),
                                                     _("Reason"))]))
    return dbc.Table([head, html.Tbody(body)], size="sm", id="approvals-decided-table")


def _lists(session: Any) -> tuple[list[Any], str]:
    """The three lists and the header line, read in one session."""
    ctx, principal, now = current(), current_principal(), utcnow()
    config = ctx.settings.outbound
    waiting = [(r, m) for r, m in outbox.waiting(session) if r.team is None or can_read_team(principal, r.team)]
    why = reply_views.reasons(session, [r.id for r, _m in waiting])
    versions = reply_views.template_versions(session, [r.template_version_id for r, _m in waiting])
    cards = [build_waiting_card(r, m, versions.get(r.template_version_id or 0), why.get(r.id), now,
                                config.sla_minutes, config.disclosure(r.brand, r.network, r.language))
             for r, m in waiting]
    header = build_header(outbox.counts(session).get("pending", 0), outbox.oldest_waiting_at(session), now,
                          config.sla_minutes)
    lists = [
        html.H4(_("Waiting for approval"), className="mt-3"),
        html.Div(cards or html.P(_("Nothing waits for approval."), className="text-muted"), id="approvals-waiting"),
        html.H4(_("Expired (waited over {hours}: the writer edits to submit again)").format(
            hours=minutes_text(config.expire_hours * 60)), className="mt-4"),
        html.Div(build_expired(outbox.by_status(session, ("expired",), limit=100), now), id="approvals-expired"),
        html.H4(_("Recently decided"), className="mt-4"),
        html.Div(build_decided(reply_views.recent_decisions(session, DECIDED_SHOWN), now), id="approvals-decided"),
    ]
    return lists, header


def layout(**_query: Any) -> Any:
    with current().db.read() as session:
        marker = reply_views.change_marker(session, MARKED)
        lists, header = _lists(session)
    return html.Div([
        dcc.Interval(id="approvals-tick", interval=TICK_MS),
        dcc.Store(id="approvals-marker", data=marker),
        html.H2(_("Approvals")),
        html.P(header, id="approvals-header", className="lead"),
        dbc.Alert(id="approvals-alert", is_open=False, dismissable=True, duration=10000),
        html.Div(lists, id="approvals-lists"),
    ])


def _decide(action: str, reply_id: int, reason: str | None, shown_sha256: str | None) -> tuple[str, str]:
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    try:
        with ctx.db.write.begin() as session:
            found = outbox.reply(session, reply_id)
            if found is None or (found.team is not None and not can_read_team(principal, found.team)):
                raise replies.ReplyError(_("reply {id} does not exist").format(id=reply_id))
            if action == "approve":
                if not isinstance(shown_sha256, str):
                    raise replies.ReplyError(_("reload the page: the text you approve must be the text shown"))
                replies.approve(session, reply_id, principal.name, reason, expected_sha256=shown_sha256)
            else:
                replies.reject(session, reply_id, principal.name, reason or "")
    except replies.ReplyError as exc:
        return str(exc), "danger"
    return (_("Reply {id} approved: queued for sending.") if action == "approve"
            else _("Reply {id} rejected.")).format(id=reply_id), "success"


MARKED = ("pending", "expired")  # the states the page lists: the marker ignores the sender's work


@callback(
    Output("approvals-marker", "data"),
    Output("approvals-lists", "children"),
    Output("approvals-header", "children"),
    Output("approvals-alert", "children"),
    Output("approvals-alert", "color"),
    Output("approvals-alert", "is_open"),
    Input("approvals-tick", "n_intervals"),
    Input({"type": "approvals-approve", "reply": ALL}, "n_clicks"),
    Input({"type": "approvals-reject", "reply": ALL}, "n_clicks"),
    State({"type": "approvals-reason", "reply": ALL}, "value"),
    State({"type": "approvals-sha", "reply": ALL}, "data"),
    State("approvals-marker", "data"),
    prevent_initial_call=True,
)
@guarded(*APPROVERS)
def update_approvals(_n: int | None, _approve: list[int | None], _reject: list[int | None],
                     _reasons: list[str | None], _shas: list[str | None], marker: str | None) -> tuple[Any, ...]:
    """A tick rebuilds the lists when a reply changed; a click approves or rejects one reply."""
    trigger = dash.ctx.triggered_id
    alert: tuple[Any, Any, Any] = (no_update, no_update, no_update)
    if isinstance(trigger, dict):
        if not any(t.get("value") for t in dash.ctx.triggered):
            raise PreventUpdate  # buttons appearing with a rebuilt list, not a click
        reply_id = parse_id(trigger.get("reply"))
        action = "approve" if trigger.get("type") == "approvals-approve" else "reject"
        reasons = {item["id"].get("reply"): item.get("value") for item in (dash.ctx.states_list[0] or [])
                   if isinstance(item, dict) and isinstance(item.get("id"), dict)}
        shown = {item["id"].get("reply"): item.get("value") for item in (dash.ctx.states_list[1] or [])
                 if isinstance(item, dict) and isinstance(item.get("id"), dict)}
        text, colour = (no_such("reply", trigger.get("reply")), "danger") if reply_id is None else \
            _decide(action, reply_id, reasons.get(reply_id), shown.get(reply_id))
        alert = (text, colour, True)
    with current().db.read() as session:
        latest = reply_views.change_marker(session, MARKED)
        if latest == marker and alert[0] is no_update:
            raise PreventUpdate  # nothing changed: nothing sent
        lists, header = _lists(session)
    return (latest, lists, header, *alert)
