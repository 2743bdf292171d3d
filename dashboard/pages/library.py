"""Library: the pre-approved reply and post templates, their versions, and compliance's decisions.

Everyone who answers reads it (agents and leads see the templates of their teams); leads,
compliance and admins draft, edit (a new draft version) and retire (a reason required);
compliance and admins approve or reject drafts, never their own (four eyes, enforced by
`models.library.decide`, whose refusal is shown as it is). ``/library?template=ID`` shows one
template's versions, newest first, each with a word diff against the one before.

Template text is untrusted like any text people write: plain components only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from babel.dates import format_date
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import QUEUE_READERS, Principal
from dashboard.components.names import team_name, team_names
from dashboard.components.outbound import diff_spans, short
from dashboard.components.when import when
from dashboard.context import current
from i18n import N_, _, current_reader
from models import library
from models.compose import word_diff
from models.ids import no_such, parse_id
from models.library import version_status
from models.reply_rules import kind_name
from models.tables import utcnow

EDITORS: tuple[str, ...] = ("lead", "compliance", "admin")
APPROVERS: tuple[str, ...] = ("compliance", "admin")


def _page_title(**_kw: Any) -> str:
    return _("Library") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/library", title=_page_title, name="Library", roles=QUEUE_READERS,
                   nav={"order": 27, "label": N_("Library")})
HEADERS = (N_("Key"), N_("Lang."), N_("Kind"), N_("Category"), N_("Title"), N_("In use"), N_("Newest"),
           N_("Expires"), N_("Teams"), N_("Networks"))


def _day(moment: datetime) -> str:
    """A template's expiry: the date typed in the form (stored as that day, 00:00 UTC), in the reader's language."""
    return format_date(moment.date(), format="medium", locale=current_reader().language)


def _all_teams(principal: Principal | None) -> bool:
    return principal is not None and principal.role in ("compliance", "admin")


def may_see(principal: Principal | None, teams: list[Any] | tuple[Any, ...]) -> bool:
    """Agents and leads see the templates naming one of their teams; compliance and admins all."""
    return _all_teams(principal) or (principal is not None and bool(set(teams or ()) & set(principal.teams)))


def may_name(principal: Principal | None, teams: list[Any] | tuple[Any, ...]) -> bool:
    """A lead drafts for its own teams only; compliance and admins for any."""
    return _all_teams(principal) or (principal is not None and principal.role == "lead"
                                     and bool(teams) and set(teams) <= set(principal.teams))


def build_rows(entries: list[dict[str, Any]], language: str | None, category: str | None,
               team: str | None, team_names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The catalogue's rows as plain values, filtered (pure: tested without a browser); teams are
    shown by ``team_names`` (key → name in the reader's language) where it has them."""
    rows, names = [], team_names or {}
    for e in entries:
        v, used = e["latest"], e["in_use"]
        teams, networks = list(v.teams or ()), list(v.networks or ())
        if (language and e["language"] != language) or (category and v.category != category) or \
                (team and team not in teams):
            continue
        rows.append({"id": e["template_id"], "key": e["key"], "language": e["language"], "kind": e["kind"],
                     "category": v.category, "title": v.title,
                     "in_use": _("version {version}").format(version=used.version) if used else _("none approved"),
                     "newest": _("v{version} {status}").format(version=v.version, status=version_status(v.status)),
                     "expires": _day(v.expires_at) if v.expires_at else _("never"),
                     "teams": ", ".join(names.get(t, t) for t in teams),
                     "networks": ", ".join(networks) or _("all networks")})
    return rows


def build_table(rows: list[dict[str, Any]]) -> Any:
    if not rows:
        return html.P(_("No template matches."), className="text-muted")
    body = [html.Tr([*(html.Td(kind_name(r[k]) if k == "kind" else r[k])
                       for k in ("key", "language", "kind", "category", "title", "in_use", "newest", "expires", "teams",
                                 "networks")),
                     html.Td(html.A(_("open"), href=f"/library?template={r['id']}",
                                    title=_("open {key}").format(key=r["key"])))]) for r in rows]
    head = [*(html.Th(_(h)) for h in HEADERS), html.Th(html.Span(_("Open"), className="visually-hidden"))]
    return dbc.Table([html.Thead(html.Tr(head)), html.Tbody(body)], size="sm",
                     hover=True, responsive=True, id="library-catalogue")


def build_versions(versions: list[Any]) -> list[Any]:
    """A template's versions, newest first, each with the diff from the version before it."""
    out, now = [], utcnow()
    for i, v in enumerate(versions):
        older = versions[i + 1] if i + 1 < len(versions) else None
        decided: list[Any] = [" · ", version_status(v.status)]
        if v.decided_by:
            decided += [" ", _("by {name}").format(name=v.decided_by), " ", when(v.decided_at, now)]
        out.append(dbc.Card(dbc.CardBody([
            html.Div([html.B(_("Version {version}").format(version=v.version)), *decided, " · ",
                      _("written by {name}").format(name=v.author), " ", when(v.created_at, now)]),
            html.Div(_("{title} · {category} · teams {teams} · networks {networks} · expires {expires}").format(
                title=v.title, category=v.category, teams=", ".join(team_name(t) for t in v.teams or ()),
                networks=", ".join(v.networks or ()) or _("all networks"),
                expires=_day(v.expires_at) if v.expires_at else _("never")), className="small text-muted"),
            html.Div(_("Reason: {reason}").format(reason=v.decision_reason), className="small")
            if v.decision_reason else None,
            html.P(v.body, className="vigie-detail-text mt-2 mb-1"),
            html.Div([html.Span(_("Changes from version {version}:").format(version=older.version) + " ",
                                className="small text-muted"),
                      *diff_spans(word_diff(older.body, v.body))], className="vigie-diff") if older else None,
        ]), className="mb-2", id=f"library-version-{v.id}"))
    return out


def _drafts(session: Any, principal: Principal | None) -> Any:
    waiting = [(v, t) for v, t in library.drafts_waiting(session) if may_see(principal, v.teams)]
    if not waiting:
        return html.P(_("No draft waits for a decision."), className="text-muted", id="library-drafts")
    cards, now = [], utcnow()
    for v, t in waiting:
        before = next((o for o in library.versions(session, t.id, limit=50) if o.version == v.version - 1), None)
        cards.append(dbc.Card(dbc.CardBody([
            html.Div([html.B(_("{key} ({language}, {kind}) version {version}").format(
                key=t.key, language=t.language, kind=kind_name(t.kind), version=v.version)),
                      " · " + _("{title} · drafted by {name}").format(title=v.title, name=v.author), " ",
                      when(v.created_at, now)]),
            html.P(v.body, className="vigie-detail-text mt-2 mb-1"),
            html.Div([html.Span(_("Changes from version {version}:").format(version=before.version) + " ",
                                className="small text-muted"),
                      *diff_spans(word_diff(before.body, v.body))], className="vigie-diff") if before else
            html.Div(_("a new template"), className="small text-muted"),
            dbc.Textarea(id={"type": "library-reason", "version": v.id}, maxLength=2000, className="my-2",
                         placeholder=_("Reason (required to reject)")),
            dbc.Button(_("Approve"), id={"type": "library-approve", "version": v.id}, color="success", size="sm",
                       className="me-2"),
            dbc.Button(_("Reject"), id={"type": "library-reject", "version": v.id}, color="danger", size="sm"),
        ]), className="mb-2"))
    return html.Div(cards, id="library-drafts")


def _form(ctx: Any, principal: Principal | None, editing: Any | None) -> Any:
    teams = [t for t in ctx.settings.teams if _all_teams(principal) or (principal and t.key in principal.teams)]
    networks = sorted(ctx.settings.outbound.length_limits)
    title = (_("Edit {key} ({language}): a new draft version").format(key=editing["key"],
                                                                       language=editing["language"]) if editing
             else _("Draft a new template"))
    latest = editing["latest"] if editing else None
    fields = [
        dbc.Row([dbc.Col(dbc.Input(id="library-key", placeholder=_("key, e.g. blocked-card"), maxLength=80,
                                   disabled=editing is not None, value=editing["key"] if editing else None)),
                 dbc.Col(dcc.Dropdown(id="library-language", options=list(library.LANGUAGES),
                                      value=editing["language"] if editing else "en", disabled=editing is not None)),
                 dbc.Col(dcc.Dropdown(id="library-kind",
                                      options=[{"label": kind_name(k), "value": k} for k in library.KINDS],
                                      value=editing["kind"] if editing else "reply", disabled=editing is not None))],
                className="mb-2"),
        dbc.Row([dbc.Col(dbc.Input(id="library-category", placeholder=_("category"), maxLength=60,
                                   value=latest.category if latest else None)),
                 dbc.Col(dbc.Input(id="library-title", placeholder=_("title"), maxLength=200,
                                   value=latest.title if latest else None))],
                className="mb-2"),
        dbc.Label(_("Template text"), html_for="library-body", className="visually-hidden"),
        dbc.Textarea(id="library-body", placeholder=_("Text, with placeholders like {example}").format(
            example="{{first_name}}"), rows=4, maxLength=library.MAX_BODY, className="mb-2",
                     value=latest.body if latest else None),
        dbc.Row([dbc.Col(dcc.Dropdown(id="library-teams", multi=True, placeholder=_("teams that may use it"),
                                      options=[{"label": t.label, "value": t.key} for t in teams],
                                      value=list(latest.teams or ()) if latest else [])),
                 dbc.Col(dcc.Dropdown(id="library-networks", multi=True, placeholder=_("networks (none: all)"),
                                      options=networks, value=list(latest.networks or ()) if latest else [])),
                 dbc.Col(dbc.Input(id="library-expires", type="date", placeholder=_("expires (optional)"),
                                   value=latest.expires_at.date().isoformat() if latest and latest.expires_at
                                   else None))], className="mb-2"),
        dbc.Button(_("Save as a draft"), id="library-save", color="primary", size="sm"),
        dbc.Alert(id="library-save-alert", is_open=False, dismissable=True, className="mt-2"),
    ]
    return html.Div([html.H4(title, className="mt-4"), *fields], id="library-form")


def _detail(ctx: Any, session: Any, principal: Principal | None, template_id: int) -> list[Any]:
    entry = next((e for e in library.catalogue(session) if e["template_id"] == template_id), None)
    if entry is None or not may_see(principal, entry["latest"].teams):
        return [dbc.Alert(_("Template {id} does not exist or is not for your teams.").format(id=template_id),
                          color="warning",
                          id="library-missing")]
    out: list[Any] = [html.H3(f"{entry['key']} ({entry['language']}, {kind_name(entry['kind'])})",
                              id="library-detail"),
                      html.A(_("← all templates"), href="/library"),
                      *build_versions(library.versions(session, template_id))]
    if principal is not None and principal.role in EDITORS and entry["latest"].status != "retired" \
            and may_name(principal, entry["latest"].teams):
        out += [_form(ctx, principal, entry),
                html.H4(_("Retire"), className="mt-4"),
                dbc.Textarea(id="library-retire-reason", placeholder=_("Why it is retired (required)"), maxLength=2000,
                             className="mb-2"),
                dbc.Button(_("Retire this template"), id="library-retire", color="danger", size="sm"),
                dbc.Alert(id="library-retire-alert", is_open=False, dismissable=True, className="mt-2")]
    return out


def layout(template: str | None = None, **_query: Any) -> Any:
    ctx, principal = current(), current_principal()
    wanted = parse_id(template) if template else None
    with ctx.db.read() as session:
        drafts = _drafts(session, principal) if principal and principal.role in APPROVERS else None
        entries = [e for e in library.catalogue(session) if may_see(principal, e["latest"].teams)]
        detail = _detail(ctx, session, principal, wanted) if wanted is not None else None
        if template and wanted is None:  # ?template= from the URL: not a template id
            detail = [dbc.Alert(f"{no_such('template', template).capitalize()}.", color="warning",
                                id="library-missing")]
    categories = sorted({e["latest"].category for e in entries})
    head: list[Any] = [dcc.Store(id="library-template", data=wanted), html.H2(_("Library"))]
    if drafts is not None:
        head += [html.H4(_("Drafts waiting for a decision")), drafts,
                 dbc.Alert(id="library-decide-alert", is_open=False, dismissable=True)]
    if detail is not None:
        return html.Div([*head, *detail])
    filters = dbc.Row([
        dbc.Col(dcc.Dropdown(id="library-filter-language", options=list(library.LANGUAGES),
                             placeholder=_("language"))),
        dbc.Col(dcc.Dropdown(id="library-filter-category", options=categories, placeholder=_("category"))),
        dbc.Col(dcc.Dropdown(id="library-filter-team", placeholder=_("team"),
                             options=[{"label": t.label, "value": t.key} for t in ctx.settings.teams])),
    ], className="my-2")
    form = _form(ctx, principal, None) if principal is not None and principal.role in EDITORS else None
    return html.Div([*head, html.H4(_("Templates")), filters,
                     html.Div(build_table(build_rows(entries, None, None, None, team_names())), id="library-table"),
                     form])


@callback(Output("library-table", "children"), Input("library-filter-language", "value"),
          Input("library-filter-category", "value"), Input("library-filter-team", "value"), prevent_initial_call=True)
@guarded(*QUEUE_READERS)
def filter_library(language: str | None, category: str | None, team: str | None) -> Any:
    principal = current_principal()
    with current().db.read() as session:
        entries = [e for e in library.catalogue(session) if may_see(principal, e["latest"].teams)]
        return build_table(build_rows(entries, language, category, team, team_names()))


def _expiry(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw)[:10])
    except ValueError:
        raise library.LibraryError(_("the expiry is a date like {example}").format(example="2026-12-31")) from None


@callback(Output("library-save-alert", "children"), Output("library-save-alert", "color"),
          Output("library-save-alert", "is_open"), Input("library-save", "n_clicks"),
          State("library-template", "data"), State("library-key", "value"), State("library-language", "value"),
          State("library-kind", "value"), State("library-category", "value"), State("library-title", "value"),
          State("library-body", "value"), State("library-teams", "value"), State("library-networks", "value"),
          State("library-expires", "value"), prevent_initial_call=True)
@guarded(*EDITORS)
def save_template(clicks: int | None, template_id: Any, key: str | None, language: str | None, kind: str | None,
                  category: str | None, title: str | None, body: str | None, teams: Any, networks: Any,
                  expires: str | None) -> tuple[str, str, bool]:
    """Draft a new template, or a new draft version of the one shown."""
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    if not clicks:
        raise PreventUpdate
    teams = [str(t) for t in teams] if isinstance(teams, list) else []
    networks = [str(n) for n in networks] if isinstance(networks, list) else []
    try:
        if not may_name(principal, teams):
            raise library.LibraryError(_("you may name only the teams you work for"))
        draft = library.Draft(str(title or ""), str(category or ""), str(body or ""), tuple(teams), tuple(networks),
                              _expiry(expires))
        with ctx.db.write.begin() as session:
            if template_id is None:
                version = library.create(session, principal.name, str(key or ""), str(language or ""),
                                         str(kind or ""), draft, ctx.settings.team_keys)
            else:
                wanted = parse_id(template_id)
                if wanted is None:
                    raise library.LibraryError(no_such("template", template_id))
                latest = library.versions(session, wanted, limit=1)
                if not latest or not may_name(principal, latest[0].teams):
                    raise library.LibraryError(_("this template does not exist or is not for your teams"))
                version = library.edit(session, principal.name, wanted, draft, ctx.settings.team_keys)
            number = version.version
    except (library.LibraryError, ValueError) as exc:
        return str(exc), "danger", True
    return _("Saved as draft version {version}: compliance approves it before it is used.").format(version=number), \
        "success", True


@callback(Output("library-retire-alert", "children"), Output("library-retire-alert", "color"),
          Output("library-retire-alert", "is_open"), Input("library-retire", "n_clicks"),
          State("library-template", "data"), State("library-retire-reason", "value"), prevent_initial_call=True)
@guarded(*EDITORS)
def retire_template(clicks: int | None, template_id: Any, reason: str | None) -> tuple[str, str, bool]:
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    if not clicks or template_id is None:
        raise PreventUpdate
    try:
        wanted = parse_id(template_id)
        if wanted is None:
            raise library.LibraryError(no_such("template", template_id))
        with ctx.db.write.begin() as session:
            latest = library.versions(session, wanted, limit=1)
            if not latest or not may_name(principal, latest[0].teams):
                raise library.LibraryError(_("this template does not exist or is not for your teams"))
            library.retire(session, principal.name, wanted, reason or "")
    except (library.LibraryError, ValueError) as exc:
        return str(exc), "danger", True
    return _("Retired: no reply or post uses it any more."), "success", True


@callback(Output("library-decide-alert", "children"), Output("library-decide-alert", "color"),
          Output("library-decide-alert", "is_open"), Input({"type": "library-approve", "version": ALL}, "n_clicks"),
          Input({"type": "library-reject", "version": ALL}, "n_clicks"),
          State({"type": "library-reason", "version": ALL}, "value"), prevent_initial_call=True)
@guarded(*APPROVERS)
def decide_version(_approve: list[int | None], _reject: list[int | None], _reasons: list[str | None],
                   ) -> tuple[str, str, bool]:
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    version_id = parse_id(trigger.get("version"))
    if version_id is None:
        kind = "template version"  # untranslated: a key of models.ids.NO_SUCH
        return no_such(kind, trigger.get("version")), "danger", True
    reasons = {item["id"].get("version"): item.get("value") for item in (dash.ctx.states_list[0] or [])
               if isinstance(item, dict) and isinstance(item.get("id"), dict)}
    approve = trigger.get("type") == "library-approve"
    try:
        with ctx.db.write.begin() as session:
            version = library.decide(session, principal.name, version_id, approve, reasons.get(version_id))
            text = _("Version {version} of {key} {status}.").format(version=version.version, key=version.template.key,
                                                                  status=version_status(version.status))
    except library.LibraryError as exc:
        return str(exc), "danger", True
    return short(text, 300) + " " + _("Reload the page to see the lists updated."), "success", True
