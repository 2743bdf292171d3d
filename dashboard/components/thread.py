"""The item page's thread: the replies to the post, oldest first, each with its state, author,
template, approval and exact text; editing and cancelling one not yet sent.

The page's tick asks only for a stamp of the item's replies (count, newest id, newest change) and
re-renders the thread when it moved. Reply ids from the browser are untrusted: each callback reads
the reply's item from the database and checks the team before showing or changing anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import QUEUE_READERS, WORKERS, Principal, can_read_team, can_work_team
from dashboard.components.links import safe_link
from dashboard.components.reply_rules import rules_for
from dashboard.components.sentence import sentence
from dashboard.components.when import local, when
from dashboard.context import current
from i18n import _
from models import actions, outbox, replies
from models.ids import parse_id
from models.reply_views import ThreadEntry, item_context, thread_entries, thread_stamp
from models.tables import utcnow


def status_label(r: Any, now: datetime) -> tuple[str, str, str | None]:
    """(badge text, colour, detail) of a reply's state, for people to read."""
    status = r.status
    if status == "pending":
        return _("waiting for approval"), "warning", None
    if status == "rejected":
        return _("rejected"), "danger", _("by {name}: {reason}").format(name=r.decided_by or "?",
                                                                        reason=r.decision_reason or "")
    if status == "expired":
        return _("expired"), "secondary", _("nobody decided in time: edit it to submit it again")
    if status == "queued":
        if r.send_after is not None and r.send_after > now:
            return _("scheduled for {time}").format(time=local(r.send_after)), "info", None
        if r.attempts and r.last_error:
            return _("queued, retrying"), "info", r.last_error
        return _("queued"), "info", None
    if status == "sending":
        return _("sending"), "primary", None
    if status == "sent":
        return _("sent"), "success", None
    if status == "failed":
        return _("failed"), "danger", r.last_error
    if status == "unknown":
        return _("outcome unknown — check"), "danger", r.last_error
    if status == "elsewhere":
        return _("answered elsewhere"), "dark", None
    return str(status), "secondary", None


def _origin(e: ThreadEntry) -> str:
    if e.reply.kind == "elsewhere":
        return _("note")
    if e.template_key is None:
        return _("free text")
    return _("template {key} v{version}").format(key=e.template_key, version=e.template_version)


def entry_view(e: ThreadEntry, can_work: bool, now: datetime) -> Any:
    r = e.reply
    label, colour, detail = status_label(r, now)
    head = [dbc.Badge(label, color=colour, className="me-2"),
            html.Span([f"#{r.id} · {r.author} · ", when(r.created_at, now), f" · {_origin(e)}"], className="small")]
    lines: list[Any] = []
    if detail:
        lines.append(html.Div(detail, className="small text-danger" if colour == "danger" else "small text-muted"))
    if r.approved_by:
        lines.append(html.Div(sentence(_("approved by {name}, {time}"), name=r.approved_by,
                                       time=when(r.approved_at, now)), className="small text-muted"))
    elif r.status in ("queued", "sending", "sent") and not r.needs_approval:
        lines.append(html.Div(_("no approval needed (policy {policy})").format(policy=r.policy),
                              className="small text-muted"))
    if r.platform_url or r.status in ("sent", "elsewhere"):
        lines.append(html.Div(sentence(_("link: {link}"), link=safe_link(r.platform_url, link_id=None)),
                              className="small"))
    buttons = []
    if can_work and r.status in replies.EDITABLE:
        buttons.append(dbc.Button(_("Edit"), id={"type": "thread-edit", "reply": r.id}, size="sm", outline=True,
                                  color="primary", className="me-2"))
    if can_work and r.status in replies.CANCELLABLE:
        buttons.append(dbc.Button(_("Cancel"), id={"type": "thread-cancel", "reply": r.id}, size="sm", outline=True,
                                  color="secondary"))
    return html.Div([html.Div(head), *lines, html.Div(r.text, className="vigie-reply-text my-1"),
                     html.Div(buttons) if buttons else None],
                    className="vigie-thread-reply border-top pt-2 mt-2", id=f"thread-reply-{r.id}")


def entries_view(entries: list[ThreadEntry], can_work: bool) -> list[Any]:
    if not entries:
        return [html.P(_("No reply yet."), className="text-muted small")]
    now = utcnow()
    return [entry_view(e, can_work, now) for e in entries]


def render_thread(item_id: int, principal: Principal | None) -> tuple[list[Any], dict[str, Any]]:
    """The thread's children and the page's stamp for it (the caller has checked the team)."""
    with current().db.read() as session:
        ctx = item_context(session, item_id)
        stamp = thread_stamp(session, item_id)
        entries = thread_entries(session, item_id)
        can_work = ctx is not None and can_work_team(principal, ctx.team)
        children = entries_view(entries, can_work)
    return children, {"item": item_id, "stamp": stamp}


def box(item_id: int, principal: Principal | None) -> Any:
    children, state = render_thread(item_id, principal)
    return html.Div([
        html.H4(_("Replies")),
        dcc.Store(id="thread-state", data=state),
        dcc.Store(id="thread-target"),
        html.Div(children, id="thread-list"),
        dbc.Alert(id="thread-alert", is_open=False, dismissable=True, className="mt-2 py-1"),
        dbc.Modal([
            dbc.ModalHeader(dbc.ModalTitle(_("Reply"), id="thread-modal-title")),
            dbc.ModalBody([
                html.Div(id="thread-modal-warning", className="small mb-2"),
                html.Div([dbc.Label(_("Text of the reply"), html_for="thread-edit-text", className="visually-hidden"),
                          dbc.Textarea(id="thread-edit-text", rows=6, maxLength=replies.MAX_TEXT)],
                         id="thread-edit-box"),
                html.Div([dbc.Label(_("Why (optional, kept in the audit trail)"), html_for="thread-cancel-reason",
                                    className="visually-hidden"),
                          dbc.Textarea(id="thread-cancel-reason", maxLength=replies.MAX_NOTE,
                                       placeholder=_("Why (optional, kept in the audit trail)"))],
                         id="thread-cancel-box"),
            ]),
            dbc.ModalFooter(dbc.Button(_("Save"), id="thread-modal-save", color="primary")),
        ], id="thread-modal", is_open=False),
    ], id="thread", className="mb-3")


# --- callbacks -------------------------------------------------------------------------------


def _int(raw: Any) -> int | None:
    return parse_id(raw) if isinstance(raw, int) else None  # ids this page itself put in its components


@callback(
    Output("thread-list", "children"),
    Output("thread-state", "data"),
    Input("mention-tick", "n_intervals"),
    State("thread-state", "data"),
    prevent_initial_call=True,
)
@guarded(*QUEUE_READERS)
def refresh(_n: Any, state: Any) -> tuple[Any, Any]:
    """Re-render the thread only when its stamp moved (one aggregate per tick otherwise)."""
    item_id = _int(state.get("item")) if isinstance(state, dict) else None
    if item_id is None:
        raise PreventUpdate
    principal = current_principal()
    with current().db.read() as session:
        ctx = item_context(session, item_id)
        if ctx is None or not can_read_team(principal, ctx.team):
            raise PreventUpdate
        if thread_stamp(session, item_id) == state.get("stamp"):
            raise PreventUpdate  # unchanged: an empty answer
    return render_thread(item_id, principal)


def _reply_of_worked_item(session: Any, reply_id: int | None, principal: Principal | None) -> Any:
    """The reply, if the principal works its item's team (read from the database); else refused."""
    found = outbox.reply(session, reply_id) if reply_id is not None else None
    item = actions.lock_item(session, found.queue_item_id) if found and found.queue_item_id else None
    if found is None or item is None or not can_work_team(principal, item.team):
        raise replies.ReplyError(_("reply {id} does not exist or is not in your teams").format(id=reply_id))
    return found


def edit_warning(r: Any) -> str:
    if r.approved_by:
        return _("This reply was approved by {name}: saving a change sends it back to compliance when the rules "
                 "say it needs approval.").format(name=r.approved_by)
    if r.status in ("rejected", "expired"):
        return _("Saving submits it again: the rules run on the new text.")
    return _("Saving runs the rules again on the new text (it may have to wait for compliance).")


@callback(
    Output("thread-modal", "is_open"),
    Output("thread-modal-title", "children"),
    Output("thread-modal-warning", "children"),
    Output("thread-edit-text", "value"),
    Output("thread-edit-box", "style"),
    Output("thread-cancel-box", "style"),
    Output("thread-target", "data"),
    Input({"type": "thread-edit", "reply": ALL}, "n_clicks"),
    Input({"type": "thread-cancel", "reply": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def open_modal(_edits: Any, _cancels: Any) -> tuple[Any, ...]:
    """Open the edit (or cancel) dialog for the reply clicked, with its stored text."""
    try:
        trigger = dash.ctx.triggered_id
    except ValueError:  # a malformed pattern id
        raise PreventUpdate from None
    clicked = dash.ctx.triggered[0].get("value") if dash.ctx.triggered else None
    if not isinstance(trigger, dict) or not clicked:
        raise PreventUpdate  # a re-rendered thread brings new buttons, not a click
    mode = "edit" if trigger.get("type") == "thread-edit" else "cancel"
    reply_id = _int(trigger.get("reply"))
    try:
        with current().db.read() as session:
            r = _reply_of_worked_item(session, reply_id, current_principal())
            text, warning, status = r.text, edit_warning(r), status_label(r, utcnow())[0]
    except replies.ReplyError:
        raise PreventUpdate from None
    hidden: dict[str, str] = {"display": "none"}
    shown: dict[str, str] = {}
    target = {"reply": reply_id, "mode": mode}
    if mode == "edit":
        return True, _("Edit reply {id} ({status})").format(id=reply_id, status=status), warning, text, shown, \
            hidden, target
    return True, _("Cancel reply {id} ({status})").format(id=reply_id, status=status), _("It will not be sent."), \
        no_update, hidden, shown, target


@callback(
    Output("thread-alert", "children"),
    Output("thread-alert", "color"),
    Output("thread-alert", "is_open"),
    Output("thread-modal", "is_open", allow_duplicate=True),
    Output("thread-list", "children", allow_duplicate=True),
    Output("thread-state", "data", allow_duplicate=True),
    Input("thread-modal-save", "n_clicks"),
    State("thread-target", "data"),
    State("thread-edit-text", "value"),
    State("thread-cancel-reason", "value"),
    prevent_initial_call=True,
)
@guarded(*WORKERS)
def save(clicks: Any, target: Any, text: Any, reason: Any) -> tuple[Any, ...]:
    """Edit or cancel the reply the dialog was opened for."""
    if not clicks or not isinstance(target, dict) or target.get("mode") not in ("edit", "cancel"):
        raise PreventUpdate
    app, principal = current(), current_principal()
    assert principal is not None  # guarded
    reply_id = _int(target.get("reply"))
    try:
        with app.db.write.begin() as session:
            r = _reply_of_worked_item(session, reply_id, principal)
            item_id = int(r.queue_item_id)
            if target["mode"] == "edit":
                r = replies.edit(session, rules_for(app.settings), r.id, principal.name,
                                 text if isinstance(text, str) else "")
                message = (_("Reply {id} saved: it waits for compliance.") if r.status == "pending"
                           else _("Reply {id} saved: it is queued.")).format(id=r.id)
            else:
                r = replies.cancel(session, r.id, principal.name, reason if isinstance(reason, str) else None)
                message = _("Reply {id} cancelled.").format(id=r.id)
    except replies.ReplyError as exc:
        return _("Not saved: {reason}").format(reason=exc), "danger", True, no_update, no_update, no_update
    children, state = render_thread(item_id, principal)
    return message, "success", True, False, children, state
