"""One mention: its text, author, link, scores, risk flags, why it was routed, history, copies;
the item's actions for those who work its team, and who else has it open ("being viewed by");
the replies to the post (`components.thread`) and, for those who work its team, the Reply panel
(`components.compose`).

Everything from the post (text, names, URL) is untrusted and shown as plain text; the
link is only made clickable for http(s) URLs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from collectors.nlp.sentiment import explain_sentiment
from dashboard.auth.guard import current_principal, forbidden_notice, guarded
from dashboard.auth.policy import QUEUE_READERS, WORKERS, can_read_team, can_work_team
from dashboard.components import compose, corrections, names, thread, why
from dashboard.components.item_actions import ACTIONS, perform
from dashboard.components.links import safe_link
from dashboard.components.sentence import sentence
from dashboard.components.when import due, local, number, when
from dashboard.context import current
from i18n import _, current_reader
from i18n import formats as fmt
from models import presence, queries
from models.corrections import described
from models.ids import parse_id, shown
from models.judgement_tables import ModelScore
from models.labels import label
from models.tables import QueueItem, utcnow


def _page_title(**_kw: Any) -> str:
    return _("Mention") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path_template="/mention/<mention_id>", title=_page_title, name="Mention",
                   roles=QUEUE_READERS)
PRESENCE_MS = 5000
TIME_FIELDS = ("due_at", "at_risk_at", "claimed_at", "escalated_at", "resolved_at")


def _field(label: str, value: Any) -> Any:
    return html.Tr([html.Th(label, className="text-nowrap pe-3"), html.Td(value)])


def _value(key: str, value: Any, teams: dict[str, str]) -> str:
    """A field of the audit trail's snapshots as people read it (times local, keys as words)."""
    if value is None or value == "":
        return "—"
    if key in TIME_FIELDS:
        try:
            return local(datetime.fromisoformat(str(value)).replace(tzinfo=None))
        except ValueError:
            return str(value)
    if key == "status":
        return label("status", str(value))
    if key == "team":
        return teams.get(str(value), str(value))
    return str(value)


def _changes(before: dict[str, Any], after: dict[str, Any], teams: dict[str, str]) -> str:
    change = _("{field}: {before} → {after}")
    return ", ".join(change.format(field=label("field", k), before=_value(k, before.get(k), teams),
                                   after=_value(k, v, teams))
                     for k, v in after.items() if before.get(k) != v)


def _reason(event: Any, teams: dict[str, str]) -> str:
    """An event's reason: as a person wrote it, or a correction (written in English by
    `models.corrections.describe`) in the reader's words."""
    found = described(event.reason) if event.action == "correct" else None
    return corrections.said(*found, teams) if found else str(event.reason or "")


def _history(events: list[Any], teams: dict[str, str]) -> Any:
    if not events:
        return html.P(_("No action yet."), className="text-muted", id="mention-history")
    now = utcnow()
    rows = [
        html.Tr(
            [
                html.Td(when(e.at, now)),
                html.Td(e.actor),
                html.Td(label("action", e.action), className="audit-action"),
                html.Td(_changes(e.before or {}, e.after or {}, teams)),
                html.Td(_reason(e, teams)),
            ]
        )
        for e in events
    ]
    head = html.Thead(html.Tr([html.Th(h, scope="col")
                               for h in (_("When"), _("Who"), _("Action"), _("Change"), _("Reason"))]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, id="mention-history")


def _score(score: float) -> str:
    """A sentiment score with its sign, in the reader's number format: ``+0.35``, ``-0,52``."""
    value = round(float(score), 2)
    return ("+" if value > 0 else "") + number(value)


def _sentiment(m: Any, by_model: Any) -> Any:
    """The shipped model's label and score, the words that moved it most, and the firm's own
    model's beside it when it scored the post (VIGIE_SENTIMENT_MODEL), saying which decided and
    what that changed."""
    # The shipped model's judgement: the post's own row, unless a firm's model decided since migration
    # 0023 (the post then carries that model's, the shipped one is kept beside it).
    kept = by_model is not None and by_model.shipped_label is not None
    shipped_label, shipped_score = ((by_model.shipped_label, by_model.shipped_score) if kept
                                    else (m.sentiment_label, m.sentiment_score))
    shipped = _("{label} ({score})").format(label=label("sentiment", shipped_label), score=_score(shipped_score))
    pushes = _moved(explain_sentiment(m.text, m.language))
    decided = by_model is not None and by_model.decided_by == "model"
    why = [html.Small([_("Words that moved the shipped model: ") if decided else _("Words that moved it: "), *[
        html.Span(f"{word} {_score(push)}", className="me-2 " + ("text-success" if push > 0 else "text-danger"))
        for word, push in pushes]], id="mention-sentiment-why", className="d-block")] if pushes else []
    if by_model is None:
        return html.Div([html.Div(shipped), *why])
    theirs = _("{label} ({score})").format(label=label("sentiment", by_model.label), score=_score(by_model.score))
    if by_model.decided_by == "model":
        line = _("{theirs} by the firm's model {model}, which decided; the shipped model said {shipped}").format(
            theirs=theirs, model=by_model.model, shipped=shipped)
    else:
        line = _("{shipped}; the firm's model {model} agrees: {theirs}").format(
            shipped=shipped, model=by_model.model, theirs=theirs)
    return html.Div([html.Div(line, id="mention-sentiment-model"), *why,
                     html.Small(by_model.outcome, className="text-muted d-block")])


def _explained(session: Any, detail: dict[str, Any]) -> str:
    """The item's routing explanation for the reader: decided on the item's own post (a copy's
    original, ``head``) with that post's model score."""
    head, item = detail["head"], detail["item"]
    by_model = detail["model_score"] if head.id == detail["mention"].id else session.get(ModelScore, head.id)
    return why.explanation(current().settings, item, head, by_model)


def _moved(pushes: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The words that moved the sentiment as the reader reads them, those that read alike counted
    once ("not happy": the negated word and its bigram), strongest first."""
    summed: dict[str, float] = {}
    for word, push in pushes:
        shown = _word(word)
        summed[shown] = summed.get(shown, 0.0) + push
    return sorted(((w, round(p, 2)) for w, p in summed.items() if abs(p) >= 0.05), key=lambda wp: -abs(wp[1]))


def _word(word: str) -> str:
    """A word that moved the sentiment; a negated one (``~word``) as the reader writes it: "not word"."""
    return _("not {word}").format(word=word[1:]) if word.startswith("~") else word


def _decided(m: Any, by_model: Any) -> str:
    """The sentiment label that decided: the firm's model's when it did, else the shipped model's."""
    return str(by_model.label) if by_model is not None and by_model.decided_by == "model" else str(m.sentiment_label)


def _brand(brand: str | None, competitor: bool) -> str:
    if not brand:
        return _("none")
    return _("{brand} (competitor)").format(brand=brand) if competitor else brand


def _records_link(principal: Any, mention_id: int) -> list[Any]:
    """For compliance, who reads the archive: a link to this item's full record history."""
    if principal is None or principal.role != "compliance":
        return []
    return [html.A(_("Records"), href=f"/archive?mention={mention_id}", id="mention-records",
                   className="fs-6 fw-normal ms-3")]


def _route(item: QueueItem | None, teams: dict[str, str], explained: str = "") -> list[Any]:
    if item is None:
        return [html.P(_("Not queued."), className="text-muted")]
    now = utcnow()
    sla = queries.sla_state(item.status, item.due_at, item.at_risk_at, now)
    deadline = _closed(item, now) if item.resolved_at is not None and not sla else \
        sentence(_("Due: {deadline}"), deadline=due(item.due_at, now))
    out = [
        html.P([html.B(teams.get(item.team, item.team)),
                f" · {label('status', item.status)} · {item.assignee or _('unassigned')}"],
               id="mention-status"),
        html.P(explained or item.explanation, id="mention-explanation"),
        html.P([*deadline, *([" · ", _("SLA {state}").format(state=label("sla", sla))] if sla else [])],
               className="text-muted", id="mention-sla"),
    ]
    if item.escalated_at is not None and sla:
        out.append(dbc.Alert(_("Escalated to the lead: {reason}").format(reason=item.escalation_reason or ""),
                             color="danger", className="py-1"))
    elif item.escalated_at is not None:  # closed since: what happened, not an alarm
        out.append(html.P(_("It was escalated to the lead: {reason}").format(reason=item.escalation_reason or ""),
                          className="text-muted small", id="mention-escalated"))
    return out


def _closed(item: QueueItem, now: datetime) -> list[Any]:
    """A closed item: when, and whether within its deadline (a live countdown would read "overdue"
    once the deadline passes, however early it was closed)."""
    assert item.resolved_at is not None
    late = (item.resolved_at - item.due_at).total_seconds()
    verdict = _("within its deadline") if late <= 0 else _("less than a minute after its deadline") if late < 60 \
        else _("{duration} after its deadline").format(duration=fmt.duration(late, current_reader()))
    return [*sentence(_("Closed {when}"), when=when(item.resolved_at, now)), f" ({verdict})"]


def _actions(item: QueueItem, teams: dict[str, str]) -> list[Any]:
    buttons = [("claim", _("Claim"), "primary"), ("release", _("Release item"), "secondary"),
               ("resolve", _("Resolve"), "success"), ("dismiss", _("Dismiss"), "secondary"),
               ("escalate", _("Escalate"), "danger"), ("reroute", _("Reroute"), "warning"),
               ("reopen", _("Reopen"), "info")]
    return [
        html.H4(_("Act")),
        dbc.Label(_("Reason or note"), html_for="mention-reason", className="visually-hidden"),
        dbc.Textarea(id="mention-reason", placeholder=_("Reason or note (required to escalate, reroute, reopen)"),
                     maxLength=2000, className="mb-2"),
        dcc.Dropdown(id="mention-team", placeholder=_("Team to reroute to"), className="mb-2",
                     options=[{"label": name, "value": key} for key, name in teams.items() if key != item.team]),
        html.Div([dbc.Button(label, id={"type": "mention-act", "action": key}, color=colour, size="sm",
                             className="me-2 mb-2") for key, label, colour in buttons]),
        dbc.Alert(id="mention-alert", is_open=False, dismissable=True, duration=8000),
    ]


def layout(mention_id: str | None = None, **_query: Any) -> Any:
    ctx = current()
    wanted = parse_id(mention_id)
    if wanted is None:
        return dbc.Alert(_("No such mention: {value} is not a mention number.").format(value=shown(mention_id)),
                         color="warning")
    with ctx.db.read() as session:
        detail = queries.mention_detail(session, wanted)
        explained = "" if detail is None or detail["item"] is None else _explained(session, detail)
    if detail is None:
        return dbc.Alert(_("Mention {id} does not exist.").format(id=wanted), color="warning")
    m, head, item = detail["mention"], detail["head"], detail["item"]
    principal = current_principal()
    if item is not None and not can_read_team(principal, item.team):
        return forbidden_notice(_("This item belongs to a team you do not work for."))
    terms = m.risk_terms or {}
    flag_names = names.flag_names()
    flags = [
        dbc.Badge(_("{flag}: fired by {words}").format(flag=flag_names.get(flag, flag),
                                                        words=", ".join(terms.get(flag, [])) or "?"),
                  color="danger", className="me-1")
        for flag in m.risk_flags
    ] or [html.Span(_("none"), className="text-muted")]
    teams = {t.key: t.label for t in ctx.settings.teams}
    now = utcnow()
    route = _route(item, teams, explained)
    copy_note = (
        [dbc.Alert(sentence(_("This post is a copy of {mention}."),
                            mention=html.A(_("mention {id}").format(id=head.id), href=f"/mention/{head.id}")),
                   color="info")]
        if head.id != m.id
        else []
    )
    copies = [
        html.Li([html.A(f"{c.network} · {c.author_handle or c.author_name or '?'}", href=f"/mention/{c.id}"),
                 " ", safe_link(c.url)])
        for c in detail["copies"]
    ]
    live = []
    if item is not None:
        live = [dcc.Store(id="mention-item", data={"id": item.id, "changed": detail["mark"]}),
                dcc.Interval(id="mention-tick", interval=PRESENCE_MS)]
    return dbc.Row(
        [
            *live,
            dbc.Col(
                [
                    # The item's number beside the post's: the queue, the actions' messages, the homes'
                    # lists and the audit trail name items by it.
                    html.H3([_("Mention {id}").format(id=m.id),
                             *([html.Small(" · " + _("item {id}").format(id=item.id), className="text-muted",
                                           id="mention-item-number")] if item is not None else []),
                             *_records_link(principal, m.id)]),
                    *copy_note,
                    html.P(m.text, className="vigie-detail-text", id="mention-text"),
                    html.Table(
                        html.Tbody(
                            [
                                _field(_("Author"), f"{m.author_name or ''} {m.author_handle or ''}".strip()
                                       or _("unknown")),
                                _field(_("Followers"), number(m.author_followers) if m.author_followers
                                       else _("unknown")),
                                _field(_("Network"), _("{network} (source {source})").format(
                                    network=m.network, source=detail["source"])),
                                _field(_("Link"), safe_link(m.url)),
                                _field(_("Posted"), when(m.created_at, now, ident="mention-posted")),
                                _field(_("Collected"), when(m.collected_at, now)),
                                _field(_("Language"), m.language),
                                _field(_("Sentiment"), _sentiment(m, detail["model_score"])),
                                _field(_("Brand"), _brand(m.brand, m.is_competitor)),
                                _field(_("Priority"), label("priority", m.priority)),
                                _field(_("Risk flags"), html.Div(flags)),
                            ]
                        ),
                        className="table table-sm",
                    ),
                    *([corrections.section(item, _decided(m, detail["model_score"]), list(m.risk_flags or []), teams)]
                      if item is not None and can_work_team(principal, item.team) else []),
                    *([thread.box(item.id, principal), compose.section(item.id)] if item is not None else []),
                ],
                md=7,
            ),
            dbc.Col(
                [
                    html.Div(id="mention-presence", className="mb-2"),
                    html.H4(_("Why it is here")),
                    html.Div(route, id="mention-route"),
                    *(_actions(item, teams) if item is not None and can_work_team(principal, item.team) else []),
                    html.H4(_("History")),
                    html.Div(_history(detail["events"], teams), id="mention-history-box"),
                    html.H4(_("Copies on other networks")),
                    html.Ul(copies) if copies else html.P(_("None."), className="text-muted"),
                ],
                md=5,
            ),
        ]
    )


@callback(
    Output("mention-presence", "children"),
    Output("mention-route", "children"),
    Output("mention-history-box", "children"),
    Output("mention-item", "data"),
    Input("mention-tick", "n_intervals"),
    State("mention-item", "data"),
)
@guarded(*QUEUE_READERS)
def tick(_n: int | None, state: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Say who else has the item open, note that we do, and refresh the item and its history when either
    changed (`queries.item_mark`)."""
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    now = utcnow()
    with ctx.db.write.begin() as session:
        item_id = parse_id(state.get("id")) if isinstance(state, dict) else None
        item = None if item_id is None else queries.queue_item(session, item_id)
        if item is None or not can_read_team(principal, item.team):
            raise PreventUpdate
        presence.touch(session, item.id, principal.name, now)
        others = [n for n in presence.viewers(session, item.id, now) if n != principal.name]
        mark = queries.item_mark(session, item)
        changed = mark != state.get("changed")
        teams = {t.key: t.label for t in ctx.settings.teams}
        route = _route(item, teams, why.explanation(ctx.settings, item, item.mention, session.get(
            ModelScore, item.mention_id))) if changed else no_update  # (the item's post: a copy's original)
        events = queries.item_events(session, item.id) if changed else None
        new_state = {"id": item.id, "changed": mark}
    note = html.Span(_("Also viewing: {names}").format(names=", ".join(others)), className="vigie-presence") \
        if others else ""
    history = _history(events, teams) if events is not None else no_update
    return note, route, history, (new_state if changed else no_update)


@callback(
    Output("mention-alert", "children"),
    Output("mention-alert", "color"),
    Output("mention-alert", "is_open"),
    Input({"type": "mention-act", "action": dash.ALL}, "n_clicks"),
    State("mention-item", "data"),
    State("mention-reason", "value"),
    State("mention-team", "value"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def act(
    _clicks: list[int | None], state: dict[str, Any], reason: str | None, team: str | None
) -> tuple[Any, str, bool]:
    principal = current_principal()
    assert principal is not None  # guarded
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or trigger.get("action") not in ACTIONS or not any(_clicks):
        raise PreventUpdate
    item_id = state.get("id") if isinstance(state, dict) else None
    outcome = perform(current(), principal, str(trigger["action"]), [item_id], reason=reason, team=team)
    text, colour = outcome.message(str(trigger["action"]))
    return text, colour, True
