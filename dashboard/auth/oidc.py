"""``/login/oidc`` and ``/login/oidc/callback``: optional sign-in through an OpenID Connect provider.

Authlib's Flask client runs the authorization-code flow with state, nonce and PKCE (S256); the
state, nonce and code verifier wait in the signed session cookie between the two requests. On
the way back the ID token is checked before anyone is signed in: its signature against the
provider's published keys (JWKS), its issuer (the configured VIGIE_OIDC_ISSUER), its audience
(our client id), its nonce and its expiry. Authlib checks the audience only when asked, so the
claims options below ask for issuer and audience explicitly.

Accounts are never made here, and never found by a name: the ID token's issuer and subject (``iss``,
``sub``: the one identifier a provider promises never to reassign, where ``preferred_username`` or
``email`` can be changed by their holder) must be bound to an active account by an admin
(``vigie users add NAME --role R --oidc-subject SUB`` or ``vigie users link-oidc NAME SUB``). An
identity bound to nobody (accounts made before bindings existed included) is refused with a page
showing its subject and the command to bind it, a ``login.failed`` audit event and a log line naming
the VIGIE_OIDC_USERNAME_CLAIM claim as a hint for the admin (never as a match). A refusal, a provider
error, a forged or stale state, a token that does not verify or a provider that cannot be reached
each end on a short page linking back to /login, and each writes a ``login.failed`` audit event;
the details go to the log, never to the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, redirect, render_template_string, request, session
from joserfc.errors import JoseError

from config.auth import OidcConfig
from dashboard.auth.login import audit, safe_next, sign_in
from dashboard.context import current
from i18n import _, current_reader
from models.users import sso_account

log = logging.getLogger("vigie.oidc")

SCOPE = "openid profile email"  # untranslated: OpenID Connect scopes
TIMEOUT_SECONDS = 10  # every call to the provider (discovery, keys, token)
LEEWAY_SECONDS = 60  # clock skew allowed on exp / iat / nbf
NEXT_KEY = "oidc_next"
STATE_PREFIX = "_state_vigie_"  # where Authlib keeps state, nonce and code verifier in the session
ERROR_CODE = re.compile(r"[a-z_]{1,40}")  # an OAuth error code; anything else from the URL is not shown

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }} · Vigie</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/00-bootstrap-5.3.9.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 520px; margin-top: 10vh">
<h1 class="h3 mb-3">Vigie</h1>
<div class="alert alert-danger" id="oidc-error">{{ message }}</div>
<a class="btn btn-primary" id="oidc-back" href="/login?next={{ next|urlencode }}">{{ back }}</a>
</main></body></html>"""  # untranslated: a template, its words are given by _page()


class SignInRefused(Exception):
    """The sign-in cannot go on; ``message`` is shown to the user (in the browser's language: ``_()``
    where raised), ``why`` goes to the audit trail (English)."""

    def __init__(self, message: str, why: str, status: int, actor: str = "?") -> None:
        super().__init__(message)
        self.message, self.why, self.status, self.actor = message, why, status, actor


def _page(message: str, status: int, target: str = "/") -> Response:
    html = render_template_string(PAGE, lang=current_reader().language, title=_("Single sign-on"), message=message,
                                  back=_("Back to sign-in"), next=target)
    return Response(html, status=status, mimetype="text/html")


def _claims_options(config: OidcConfig) -> dict[str, Any]:
    # Built afresh per call: Authlib pops entries from the dict it is given.
    return {"iss": {"essential": True, "value": config.issuer},
            "aud": {"essential": True, "value": config.client_id}}


def _metadata(client: Any, config: OidcConfig) -> dict[str, Any]:
    """The provider's discovery document (fetched once, then kept), checked against our settings."""
    try:
        metadata: dict[str, Any] = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("OpenID Connect provider %s unreachable: %s", config.issuer, type(exc).__name__)
        raise SignInRefused(_("The single sign-on provider cannot be reached right now; try again later."),
                            "provider unreachable", 502) from exc
    if str(metadata.get("issuer", "")).rstrip("/") != config.issuer:
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
        log.error("OpenID Connect: %s/.well-known/openid-configuration names issuer %r; check VIGIE_OIDC_ISSUER",
                  config.issuer, metadata.get("issuer"))
        raise SignInRefused(_("Single sign-on is misconfigured (issuer mismatch); ask an admin."),
                            "issuer mismatch", 502)
    if "_vigie_checked" not in metadata:
        # Never accept an unsigned ID token, whatever the provider advertises.
        algs = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        metadata["id_token_signing_alg_values_supported"] = [a for a in algs if str(a).lower() != "none"]
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" not in methods and "client_secret_post" in methods:
            client.client_kwargs["token_endpoint_auth_method"] = "client_secret_post"
        metadata["_vigie_checked"] = True
    return metadata


def _identity(userinfo: dict[str, Any] | None, config: OidcConfig) -> tuple[str, str]:
    """(subject, name hint) of a verified ID token: the subject is what is matched; the hint (the
    VIGIE_OIDC_USERNAME_CLAIM claim) only helps an admin see who was refused."""
    if not userinfo:
        raise SignInRefused(_("The single sign-on provider sent no ID token; ask an admin."), "no id_token", 502)
    subject = userinfo.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        log.warning("OpenID Connect: an ID token from %s has no sub claim", config.issuer)
        raise SignInRefused(_("The single sign-on provider sent no subject (‘sub’ claim); ask an admin."),
                            "no sub claim", 403)
    hint = userinfo.get(config.username_claim)
    return subject, hint.strip().lower()[:100] if isinstance(hint, str) else ""


def _verified_identity(client: Any, config: OidcConfig) -> tuple[str, str]:
    """(subject, name hint) proven by this callback's code and ID token, or SignInRefused."""
    error = request.args.get("error")
    if error:
        code = error if ERROR_CODE.fullmatch(error) else "error"
        raise SignInRefused(_("The single sign-on provider did not sign you in ({code}).").format(code=code),
                            f"provider: {code}", 403)
    _metadata(client, config)
    try:
        token = client.authorize_access_token(claims_options=_claims_options(config), leeway=LEEWAY_SECONDS)
    except MismatchingStateError as exc:
        raise SignInRefused(_("This sign-in was not started here or has expired; please sign in again."),
                            "missing or unknown state", 400) from exc
    except OAuthError as exc:  # the token endpoint said no (bad code, bad client secret…)
        log.warning("OpenID Connect token request refused: %s", exc.error)
        raise SignInRefused(_("The single sign-on provider refused the sign-in; please sign in again."),
                            f"token endpoint: {exc.error}", 400) from exc
    except requests.RequestException as exc:
        log.warning("OpenID Connect provider %s unreachable: %s", config.issuer, type(exc).__name__)
        raise SignInRefused(_("The single sign-on provider cannot be reached right now; try again later."),
                            "provider unreachable", 502) from exc
    except (JoseError, AuthlibBaseError, ValueError) as exc:  # signature, issuer, audience, nonce, expiry
        log.warning("OpenID Connect ID token refused: %s: %s", type(exc).__name__, exc)
        raise SignInRefused(_("The single sign-on answer could not be verified; please sign in again."),
                            f"id_token refused: {type(exc).__name__}", 400) from exc
    return _identity(token.get("userinfo"), config)


def _account(config: OidcConfig, subject: str, hint: str) -> tuple[int, str, int]:
    """(id, name, session epoch) of the active account bound to (issuer, ``subject``); SignInRefused otherwise."""
    with current().db.write.begin() as db_session:
        user, why = sso_account(db_session, config.issuer, subject)
        if user is not None:
            return user.id, user.name, user.session_epoch
    actor = f"oidc:{subject}"[:200]
    if why == "account disabled":
        raise SignInRefused(_("This account is disabled."), why, 403, actor=actor)
    log.warning("OpenID Connect: refused sub=%r of %s (its %s claim says %r): no account is bound to this "
                "identity; an admin binds it with `vigie users link-oidc NAME SUBJECT`",
                subject, config.issuer, config.username_claim, hint)
    command = f"vigie users link-oidc NAME {subject}"  # untranslated: a command line
    raise SignInRefused(_("Your single sign-on identity (subject {subject}) is not bound to a Vigie account; "
                          "ask an admin to run `{command}`.").format(subject=repr(subject), command=command),
                        why, 403, actor=actor)


def register_oidc(server: Flask, config: OidcConfig, public_url: str) -> None:
    oauth = OAuth(server)
    client = oauth.register(
        name="vigie",
        server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
        client_id=config.client_id,
        client_secret=config.client_secret.reveal(),
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": TIMEOUT_SECONDS},
    )
    redirect_uri = f"{public_url}/login/oidc/callback"

    def start() -> Response:
        target = safe_next(request.args.get("next"))
        for key in [k for k in session if k.startswith(STATE_PREFIX)]:
            session.pop(key)  # one sign-in in flight per browser: keeps the cookie small
        session[NEXT_KEY] = target
        try:
            _metadata(client, config)
            response: Response = client.authorize_redirect(redirect_uri=redirect_uri)
        except SignInRefused as refused:
            return _page(refused.message, refused.status, target)
        except requests.RequestException:
            return _page(_("The single sign-on provider cannot be reached right now; try again later."), 502,
                         target)
        return response

    def callback() -> Response:
        target = safe_next(session.pop(NEXT_KEY, None))
        try:
            subject, hint = _verified_identity(client, config)
            user_id, user_name, epoch = _account(config, subject, hint)
        except SignInRefused as refused:
            audit(refused.actor, "login.failed",
                  {"method": "oidc", "address": request.remote_addr or "", "why": refused.why})
            return _page(refused.message, refused.status, target)
        sign_in(user_id, user_name, epoch, "oidc")
        return redirect(target)  # type: ignore[return-value]

    view: Callable[[], Response]
    for rule, endpoint, view in (("/login/oidc", "vigie_oidc_start", start),
                                 ("/login/oidc/callback", "vigie_oidc_callback", callback)):
        server.add_url_rule(rule, endpoint, view, methods=["GET"])
    try:  # read the provider's discovery document now, so a wrong issuer shows in the log at start
        _metadata(client, config)
    except SignInRefused:
        pass  # already logged; sign-in retries the provider and explains itself on the page
