"""OpenID Connect sign-in end to end: the Flask test client plays the browser, a real local provider
(tests/oidc_provider.py) answers over loopback, and Authlib checks its ID tokens.

Dash registers page callbacks globally (only the first app of a process gets them), so nothing here
relies on a callback: the test client follows the redirects by hand.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from config.settings import Settings, load_settings
from models.db import Database
from models.tables import AuditEvent, User
from models.users import UserError, add_user, link_oidc, set_active
from tests.kit import vigie_env
from tests.oidc_provider import Misbehaviour, OidcProvider
from tests.support import VIGIE, free_port

PUBLIC_URL = "http://127.0.0.1:8050"
REDIRECT_URI = f"{PUBLIC_URL}/login/oidc/callback"
CLIENT_ID = "vigie-dashboard"
CLIENT_SECRET = "never-shown-client-secret-4f1c"


def _settings(db: Database, issuer: str | None, secret: str) -> Settings:
    env = {"VIGIE_SECRET_KEY": "k" * 40, "VIGIE_PUBLIC_URL": PUBLIC_URL}
    if issuer is not None:
        env.update(VIGIE_OIDC_ISSUER=issuer, VIGIE_OIDC_CLIENT_ID=CLIENT_ID, VIGIE_OIDC_CLIENT_SECRET=secret)
    return load_settings(env=env, database_url=db.engine.url.render_as_string(hide_password=False),
                         worker_id="test-worker")


def _client(db: Database, issuer: str | None, secret: str = CLIENT_SECRET) -> FlaskClient:
    from dashboard.app import create_app

    app = create_app(_settings(db, issuer, secret), db)
    return app.server.test_client()


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI) as running:
        yield running


def _bound_user(db: Database, provider: OidcProvider, name: str, role: str = "admin") -> None:
    """An OpenID-Connect-only account bound to the provider's subject for ``name`` ("sub-NAME")."""
    with db.write.begin() as session:
        add_user(session, name, role, [], None, ["service"])
        link_oidc(session, name, provider.issuer, f"sub-{name}")


@pytest.fixture
def client(db: Database, provider: OidcProvider) -> FlaskClient:
    _bound_user(db, provider, "alice")
    _bound_user(db, provider, "dora")
    with db.write.begin() as session:
        set_active(session, "dora", False)
    return _client(db, provider.issuer)


def _to_provider(client: FlaskClient, provider: OidcProvider, next_path: str = "/") -> str:
    start = client.get(f"/login/oidc?next={quote(next_path, safe='')}")
    assert start.status_code == 302, start.get_data(as_text=True)
    location = start.headers["Location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    return location


def _from_provider(client: FlaskClient, provider: OidcProvider, authorize_url: str) -> tuple[int, str, str]:
    """The provider's answer fed back to the callback: (status, Location or "", page text)."""
    with httpx.Client(trust_env=False, timeout=10) as http:  # loopback only
        answer = http.get(authorize_url)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT_URI
    response = client.get(f"{back.path}?{back.query}")
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def _sign_in(client: FlaskClient, provider: OidcProvider, next_path: str = "/") -> tuple[int, str, str]:
    return _from_provider(client, provider, _to_provider(client, provider, next_path))


def _signed_in(client: FlaskClient) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _audits(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_known_user_signs_in(client: FlaskClient, provider: OidcProvider, db: Database) -> None:
    assert not _signed_in(client)
    authorize_url = _to_provider(client, provider, "/audit?page=2")
    asked = parse_qs(urlsplit(authorize_url).query)
    # Authlib sends state, nonce and a PKCE challenge; the redirect URI comes from VIGIE_PUBLIC_URL.
    assert asked["state"][0] and asked["nonce"][0] and asked["code_challenge_method"] == ["S256"]
    assert asked["redirect_uri"] == [REDIRECT_URI] and asked["client_id"] == [CLIENT_ID]
    assert "openid" in asked["scope"][0].split()

    status, location, _ = _from_provider(client, provider, authorize_url)
    assert (status, location) == (302, "/audit?page=2")
    assert _signed_in(client)
    logins = _audits(db, "login")
    assert [(e.actor, e.after["method"]) for e in logins] == [("alice", "oidc")]
    assert provider.token_requests == ["client_secret_basic"]
    with db.read() as session:
        assert session.scalars(select(User.last_login_at).where(User.name == "alice")).one() is not None


def test_a_name_claim_never_signs_in_an_account(client: FlaskClient, provider: OidcProvider, db: Database,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """The provider lets its users choose preferred_username: someone calls themself "admin" (an
    account made before bindings existed, unbound) or "alice" (bound to another subject)."""
    with db.write.begin() as session:
        add_user(session, "admin", "admin", [], None, ["service"])  # unbound: refused until an admin binds it
    for claimed in ("admin", "alice", "Alice"):
        provider.user = "mallory"  # subject sub-mallory, bound to nobody
        provider.misbehave = Misbehaviour(extra_claims={"preferred_username": claimed})
        with caplog.at_level(logging.WARNING, logger="vigie.oidc"):
            status, _, page = _sign_in(client, provider)
        assert status == 403 and "not bound to a Vigie account" in page, (claimed, status)
        assert "vigie users link-oidc NAME sub-mallory" in page
        assert not _signed_in(client)
        with client.session_transaction() as session:
            assert "uid" not in session
    assert "refused sub='sub-mallory'" in caplog.text and "says 'admin'" in caplog.text
    assert _audits(db, "login") == []
    assert {(e.actor, e.after["why"]) for e in _audits(db, "login.failed")} == {("oidc:sub-mallory",
                                                                                 "identity not bound")}


def test_an_unbound_account_signs_in_once_an_admin_binds_it(client: FlaskClient, provider: OidcProvider,
                                                            db: Database) -> None:
    with db.write.begin() as session:
        add_user(session, "erin", "agent", ["service"], None, ["service"])
    provider.user = "erin"
    status, _, page = _sign_in(client, provider)
    assert status == 403 and "sub-erin" in page and not _signed_in(client)
    with db.write.begin() as session:
        link_oidc(session, "erin", provider.issuer, "sub-erin", actor="admin")
    assert _sign_in(client, provider)[0] == 302 and _signed_in(client)
    assert [e.actor for e in _audits(db, "login")] == ["erin"]
    assert [(e.actor, e.after["oidc_subject"]) for e in _audits(db, "user.link_oidc")][-1] == ("admin", "sub-erin")
    with db.write.begin() as session:  # a subject is bound to one account only
        with pytest.raises(UserError, match="already bound to user 'erin'"):
            link_oidc(session, "alice", provider.issuer, "sub-erin")


def test_the_command_line_binds_identities(db_url: str, db: Database, provider: OidcProvider,
                                           tmp_path: Path) -> None:
    env = vigie_env(tmp_path / "unused.db", secret_key="k" * 40)
    env.update(DATABASE_URL=db_url, VIGIE_OIDC_ISSUER=provider.issuer, VIGIE_OIDC_CLIENT_ID=CLIENT_ID,
               VIGIE_OIDC_CLIENT_SECRET=CLIENT_SECRET)

    def vigie(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([VIGIE, *args], env=env, capture_output=True, text=True, timeout=60)

    added = vigie("users", "add", "fay", "--role", "manager", "--oidc-subject", "sub-fay")
    assert added.returncode == 0 and "single sign-on subject sub-fay" in added.stdout, added.stderr
    assert vigie("users", "add", "gus", "--role", "manager", "--no-password").returncode == 0
    assert vigie("users", "link-oidc", "gus", "sub-gus").returncode == 0
    taken = vigie("users", "link-oidc", "gus", "sub-fay")
    assert taken.returncode == 1 and "already bound to user 'fay'" in taken.stderr
    listed = vigie("users", "list").stdout.splitlines()
    assert f"sso sub-fay ({provider.issuer})" in listed[0] and listed[0].startswith("fay\t")
    assert f"sso sub-gus ({provider.issuer})" in listed[1]
    without = {k: v for k, v in env.items() if not k.startswith("VIGIE_OIDC")}
    refused = subprocess.run([VIGIE, "users", "link-oidc", "gus", "sub-x"], env=without, capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 1 and "set VIGIE_OIDC_ISSUER" in refused.stderr
    client = _client(db, provider.issuer)
    provider.user = "fay"
    assert _sign_in(client, provider)[0] == 302 and _signed_in(client)


def test_client_secret_post_when_the_provider_takes_only_that(sqlite_db: Database, provider: OidcProvider) -> None:
    provider.auth_methods = ["client_secret_post"]
    _bound_user(sqlite_db, provider, "alice")
    client = _client(sqlite_db, provider.issuer)
    assert _sign_in(client, provider)[0] == 302
    assert provider.token_requests == ["client_secret_post"] and _signed_in(client)


def test_unknown_user_is_refused(client: FlaskClient, provider: OidcProvider, db: Database) -> None:
    provider.user = "bob"
    status, _, page = _sign_in(client, provider)
    assert status == 403
    assert "not bound to a Vigie account" in page and "vigie users link-oidc" in page and 'href="/login?next=' in page
    assert not _signed_in(client)
    failed = _audits(db, "login.failed")
    assert [(e.actor, e.after["method"], e.after["why"]) for e in failed] == [("oidc:sub-bob", "oidc",
                                                                              "identity not bound")]
    assert _audits(db, "login") == []


def test_disabled_user_is_refused(client: FlaskClient, provider: OidcProvider, db: Database) -> None:
    provider.user = "dora"
    status, _, page = _sign_in(client, provider)
    assert status == 403 and "disabled" in page
    assert not _signed_in(client)
    assert [e.after["why"] for e in _audits(db, "login.failed")] == ["account disabled"]


def test_no_user_name_claim_is_needed(client: FlaskClient, provider: OidcProvider) -> None:
    provider.misbehave = Misbehaviour(extra_claims={"preferred_username": None})  # matched on the subject alone
    assert _sign_in(client, provider)[0] == 302 and _signed_in(client)


def test_missing_subject_is_refused(client: FlaskClient, provider: OidcProvider) -> None:
    provider.misbehave = Misbehaviour(extra_claims={"sub": None})
    status, _, page = _sign_in(client, provider)
    assert status in (400, 403) and not _signed_in(client)


def test_forged_or_missing_state_is_refused(client: FlaskClient, provider: OidcProvider,
                                            db: Database) -> None:
    authorize_url = _to_provider(client, provider)
    with httpx.Client(trust_env=False, timeout=10) as http:
        back = parse_qs(urlsplit(http.get(authorize_url).headers["location"]).query)
    forged = client.get(f"/login/oidc/callback?code={back['code'][0]}&state=forged-{back['state'][0]}")
    assert forged.status_code == 400 and "not started here" in forged.get_data(as_text=True)
    assert client.get(f"/login/oidc/callback?code={back['code'][0]}").status_code == 400
    assert not _signed_in(client)
    # A browser that never started a sign-in (a link sent to a victim) cannot finish one either.
    stranger = client.application.test_client()
    assert stranger.get(f"/login/oidc/callback?code={back['code'][0]}&state={back['state'][0]}").status_code == 400
    assert not _signed_in(stranger)
    assert {e.after["why"] for e in _audits(db, "login.failed")} == {"missing or unknown state"}


def test_state_is_good_once(client: FlaskClient, provider: OidcProvider) -> None:
    authorize_url = _to_provider(client, provider)
    with httpx.Client(trust_env=False, timeout=10) as http:
        back = urlsplit(http.get(authorize_url).headers["location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    with client.session_transaction() as session:
        token = session["csrf"]
    client.post("/logout", data={"csrf": token})
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    assert not _signed_in(client)


@pytest.mark.parametrize(
    ("misbehaviour", "logged"),
    [
        (Misbehaviour(wrong_key=True), "BadSignatureError"),
        (Misbehaviour(audience="someone-else"), "Invalid claim: 'aud'"),
        # Authlib alone would take this one: it checks "aud" only when told to (claims_options).
        (Misbehaviour(audience="someone-else", extra_claims={"azp": CLIENT_ID}), "Invalid claim: 'aud'"),
        (Misbehaviour(nonce="not-the-nonce-sent"), "Invalid claim: 'nonce'"),
        (Misbehaviour(expired=True), "ExpiredTokenError"),
        (Misbehaviour(issuer="http://127.0.0.1:1/other"), "Invalid claim: 'iss'"),
        (Misbehaviour(unsigned=True), "'none' is not allowed"),
    ],
    ids=["wrong-signing-key", "wrong-audience", "wrong-audience-with-azp", "wrong-nonce", "expired", "wrong-issuer",
         "unsigned"],
)
def test_id_token_that_does_not_verify_is_refused(
    client: FlaskClient, provider: OidcProvider, db: Database, caplog: pytest.LogCaptureFixture,
    misbehaviour: Misbehaviour, logged: str,
) -> None:
    provider.misbehave = misbehaviour
    with caplog.at_level(logging.WARNING, logger="vigie.oidc"):
        status, _, page = _sign_in(client, provider)
    assert status == 400 and "could not be verified" in page
    assert logged in caplog.text
    assert CLIENT_SECRET not in page and "Traceback" not in page
    assert not _signed_in(client)
    assert _audits(db, "login") == []
    assert [e.after["why"].startswith("id_token refused") for e in _audits(db, "login.failed")] == [True]


def test_audience_list_with_our_client_id_and_azp_is_accepted(client: FlaskClient, provider: OidcProvider) -> None:
    provider.misbehave = Misbehaviour(extra_claims={"aud": [CLIENT_ID, "other-api"], "azp": CLIENT_ID})
    assert _sign_in(client, provider)[0] == 302 and _signed_in(client)


def test_token_answer_without_id_token_is_refused(client: FlaskClient, provider: OidcProvider) -> None:
    provider.misbehave = Misbehaviour(no_id_token=True)
    status, _, page = _sign_in(client, provider)
    assert status == 502 and "no ID token" in page
    assert not _signed_in(client)


def test_provider_error_is_shown(client: FlaskClient, provider: OidcProvider, db: Database) -> None:
    provider.misbehave = Misbehaviour(deny=True)
    status, _, page = _sign_in(client, provider, "/audit")
    assert status == 403 and "access_denied" in page
    assert "The user said no" not in page  # text from the URL is not echoed
    assert 'href="/login?next=/audit"' in page
    assert not _signed_in(client)
    assert [e.after["why"] for e in _audits(db, "login.failed")] == ["provider: access_denied"]


def test_next_never_leaves_the_site(client: FlaskClient, provider: OidcProvider) -> None:
    status, location, _ = _sign_in(client, provider, "//evil.example/x")
    assert (status, location) == (302, "/")


def test_wrong_client_secret_is_refused_by_the_provider(sqlite_db: Database, provider: OidcProvider) -> None:
    _bound_user(sqlite_db, provider, "alice")
    client = _client(sqlite_db, provider.issuer, secret="a-wrong-client-secret-9d2e")
    status, _, page = _sign_in(client, provider)
    assert status == 400 and "refused the sign-in" in page and "a-wrong-client-secret" not in page
    assert not _signed_in(client)
    assert [e.after["why"] for e in _audits(sqlite_db, "login.failed")] == ["token endpoint: invalid_client"]


def test_provider_gone_during_sign_in_shows_a_page(client: FlaskClient, provider: OidcProvider) -> None:
    authorize_url = _to_provider(client, provider)
    with httpx.Client(trust_env=False, timeout=10) as http:
        back = urlsplit(http.get(authorize_url).headers["location"])
    provider.close()
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 502 and "cannot be reached" in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_unreachable_provider_shows_a_page(sqlite_db: Database) -> None:
    client = _client(sqlite_db, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    response = client.get("/login/oidc?next=/audit")
    page = response.get_data(as_text=True)
    assert response.status_code == 502 and "cannot be reached" in page and 'href="/login?next=/audit"' in page
    assert CLIENT_SECRET not in page and "Traceback" not in page


def test_login_page_shows_single_sign_on_only_when_configured(sqlite_db: Database, provider: OidcProvider) -> None:
    with_oidc = _client(sqlite_db, provider.issuer).get("/login?next=/audit").get_data(as_text=True)
    assert 'id="login-oidc"' in with_oidc and "/login/oidc?next=/audit" in with_oidc
    without = _client(sqlite_db, None)
    assert 'id="login-oidc"' not in without.get("/login").get_data(as_text=True)
    unrouted = without.get("/login/oidc")  # no such route: a page address, so the guard asks to sign in
    assert unrouted.status_code == 302 and unrouted.headers["Location"].startswith("/login?next=")


def test_a_french_browser_reads_single_sign_on_in_french(sqlite_db: Database, provider: OidcProvider) -> None:
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = _client(sqlite_db, provider.issuer).get("/login", headers=french).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Se connecter par authentification unique (SSO)" in page
    client = _client(sqlite_db, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    refused = client.get("/login/oidc?next=/audit", headers=french)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 502 and '<html lang="fr">' in text and "est injoignable" in text
    assert "Retour à la connexion" in text and "cannot be reached" not in text
