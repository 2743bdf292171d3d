"""Sign-in, sessions and kiosk tokens, through the real Flask app and database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from config.settings import Settings
from dashboard.auth.login import FAILED, safe_next
from models.db import Database
from models.tables import AuditEvent, User, utcnow
from models.users import create_kiosk_token, revoke_kiosk_token, set_active, set_password
from tests.web import PASSWORD, csrf_of, dash_post, make_accounts, sign_in, spec_inputs


def _wall_tick(web: Any, client: Any, n: int) -> Any:
    """One tick of the wall's update callback, posted as the browser does (its key and inputs read
    from the app's callback map)."""
    key = next(k for k in web.callback_map if "wall-marker.data" in k)
    spec = web.callback_map[key]
    return dash_post(client, key, spec_inputs(spec["inputs"], {"wall-tick.n_intervals": n, "wall-scale.data": 1.0}),
                     spec_inputs(spec["state"], {"wall-marker.data": "x", "wall-slow-marker.data": "x"}))


def _actions(db: Database) -> list[tuple[str, str]]:
    with db.read() as s:
        return [(e.actor, e.action) for e in s.scalars(select(AuditEvent).where(AuditEvent.queue_item_id.is_(None))
                                                        .order_by(AuditEvent.id))]


def test_sign_in_sign_out_and_audit(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    client = web.server.test_client()
    assert client.get("/triage").headers["Location"] == "/login?next=/triage"
    response = sign_in(client, "lead", next_path="/triage")
    assert response.status_code == 302 and response.headers["Location"] == "/triage"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/triage").status_code == 200
    copy = web.server.test_client()  # a copy of the cookie (another tab, or a stolen one)
    copy.set_cookie("vigie_session", client.get_cookie("vigie_session").value)
    assert copy.get("/triage").status_code == 200
    client.get("/logout")  # a link from another site signs nobody out (sign-out is a POST)
    assert client.post("/logout").headers["Location"] == "/"  # nor a form without the session's token
    assert client.get("/triage").status_code == 200
    assert client.post("/logout", data={"csrf": csrf_of(client)}).headers["Location"] == "/login?signed_out=1"
    assert client.get("/triage").status_code == 302
    assert copy.get("/triage").status_code == 302  # every session of the account ended
    assert _actions(db)[-2:] == [("lead", "login"), ("lead", "logout")]


def test_form_needs_its_csrf_token_and_next_stays_on_site(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    client = web.server.test_client()
    csrf_of(client)
    forged = client.post("/login", data={"csrf": "forged", "name": "agent", "password": PASSWORD})
    assert forged.status_code == 400 and "uid" not in str(forged.headers.get("Set-Cookie", ""))
    assert client.get("/queue/customer_service").status_code == 302
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example", "/"), ("/\\evil", "/"),
                             ("/\t/evil.example", "/"), ("/\t\\evil.example", "/"), ("/\r\nSet-Cookie: x", "/"),
                             ("/queue/legal?x=1", "/queue/legal?x=1"), ("", "/")):
        assert safe_next(target) == expected
    assert sign_in(client, "agent", next_path="//evil.example").headers["Location"] == "/"
    assert sign_in(client, "agent", next_path="/\t/evil.example").headers["Location"] == "/"


def test_untrusted_name_on_login_page_is_escaped(web: Any, db: Database, settings: Settings) -> None:
    client = web.server.test_client()
    page = sign_in(client, '<script>alert(1)</script>', "x" * 12).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_sessions_expire_and_end_with_password_change_or_disable(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    client = web.server.test_client()
    sign_in(client, "agent")
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:  # 31 minutes idle (VIGIE_SESSION_IDLE_MINUTES is 30)
        session["seen_at"] = (utcnow() - timedelta(minutes=31)).isoformat()
    assert client.get("/").headers["Location"].endswith("&expired=1")
    sign_in(client, "agent")
    with client.session_transaction() as session:  # busy all along, but signed in 13 hours ago
        session["login_at"] = (utcnow() - timedelta(hours=13)).isoformat()
    assert client.get("/").status_code == 302
    sign_in(client, "agent")
    with db.write.begin() as s:
        set_password(s, "agent", "a brand new password")
    assert client.get("/").status_code == 302  # the old session ended
    assert sign_in(client, "agent", "a brand new password").status_code == 302
    with db.write.begin() as s:
        set_active(s, "agent", False)
    assert client.get("/").status_code == 302
    refused = sign_in(client, "agent", "a brand new password")
    assert refused.status_code == 401 and FAILED in refused.get_data(as_text=True)  # the one answer


def test_kiosk_token_opens_the_wall_only_until_revoked(web: Any, db: Database, settings: Settings) -> None:
    with db.write.begin() as s:
        token = create_kiosk_token(s, "lobby")
    screen = web.server.test_client()
    assert screen.get("/wall?kiosk=not-a-token").status_code == 401
    wall = screen.get(f"/wall?kiosk={token}")
    assert wall.status_code == 200 and wall.headers["Referrer-Policy"] == "no-referrer"
    tick = _wall_tick(web, screen, 1)
    assert tick.status_code == 200 and b"wall-kpis" in tick.data
    for path in ("/", "/queue/legal", "/triage", "/audit", "/sources"):
        assert screen.get(path).status_code == 403, path
    assert screen.get("/audit/export.csv").status_code == 403
    with db.write.begin() as s:
        revoke_kiosk_token(s, "lobby")
    again = _wall_tick(web, screen, 2)
    assert again.status_code == 401  # the screen's session ended with its token
    assert screen.get(f"/wall?kiosk={token}").status_code == 401
    # A copy of the revoked screen's cookie stays out when a new token is made for the same name.
    stolen = web.server.test_client()
    thief_token = None
    with db.write.begin() as s:
        thief_token = create_kiosk_token(s, "hall")
    assert stolen.get(f"/wall?kiosk={thief_token}").status_code == 200
    with db.write.begin() as s:
        revoke_kiosk_token(s, "hall")
        fresh = create_kiosk_token(s, "hall")
    assert stolen.get("/_dash-layout").status_code == 401
    assert web.server.test_client().get(f"/wall?kiosk={fresh}").status_code == 200
    with db.read() as s:
        assert s.scalars(select(User)).all() == []  # a kiosk is not an account


def test_navigation_shows_what_the_role_may_open(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    expected = {"agent": ({"nav-customer_service", "nav-sources"}, {"nav-legal", "nav-triage", "nav-wall"}),
                "lead": ({"nav-customer_service", "nav-triage"}, {"nav-legal", "nav-audit"}),
                "compliance": ({"nav-customer_service", "nav-legal", "nav-audit"}, {"nav-triage"}),
                "operator": ({"nav-wall", "nav-sources"}, {"nav-legal", "nav-triage", "nav-audit"})}
    for who, (shown, hidden) in expected.items():
        client = web.server.test_client()
        sign_in(client, who)
        layout = client.get("/_dash-layout").get_data(as_text=True)
        assert all(f'"{i}"' in layout for i in shown), (who, shown)
        assert not any(f'"{i}"' in layout for i in hidden), (who, hidden)
        assert f'"{who}"' in layout  # who is signed in
