"""``/login`` and ``/logout``: the local sign-in form (argon2 passwords, `models.users`).

The form carries a per-session CSRF token. A successful sign-in starts a fresh session
(no session fixation) holding the user id, the account's session epoch and the times
the guard checks; sign-in, failure and sign-out each write an audit event. ``next`` only
ever sends to a path of this site.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, render_template_string, request, session

from dashboard.context import current
from models.audit_log import record_event
from models.tables import utcnow
from models.users import authenticate, end_sessions

MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=10)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Vigie</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/00-bootstrap-5.3.9.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 420px; margin-top: 10vh">
<h1 class="h3 mb-3">Vigie</h1>
{% if notice %}<div class="alert alert-info" id="login-notice">{{ notice }}</div>{% endif %}
{% if error %}<div class="alert alert-danger" id="login-error">{{ error }}</div>{% endif %}
<form method="post" action="/login" class="card card-body">
  <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
  <label class="form-label" for="login-name">User name</label>
  <input class="form-control mb-2" id="login-name" name="name" autocomplete="username" required autofocus
         value="{{ name }}" maxlength="100">
  <label class="form-label" for="login-password">Password</label>
  <input class="form-control mb-3" id="login-password" name="password" type="password"
         autocomplete="current-password" required maxlength="1000">
  <button class="btn btn-primary" id="login-submit" type="submit">Sign in</button>
</form>
{% if oidc %}<a class="btn btn-outline-secondary w-100 mt-3" id="login-oidc"
   href="/login/oidc?next={{ next|urlencode }}">Sign in with single sign-on</a>{% endif %}
</main></body></html>"""


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


def _form(error: str = "", name: str = "", status: int = 200) -> Response:
    notice = ""
    if request.args.get("expired"):
        notice = "Your session ended; sign in again."
    elif request.args.get("signed_out"):
        notice = "You are signed out."
    html = render_template_string(PAGE, error=error, notice=notice, name=name, csrf=csrf_token(),
                                  next=safe_next(request.values.get("next")),
                                  oidc=current().settings.auth.oidc is not None)
    return Response(html, status=status, mimetype="text/html")


class AddressThrottle:
    """Failed sign-ins per client address, in this process: past `MAX_FAILURES_PER_ADDRESS` within
    `THROTTLE_WINDOW`, the address is refused without a password check and without an audit row
    each (one ``login.throttled`` event per window). It bounds guessing across many accounts and
    audit-trail flooding; the per-account lock (`models.users`) bounds guessing one account, in
    every process. With several workers, each keeps its own count."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failures: dict[str, list[float]] = {}

    def _recent(self, address: str, now: float) -> list[float]:
        kept = [t for t in self.failures.get(address, []) if now - t < THROTTLE_WINDOW.total_seconds()]
        if kept:
            self.failures[address] = kept
        else:
            self.failures.pop(address, None)
        return kept

    def blocked(self, address: str) -> bool:
        with self.lock:
            return len(self._recent(address, time.monotonic())) >= MAX_FAILURES_PER_ADDRESS

    def failed(self, address: str) -> bool:
        """Count a failure; True when it is the one that blocks the address."""
        with self.lock:
            now = time.monotonic()
            recent = self._recent(address, now)
            if len(self.failures) > 10_000:  # many addresses: forget the quiet ones first
                self.failures = dict(list(self.failures.items())[-5_000:])
            self.failures[address] = [*recent, now]
            return len(recent) + 1 == MAX_FAILURES_PER_ADDRESS


def _throttle() -> AddressThrottle:
    from flask import current_app

    return current_app.extensions.setdefault("vigie.login_throttle", AddressThrottle())  # type: ignore[no-any-return]


def login() -> Response:
    if request.method == "GET":
        return _form()
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, str(session.get("csrf", ""))):
        return _form("The form expired; please sign in again.", status=400)
    address = request.remote_addr or ""
    throttle = _throttle()
    if throttle.blocked(address):
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        return _form(f"Too many failed sign-ins from this address; try again in {minutes} minutes.", status=429)
    name = (request.form.get("name") or "").strip().lower()[:100]
    password = request.form.get("password") or ""
    with current().db.write.begin() as db_session:
        user, why = authenticate(db_session, name, password)
        found = (user.id, user.name, user.session_epoch) if user else None
    if found is None:
        audit(name or "?", "login.failed", {"address": address, "why": why})
        if throttle.failed(address):
            audit("system", "login.throttled", {"address": address})
        return _form(why, name=name, status=401)
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
