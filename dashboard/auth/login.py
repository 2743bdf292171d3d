"""``/login`` and ``/logout``: the local sign-in form (argon2 passwords, `models.users`).

Failed sign-ins are slowed down (`models.throttle`, in the database: shared by every worker) by
client address and by account name, never locked out; every failure gets the one answer `FAILED`
after the same work (an argon2 check).

The form carries a per-session CSRF token. A successful sign-in starts a fresh session
(no session fixation) holding the user id, the account's session epoch and the times
the guard checks; sign-in, failure and sign-out each write an audit event. ``next`` only
ever sends to a path of this site.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, render_template_string, request, session

from dashboard.context import current
from i18n import N_, _, current_reader
from models.audit_log import record_event
from models.tables import utcnow
from models.throttle import attempt_succeeded, begin_attempt
from models.users import authenticate, end_sessions, spend_a_password_check

log = logging.getLogger("vigie.login")
# Every failed sign-in gets this answer, whatever failed (unknown name, wrong password, disabled account,
# an address or account slowed down by `models.throttle`): the page tells nobody which names exist.
# Translated where shown (`_(FAILED)`): the page is in the browser's language (no account is known yet).
FAILED = N_("Sign-in failed: check the user name and password. After several failed tries, each new try "
            "must wait a little longer (at most a few minutes).")

# The page's texts come from `_texts()`, in the reader's language.
PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ text.title }} · Vigie</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/00-bootstrap-5.3.9.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 420px; margin-top: 10vh">
<h1 class="h3 mb-3">Vigie</h1>
{% if notice %}<div class="alert alert-info" id="login-notice">{{ notice }}</div>{% endif %}
{% if error %}<div class="alert alert-danger" id="login-error">{{ error }}</div>{% endif %}
<form method="post" action="/login" class="card card-body">
  <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
  <label class="form-label" for="login-name">{{ text.name }}</label>
  <input class="form-control mb-2" id="login-name" name="name" autocomplete="username" required autofocus
         value="{{ name }}" maxlength="100">
  <label class="form-label" for="login-password">{{ text.password }}</label>
  <input class="form-control mb-3" id="login-password" name="password" type="password"
         autocomplete="current-password" required maxlength="1000">
  <button class="btn btn-primary" id="login-submit" type="submit">{{ text.submit }}</button>
</form>
{% if oidc %}<a class="btn btn-outline-secondary w-100 mt-3" id="login-oidc"
   href="/login/oidc?next={{ next|urlencode }}">{{ text.sso }}</a>{% endif %}
</main></body></html>"""  # untranslated: a template, its words are given by _texts()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (``//evil``, ``https://…``, ``/\\evil``, and
    the same with a tab or newline inside, which browsers drop)."""
    target = (target or "").strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target.replace("\\", "/"))
    if not target.startswith("/") or parts.scheme or parts.netloc or target.replace("\\", "/").startswith("//"):
        return "/"
    return target


def audit(actor: str, action: str, detail: dict[str, Any] | None = None) -> None:
    with current().db.write.begin() as db_session:
        record_event(db_session, actor, action, after=detail)


def sign_in(user_id: int, name: str, epoch: int, how: str) -> None:
    """Start a fresh session for a user whose identity was just proven (password or OpenID Connect)."""
    session.clear()
    now = utcnow().isoformat()
    session.permanent = True
    session.update(uid=user_id, epoch=epoch, login_at=now, seen_at=now, csrf=secrets.token_urlsafe(24))
    audit(name, "login", {"method": how, "address": request.remote_addr or ""})


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _texts() -> dict[str, str]:
    """The sign-in page's words, in the reader's language (the browser's: nobody is signed in yet)."""
    return {"title": _("Sign in"), "name": _("User name"), "password": _("Password"), "submit": _("Sign in"),
            "sso": _("Sign in with single sign-on")}


def _form(error: str = "", name: str = "", status: int = 200) -> Response:
    notice = ""
    if request.args.get("expired"):
        notice = _("Your session ended; sign in again.")
    elif request.args.get("signed_out"):
        notice = _("You are signed out.")
    html = render_template_string(PAGE, lang=current_reader().language, text=_texts(), error=error, notice=notice,
                                  name=name, csrf=csrf_token(),
                                  next=safe_next(request.values.get("next")),
                                  oidc=current().settings.auth.oidc is not None)
    return Response(html, status=status, mimetype="text/html")


def login() -> Response:
    if request.method == "GET":
        return _form()
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, str(session.get("csrf", ""))):
        return _form(_("The form expired; please sign in again."), status=400)
    address = request.remote_addr or ""  # the client's, behind trusted proxies (dashboard/proxies.py)
    name = (request.form.get("name") or "").strip().lower()[:100]
    password = request.form.get("password") or ""
    now = utcnow()
    with current().db.write.begin() as db_session:
        # Counted before the check, with the throttle's rows locked until this commits: parallel
        # guesses queue up and each sees the wait the ones before it started (models/throttle.py).
        attempt = begin_attempt(db_session, address, name, now)
        if attempt.wait:
            # Slowed down: the password is not checked (the same work is done) and nothing is audited
            # per attempt; the failure that started the wait wrote a ``login.throttled`` event.
            spend_a_password_check(password)
            return _form(_(FAILED), name=name, status=401)
        user, why = authenticate(db_session, name, password)
        found = (user.id, user.name, user.session_epoch) if user else None
        if found is None:
            record_event(db_session, name or "?", "login.failed", after={"address": address, "why": why})
            for key in attempt.started:
                record_event(db_session, "system", "login.throttled", after={"key": key})
                log.warning("sign-in: %s is slowed down after repeated failures", key)
        else:
            attempt_succeeded(db_session, attempt)
    if found is None:
        return _form(_(FAILED), name=name, status=401)
    sign_in(found[0], found[1], found[2], "password")
    return redirect(safe_next(request.form.get("next")))  # type: ignore[return-value]


def logout() -> Response:
    """Sign out (POST with the session's token): every session of the account ends, copies of the
    cookie included (its session epoch moves)."""
    from dashboard.auth.guard import load_principal

    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, str(session.get("csrf", ""))):
        return redirect("/")  # type: ignore[return-value]  # a link from elsewhere signs nobody out
    principal = load_principal()
    if principal is not None and not principal.is_kiosk:
        with current().db.write.begin() as db_session:
            end_sessions(db_session, principal.name)
        audit(principal.name, "logout")
    session.clear()
    return redirect("/login?signed_out=1")  # type: ignore[return-value]


def register_login(server: Flask) -> None:
    server.add_url_rule("/login", "vigie_login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "vigie_logout", logout, methods=["POST"])
