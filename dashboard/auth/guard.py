"""The login guard: every Flask route and every Dash callback is checked before it runs.

`install(app)` registers a ``before_request`` hook. Each route endpoint has a policy in
`ROUTE_POLICY` (an endpoint with none is refused: fail closed, and the route × role matrix
test names it). Pages are checked against the roles their `dash.register_page(..., roles=...)`
names, both when the page is requested and when its layout is built. Each Dash callback
names its roles with `@guarded(...)` (placed under `@callback`); a POST to
``/_dash-update-component`` for a callback the principal may not run is answered 403 before
Dash reads anything, and the wrapper checks again when it runs. Team-level checks (an agent
sees its teams only) are made inside the callbacks with `dashboard.auth.policy`.

A principal is a user signed in through the login page or OpenID Connect (the session
cookie holds the user id, the account's session epoch and the sign-in and last-seen times,
checked against the database on every request) or a wall screen signed in with a kiosk
token (``/wall?kiosk=TOKEN``; the token is checked on every request, so revoking it ends
the screen's session at its next tick). A kiosk token is read on the wall's address only, and
only when no person is signed in in this browser: a person opening a kiosk link keeps their own
session (the token is ignored). Each kiosk sign-in (not each request) is a ``kiosk.login`` audit
event naming the screen and the client's address. A kiosk session reaches the wall, its updates
and the files it loads, nothing else (the kiosk role is named by the wall page and its callbacks only).
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import dash
from dash.exceptions import PreventUpdate
from flask import Flask, Response, current_app, g, jsonify, redirect, render_template_string, request, session

from dashboard.auth.policy import ALL_ROLES, KIOSK, SUMMARY_READERS, Principal, allowed, can_read_team
from dashboard.context import current
from i18n import _, current_reader
from models import users
from models.audit_log import record_event
from models.tables import utcnow

PUBLIC = "public"  # no sign-in: static files, the login pages, signed webhooks
PAGE = "page"  # a Dash page: the roles its register_page names
CALLBACK = "callback"  # /_dash-update-component: the roles of the callback asked for
ROUTE_POLICY: dict[str, str | tuple[str, ...]] = {
    "_dash_assets.static": PUBLIC,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": PUBLIC,
    "/_favicon.ico": PUBLIC,
    "vigie_hook": PUBLIC,  # its HMAC signature is its authentication (dashboard/hooks.py)
    "vigie_login": PUBLIC,
    "vigie_logout": PUBLIC,
    "vigie_oidc_start": PUBLIC,
    "vigie_oidc_callback": PUBLIC,
    "/_dash-layout": ALL_ROLES,
    "/_dash-dependencies": ALL_ROLES,
    "/_reload-hash": ALL_ROLES,
    "/_dash-update-component": CALLBACK,
    "vigie_audit_csv": ("compliance", "admin"),
    "vigie_audit_jsonl": ("compliance", "admin"),
    "vigie_summary_pdf": SUMMARY_READERS,
    "vigie_summary_csv": SUMMARY_READERS,
    "vigie_archive_export_zip": ("compliance",),
    "vigie_healthz": PUBLIC,  # answers "ok" and nothing else (dashboard/ops.py)
    "vigie_readyz": PUBLIC,  # ready or not, and which check failed: no data, no names
    "vigie_metrics": ("admin",),  # or a scraper's bearer token, VIGIE_METRICS_TOKEN (`_check`)
    "/": PAGE,
    "/<path:path>": PAGE,
}
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."  # Dash Pages: builds the page asked for
ROUTER_ROLES = ALL_ROLES  # the page's own roles are checked by its wrapped layout
REFRESH_SEEN = timedelta(seconds=60)  # the session's last-seen time is rewritten at most this often

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal | None:
    return g.get("vigie_principal")


def guarded(*roles: str) -> Callable[[F], F]:
    """Name the roles that may run a callback. Put it under ``@callback``: the guard reads the
    roles before the request reaches Dash, and the wrapper refuses to run for anyone else."""
    unknown = [r for r in roles if r not in ALL_ROLES]
    if unknown or not roles:
        raise ValueError(f"guarded(): unknown roles {unknown or 'none given'}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not allowed(current_principal(), roles):
                raise PreventUpdate
            return fn(*args, **kwargs)

        wrapper.vigie_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def callback_roles(app: dash.Dash, output: str) -> tuple[str, ...] | None:
    """The roles of the callback answering ``output``; None when it names none (refused)."""
    if output == ROUTER_OUTPUT:
        return ROUTER_ROLES
    entry = app.callback_map.get(output)
    fn = entry.get("callback") if entry else None
    while fn is not None:
        roles = getattr(fn, "vigie_roles", None)
        if roles is not None:
            return tuple(roles)
        fn = getattr(fn, "__wrapped__", None)
    return None


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(<[^>]+>)", template.rstrip("/") or "/")
    return re.compile("".join("[^/]+" if p.startswith("<") else re.escape(p) for p in parts) + "/?")


def page_for_path(path: str) -> dict[str, Any] | None:
    for page in dash.page_registry.values():
        template = page.get("path_template") or page["path"]
        if _template_regex(template).fullmatch(path):
            return page
    return None


def _path_team(page: dict[str, Any], path: str) -> str | None:
    """The ``<team>`` of a page path like /queue/<team>, if the page has one."""
    template = page.get("path_template") or ""
    if "<team>" not in template:
        return None
    parts, names = path.rstrip("/").split("/"), template.rstrip("/").split("/")
    return next((p for p, n in zip(parts, names, strict=False) if n == "<team>"), None)


def page_roles(page: dict[str, Any]) -> tuple[str, ...] | None:
    roles = page.get("roles")
    return tuple(roles) if roles else None


def _wrap_layouts() -> None:
    """Every page layout refuses to build for a principal its page does not name."""
    for page in dash.page_registry.values():
        layout = page["layout"]
        if getattr(layout, "vigie_checked", False):
            continue
        if not callable(layout):
            raise TypeError(f"page {page['module']}: layout must be a function (it is checked per request)")

        page["layout"] = _checked_layout(layout, page)


def _checked_layout(layout: Callable[..., Any], page: dict[str, Any]) -> Callable[..., Any]:
    def checked(*args: Any, **kwargs: Any) -> Any:
        roles = page_roles(page)
        if roles is None or not allowed(current_principal(), roles):
            return forbidden_notice()
        return layout(*args, **kwargs)

    checked.vigie_checked = True  # type: ignore[attr-defined]
    return checked


def forbidden_notice(message: str | None = None) -> Any:
    """The refusal shown in place of a page (in the reader's language; by default: the role's)."""
    import dash_bootstrap_components as dbc

    return dbc.Alert(message or _("Your role does not give access to this page."), color="danger", id="access-denied")


def load_principal() -> Principal | None:
    """The principal of this request, from its session cookie; None when signed out or expired."""
    ctx = current()
    now = utcnow()
    if "kiosk_id" in session:
        with ctx.db.lookup() as db_session:
            kiosk = users.kiosk_by_id(db_session, int(session["kiosk_id"]))
        # The token's hash, not only the row: a token made again for the same screen name does not
        # bring back the sessions of the revoked one.
        if kiosk is None or kiosk.revoked_at is not None or kiosk.token_sha256 != session.get("kiosk_sha"):
            session.clear()
            return None
        return Principal(f"kiosk:{kiosk.name}", KIOSK)
    if "uid" not in session:
        return None
    auth = ctx.settings.auth
    try:
        login_at = datetime.fromisoformat(session["login_at"])
        seen_at = datetime.fromisoformat(session["seen_at"])
    except (KeyError, TypeError, ValueError):
        session.clear()
        return None
    if now - seen_at > timedelta(minutes=auth.session_idle_minutes) or \
            now - login_at > timedelta(hours=auth.session_max_hours):
        session.clear()
        g.vigie_expired = True
        return None
    with ctx.db.lookup() as db_session:
        user = users.user_by_id(db_session, int(session["uid"]))
    if user is None or not user.active or user.session_epoch != session.get("epoch"):
        session.clear()
        return None
    if now - seen_at > REFRESH_SEEN:
        session["seen_at"] = now.isoformat()
    return Principal(user.name, user.role, tuple(user.teams or ()), user.language, user.timezone)


KIOSK_PATH = "/wall"  # the one page a kiosk link signs in on


def _kiosk_sign_in(token: str, present: Principal | None) -> Principal | None:
    """The wall screen signed in by ``token``; None when the token is not a live one. A browser whose
    kiosk session already holds this token stays as it is (one audit event per sign-in, not per load)."""
    if present is not None and present.is_kiosk and session.get("kiosk_sha") == users.token_sha256(token):
        return present
    ctx = current()
    with ctx.db.write.begin() as db_session:
        kiosk = users.kiosk_by_token(db_session, token)
        if kiosk is None:
            return None
        users.mark_kiosk_used(db_session, kiosk.id)
        kiosk_id, name, sha = kiosk.id, kiosk.name, kiosk.token_sha256
        record_event(db_session, f"kiosk:{name}", "kiosk.login",
                     after={"kiosk": name, "address": request.remote_addr or ""})
    session.clear()
    session.permanent = True
    session["kiosk_id"], session["kiosk_sha"] = kiosk_id, sha
    return Principal(f"kiosk:{name}", KIOSK)


def scraper_token_ok() -> bool:
    """The request carries ``Authorization: Bearer <VIGIE_METRICS_TOKEN>`` (compared in constant time)."""
    token = current().settings.ops.metrics_token
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")  # untranslated: a header
    if token is None or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.reveal().encode())


def _refuse(status: int, message: str) -> Response:
    """A JSON refusal, for programs (Dash's updates, exports): its message stays English."""
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _refuse_page(message: str) -> Response:
    """A person's browser asked for a page it may not see: a readable page, not JSON, in their language."""
    body = render_template_string(
        '<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }} · Vigie</title>'
        '<link rel="stylesheet" href="/assets/00-bootstrap-5.3.9.min.css"></head><body class="container mt-5">'
        '<div class="alert alert-danger" id="access-denied">{{ message }}</div>'
        '<a href="/" class="btn btn-primary">{{ back }}</a></body></html>',  # untranslated: a template
        lang=current_reader().language, title=_("Not allowed"), message=message, back=_("Back to the overview"))
    return Response(body, status=403, mimetype="text/html")


def _check() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no such route: Flask answers 404 and runs nothing
    policy = ROUTE_POLICY.get(endpoint)
    if policy is None:
        return _refuse(403, f"route {endpoint} has no access policy")  # untranslated: for programs (JSON)
    if policy == PUBLIC:
        return None
    if endpoint == "vigie_metrics" and scraper_token_ok():
        return None
    principal = load_principal()
    token = request.args.get("kiosk")
    # A kiosk link signs in on the wall only, and never over a person's session (the token is ignored).
    if token and policy == PAGE and request.path.rstrip("/") == KIOSK_PATH and \
            (principal is None or principal.is_kiosk):
        principal = _kiosk_sign_in(token, principal)
        if principal is None:
            # Read by the person setting up the screen: in the browser's language.
            return _refuse(401, _("This kiosk link is not valid (revoked or mistyped); ask for a new one."))
    g.vigie_principal = principal
    if principal is None:
        if policy == PAGE:
            note = "&expired=1" if g.get("vigie_expired") else ""
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/')}{note}")  # type: ignore[return-value]
        return _refuse(401, "sign in first")  # untranslated: for programs (JSON)
    if policy == PAGE:
        page = page_for_path(request.path)
        roles = page_roles(page) if page else ALL_ROLES
        if roles is None or principal.role not in roles:
            return _refuse_page(_("Your role does not give access to this page."))
        team = _path_team(page, request.path) if page else None
        if team is not None and not can_read_team(principal, team):
            return _refuse_page(_("You do not work for this team."))
        return None
    if policy == CALLBACK:
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        roles = callback_roles(current_app.extensions["vigie.dash"], output) if isinstance(output, str) else None
        if roles is None or principal.role not in roles:
            return _refuse(403, "your role may not run this update")  # untranslated: for programs (JSON)
        return None
    if principal.role not in policy:
        return _refuse(403, "your role does not give access to this address")  # untranslated: for programs
    return None


def install(app: dash.Dash, server: Flask) -> None:
    auth = server.extensions["vigie"].settings.auth
    server.extensions["vigie.dash"] = app
    server.secret_key = auth.secret_key.reveal()
    server.config.update(
        SESSION_COOKIE_NAME="vigie_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # untranslated: a cookie setting
        SESSION_COOKIE_SECURE=auth.secure_cookies,
        # Kiosk sessions last until revoked; users' sessions end by the times kept in them.
        PERMANENT_SESSION_LIFETIME=timedelta(days=400),
    )
    server.before_request(_check)
    _wrap_layouts()
