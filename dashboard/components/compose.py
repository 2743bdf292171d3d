"""The item page's reply panel: a template from the library (or free text), its placeholders, a
live preview through the reply rules, Send; and "answered elsewhere" for what Vigie cannot post.

The browser sends only the item's id, the template version chosen and the texts typed: the item,
its team, network, brand and source are read from the database in each callback and the team
checked (`can_work_team`) before anything is read or stored. Everything typed or read from a
post (names, template text, values) is shown as plain text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import WORKERS, can_work_team
from dashboard.components.item_actions import perform
from dashboard.components.reply_rules import answerable, rules_for, target_of
from dashboard.components.thread import render_thread
from dashboard.components.when import number
from dashboard.context import current
from i18n import _, ngettext
from models import actions, library, replies
from models.compose import fill
from models.ids import parse_id
from models.reply_views import ItemContext, item_context

KEY = re.compile(r"[0-9a-f]{32}")
DEBOUNCE_MS = 400  # the preview runs once typing pauses, not at every key
MAX_VALUE = 200
MAX_URL = 2000


# --- pure helpers ----------------------------------------------------------------------------


def prefill(names: Sequence[str], author_name: str | None, handle: str | None) -> dict[str, str]:
    """Values known from the post: ``first_name`` (the first word of the author's name) and ``handle``."""
    words = (author_name or "").split()
    known = {"first_name": words[0] if words else "", "handle": (handle or "").strip()}
    return {name: known.get(name, "")[:MAX_VALUE] for name in names}


def template_label(u: library.Usable) -> str:
    return f"{u.category} · {u.title} ({u.language.upper()})"


def template_options(suggested: Sequence[library.Usable]) -> list[dict[str, Any]]:
    return [{"label": template_label(u), "value": u.version_id} for u in suggested]


def values_of(ids: Any, values: Any) -> dict[str, str]:
    """The placeholders' values from the browser's pattern inputs; anything malformed is dropped."""
    if not isinstance(ids, list) or not isinstance(values, list):
        return {}
    out: dict[str, str] = {}
    for ident, value in zip(ids, values, strict=False):
        name = ident.get("name") if isinstance(ident, dict) else None
        if isinstance(name, str) and re.fullmatch(r"[a-z_][a-z0-9_]{0,60}", name):
            out[name] = " ".join(str(value if isinstance(value, str) else "").split())[:MAX_VALUE]
    return out


def text_of(box: Any, values: dict[str, str]) -> str:
    """The box's text with the values filled in (a placeholder without a value stays, and is reported)."""
    text = box if isinstance(box, str) else ""
    return fill(text, values).text if values else text


def version_of(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def why_waiting(checked: replies.Checked, from_template: bool) -> str:
    reasons = []
    if checked.hits:
        reasons.append(_("outbound screening found {words}").format(
            words=", ".join(f"'{h['found']}'" for h in checked.hits)))
    if checked.policy == "all":
        reasons.append(_("policy all: every reply is approved"))
    elif checked.edited:
        reasons.append(_("the template's fixed text was edited"))
    elif checked.policy == "template_only" and not from_template:
        reasons.append(_("free text (policy template_only)"))
    return "; ".join(reasons) or _("policy {policy}").format(policy=checked.policy)


def outcome_line(checked: replies.Checked, from_template: bool) -> tuple[str, str]:
    """(sentence, colour): what pressing Send will do with this text."""
    if checked.problems:
        return _("Cannot be sent: {problems}").format(problems="; ".join(checked.problems)), "danger"
    if checked.needs_approval:
        return _("Waits for compliance: {why}").format(why=why_waiting(checked, from_template)), "warning"
    if from_template:
        return _("Goes out at once (policy {policy}, approved template).").format(policy=checked.policy), "success"
    return _("Goes out at once (policy {policy}, no approval required).").format(policy=checked.policy), "success"


def preview_children(checked: replies.Checked, network: str, from_template: bool) -> list[Any]:
    sentence, colour = outcome_line(checked, from_template)
    over = checked.count > checked.limit
    out: list[Any] = [
        html.Div(_("Will be sent as:"), className="small text-muted"),
        html.Div(checked.text or _("(empty)"), className="vigie-reply-text mb-1", id="compose-final"),
        html.Div(_("{count} / {limit} as {network} counts").format(count=number(checked.count),
                                                                   limit=number(checked.limit), network=network),
                 className="small " + ("text-danger fw-bold" if over else "text-muted"), id="compose-count"),
    ]
    if checked.missing:
        out.append(html.Div(_("Missing: {names}").format(names=", ".join("{{" + n + "}}" for n in checked.missing)),
                            className="small text-danger", id="compose-missing"))
    if checked.hits:
        out.append(html.Div([_("Screening:") + " ", *[dbc.Badge(f"{h['found']} ({h['term']})", color="warning",
                                                         text_color="dark", className="me-1") for h in checked.hits]],
                            className="small", id="compose-hits"))
    out.append(dbc.Alert(sentence, color=colour, className="py-1 px-2 mt-2 mb-0 small", id="compose-outcome"))
    return out


def value_inputs(names: Sequence[str], given: dict[str, str]) -> list[Any]:
    return [dbc.InputGroup([dbc.InputGroupText("{{" + n + "}}"),
                            dbc.Input(id={"type": "compose-value", "name": n}, value=given.get(n, ""),
                                      placeholder=_("required"), maxLength=MAX_VALUE, debounce=DEBOUNCE_MS)],
                           size="sm", className="mb-1") for n in names]


# --- layout ----------------------------------------------------------------------------------


def _elsewhere_form(open_: bool) -> Any:
    form = [
        dbc.Label(_("Link to the answer (http or https, optional)"), html_for="compose-elsewhere-url",
                  className="visually-hidden"),
        dbc.Input(id="compose-elsewhere-url", placeholder=_("Link to the answer (http or https, optional)"),
                  maxLength=MAX_URL, className="mb-1", size="sm"),
        dbc.Label(_("How it was answered (required)"), html_for="compose-elsewhere-note", className="visually-hidden"),
        dbc.Textarea(id="compose-elsewhere-note", placeholder=_("How it was answered (required): a phone call, "
                                                                "a direct message in the platform's app…"),
                     maxLength=replies.MAX_NOTE, className="mb-1"),
        dbc.Button(_("Record the answer"), id="compose-elsewhere-save", color="secondary", size="sm"),
        dbc.Alert(id="compose-elsewhere-alert", is_open=False, dismissable=True, className="mt-2 py-1"),
    ]
    if open_:
        return html.Div([html.H5(_("Answered elsewhere")), *form], id="compose-elsewhere")
    return html.Details([html.Summary(_("Answered elsewhere (a phone call, a message in the platform's app)…")),
                         html.Div(form, className="mt-2")], id="compose-elsewhere", className="mt-3")


def panel(ctx: ItemContext, options: Sequence[library.Usable], can_send: bool) -> Any:
    """The Reply panel for someone who works the item's team (the caller checks that)."""
    # The reply's idempotency key, chosen when the form is drawn: a second click (or a retried
    # request) on Send stores nothing twice, so nothing is posted twice.
    store = dcc.Store(id="compose-item", data={"id": ctx.item_id, "key": uuid.uuid4().hex})
    focus = dcc.Store(id="compose-focus")
    if not can_send:
        note = html.P(_("Posts from this source ({source}) cannot be answered through Vigie: "
                        "answer on the platform, then record it here.").format(source=ctx.source_name or "—"),
                      className="text-muted small")
        return html.Div([store, focus, html.H4(_("Reply")), note, _elsewhere_form(True)], id="reply",
                        className="vigie-reply mb-3")
    choose = dcc.Dropdown(id="compose-template", options=template_options(options), className="mb-2",
                          placeholder=ngettext("Template ({count} fits this item; its language first)",
                                               "Template ({count} fit this item; its language first)",
                                               len(options)).format(count=number(len(options))) if options
                          else _("No approved template fits this item: write free text"))
    label = dbc.Label(_("Reply text"), html_for="compose-text", className="visually-hidden")
    box = dbc.Textarea(id="compose-text", placeholder=_("Write a reply, or choose a template above"), rows=5,
                       maxLength=replies.MAX_TEXT, debounce=DEBOUNCE_MS, className="mb-1")
    hint = html.Div(_("Choosing a template fills this box. Changing its fixed text makes an edited template, "
                      "which waits for compliance (as free text does under the usual policy: the preview says)."),
                    className="small text-muted mb-2", id="compose-hint")
    return html.Div(
        [store, focus, html.H4(_("Reply")), choose, html.Div(id="compose-values", className="mb-2"), label, box,
         hint,
         html.Div(html.Span(_("Write a reply or choose a template."), className="text-muted small"),
                  id="compose-preview", className="mb-2"),
         dbc.Checkbox(id="compose-resolve", label=_("Resolve the item once sent"), value=False, className="small"),
         dbc.Button(_("Send"), id="compose-send", color="primary", disabled=True, className="mt-1"),
         dbc.Alert(id="compose-alert", is_open=False, dismissable=True, className="mt-2 py-1"),
         _elsewhere_form(False)],
        id="reply", className="vigie-reply mb-3")


def section(item_id: int) -> Any:
    """The Reply panel of the item for the signed-in principal (None unless they work its team)."""
    app, principal = current(), current_principal()
    with app.db.read() as session:
        ctx = item_context(session, item_id)
        if ctx is None or not can_work_team(principal, ctx.team):
            return None
        options = library.suggest(library.usable(session), ctx.team, ctx.language, ctx.network, "reply")
    return panel(ctx, options, answerable(app.settings, ctx.source_name))


# --- callbacks -------------------------------------------------------------------------------


def _worked_item(raw: Any) -> ItemContext:
    """The item named by the page's store, read from the database; refused unless the principal works its team."""
    item_id = parse_id(raw.get("id")) if isinstance(raw, dict) else None
    if item_id is None:  # the page's store comes from the browser
        raise PreventUpdate
    app = current()
    with app.db.read() as session:
        found = item_context(session, item_id)
    if found is None or not can_work_team(current_principal(), found.team):
        raise PreventUpdate
    return found


def _usable(session: Any, ctx: ItemContext, version_id: int | None) -> library.Usable | None:
    fits = library.suggest(library.usable(session), ctx.team, ctx.language, ctx.network, "reply")
    return next((u for u in fits if u.version_id == version_id), None)


@callback(
    Output("compose-text", "value"),
    Output("compose-values", "children"),
    Input("compose-template", "value"),
    State("compose-item", "data"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def choose_template(version: Any, item: Any) -> tuple[Any, Any]:
    """Load the chosen template's text into the box, and one input per placeholder."""
    ctx = _worked_item(item)
    if version_of(version) is None:
        return no_update, []
    with current().db.read() as session:
        found = _usable(session, ctx, version_of(version))
    if found is None:
        return no_update, [html.Div(_("This template is no longer usable here."), className="small text-danger")]
    return found.body, value_inputs(found.placeholders, prefill(found.placeholders, ctx.author_name,
                                                                 ctx.author_handle))


@callback(
    Output("compose-preview", "children"),
    Output("compose-send", "disabled"),
    Input("compose-text", "value"),
    Input("compose-template", "value"),
    Input({"type": "compose-value", "name": ALL}, "value"),
    State({"type": "compose-value", "name": ALL}, "id"),
    State("compose-item", "data"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def preview(text: Any, version: Any, values: Any, ids: Any, item: Any) -> tuple[Any, bool]:
    """The text as it will be sent and what Send will do with it (nothing is stored)."""
    ctx = _worked_item(item)
    app, given = current(), values_of(ids, values)
    if not (isinstance(text, str) and text.strip()) and version_of(version) is None:
        return html.Span(_("Write a reply or choose a template."), className="text-muted small"), True
    try:
        with app.db.read() as session:
            checked = replies.check(session, rules_for(app.settings), target_of(ctx, app.settings),
                                    text_of(text, given), version_of(version), given)
    except replies.ReplyError as exc:
        return dbc.Alert(_("Cannot be sent: {problems}").format(problems=exc), color="danger",
                         className="py-1 small"), True
    return preview_children(checked, ctx.network, version_of(version) is not None), bool(checked.problems)


@callback(
    Output("compose-alert", "children"),
    Output("compose-alert", "color"),
    Output("compose-alert", "is_open"),
    Output("compose-text", "value", allow_duplicate=True),
    Output("compose-template", "value"),
    Output("thread-list", "children", allow_duplicate=True),
    Output("thread-state", "data", allow_duplicate=True),
    Output("compose-item", "data"),
    Input("compose-send", "n_clicks"),
    State("compose-text", "value"),
    State("compose-template", "value"),
    State({"type": "compose-value", "name": ALL}, "value"),
    State({"type": "compose-value", "name": ALL}, "id"),
    State("compose-resolve", "value"),
    State("compose-item", "data"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def send(clicks: Any, text: Any, version: Any, values: Any, ids: Any, resolve: Any,
         item: Any) -> tuple[Any, ...]:
    """Store the reply: queued for the sender, or waiting for compliance; optionally resolve the item."""
    if not clicks:
        raise PreventUpdate
    ctx, app, principal = _worked_item(item), current(), current_principal()
    assert principal is not None  # guarded
    given = values_of(ids, values)
    try:
        with app.db.write.begin() as session:
            locked = actions.lock_item(session, ctx.item_id)  # a reroute committing meanwhile cannot slip past
            if locked is None or not can_work_team(principal, locked.team):
                raise replies.ReplyError(_("this item is not in your teams any more"))
            key = item.get("key") if isinstance(item, dict) else None
            reply = replies.compose(session, rules_for(app.settings), principal.name, target_of(ctx, app.settings),
                                    text_of(text, given), version_of(version), given,
                                    key=key if isinstance(key, str) and KEY.fullmatch(key) else None)
            message = (_("Reply {id} waits for compliance.") if reply.status == "pending"
                       else _("Reply {id} is queued: it goes out within seconds.")).format(id=reply.id)
            colour = "warning" if reply.status == "pending" else "success"
    except replies.ReplyError as exc:
        return _("Not sent: {why}").format(why=exc), "danger", True, no_update, no_update, no_update, no_update, \
            no_update
    if resolve is True and colour == "success":
        text_, _c = perform(app, principal, "resolve", [ctx.item_id]).message("resolve")
        message += " " + text_
    elif resolve is True:
        message += " " + _("The item stays open until compliance decides.")
    children, state = render_thread(ctx.item_id, principal)
    fresh = {"id": ctx.item_id, "key": uuid.uuid4().hex}  # the next reply is another reply
    return message, colour, True, "", None, children, state, fresh  # an empty panel: nothing to send twice


@callback(
    Output("compose-elsewhere-alert", "children"),
    Output("compose-elsewhere-alert", "color"),
    Output("compose-elsewhere-alert", "is_open"),
    Output("thread-list", "children", allow_duplicate=True),
    Output("thread-state", "data", allow_duplicate=True),
    Input("compose-elsewhere-save", "n_clicks"),
    State("compose-elsewhere-url", "value"),
    State("compose-elsewhere-note", "value"),
    State("compose-item", "data"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def record_elsewhere(clicks: Any, url: Any, note: Any, item: Any) -> tuple[Any, ...]:
    """Keep an answer made outside Vigie (its link and a note) in the item's thread."""
    if not clicks:
        raise PreventUpdate
    ctx, app, principal = _worked_item(item), current(), current_principal()
    assert principal is not None  # guarded
    try:
        with app.db.write.begin() as session:
            locked = actions.lock_item(session, ctx.item_id)
            if locked is None or not can_work_team(principal, locked.team):
                raise replies.ReplyError(_("this item is not in your teams any more"))
            replies.answered_elsewhere(session, principal.name, target_of(ctx, app.settings),
                                       str(url)[:MAX_URL] if isinstance(url, str) else None,
                                       note if isinstance(note, str) else "")
    except replies.ReplyError as exc:
        return _("Not recorded: {why}").format(why=exc), "danger", True, no_update, no_update
    children, state = render_thread(ctx.item_id, principal)
    return _("Recorded in the thread."), "success", True, children, state


# /mention/<id>#reply (the queue's Reply link) scrolls to the panel and puts the cursor in the box.
clientside_callback(
    """function(_data) {
        if (window.location.hash !== '#reply') { return window.dash_clientside.no_update; }
        setTimeout(function () {
            var panel = document.getElementById('reply');
            if (panel) { panel.scrollIntoView({block: 'start'}); }
            var box = document.getElementById('compose-text') || document.getElementById('compose-elsewhere-note');
            if (box) { box.focus(); }
        }, 50);
        return 1;
    }""",  # untranslated: JavaScript code
    Output("compose-focus", "data"),
    Input("compose-item", "data"),
)
