"""Kiosk links (dashboard/auth/guard.py): read on the wall only, never over a person's session, and
each kiosk sign-in audited once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from config.settings import Settings
from models.db import Database
from models.tables import AuditEvent
from models.users import create_kiosk_token
from tests.integration.test_auth import _wall_tick
from tests.web import make_accounts, sign_in


def _token(db: Database, name: str = "lobby") -> str:
    with db.write.begin() as s:
        return create_kiosk_token(s, name)


def _kiosk_logins(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with db.read() as s:
        return [(e.actor, e.after) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "kiosk.login")
                                                       .order_by(AuditEvent.id))]


def test_a_kiosk_token_signs_in_on_the_wall_only(web: Any, db: Database) -> None:
    token = _token(db)
    screen = web.server.test_client()
    for path in ("/", "/queue/legal", "/sources", "/triage", "/mention/1"):
        response = screen.get(f"{path}?kiosk={token}")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    assert screen.get("/wall").status_code == 302  # none of those made a kiosk session
    assert _kiosk_logins(db) == []
    assert screen.get(f"/wall?kiosk={token}").status_code == 200
    assert screen.get("/sources").status_code == 403  # the kiosk session reaches the wall only
    assert _wall_tick(web, screen, 1).status_code == 200  # ... its updates
    assert screen.get("/assets/vigie.css").status_code == 200  # ... and its files


def test_a_signed_in_person_keeps_their_session_on_a_kiosk_link(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    token = _token(db)
    person = web.server.test_client()
    assert sign_in(person, "compliance").status_code == 302
    assert person.get(f"/wall?kiosk={token}").status_code == 200
    assert person.get("/audit").status_code == 200  # still compliance, not a wall screen
    assert b'"compliance"' in person.get("/_dash-layout").data
    assert _kiosk_logins(db) == []
    agent = web.server.test_client()  # a person whose role has no wall: refused, and still themself
    assert sign_in(agent, "agent").status_code == 302
    assert agent.get(f"/wall?kiosk={token}").status_code == 403
    assert agent.get("/queue/customer_service").status_code == 200
    assert _kiosk_logins(db) == []


def test_each_kiosk_sign_in_is_audited_once(web: Any, db: Database) -> None:
    token, other = _token(db, "lobby"), _token(db, "trading-floor")
    screen = web.server.test_client()
    screen.environ_base["REMOTE_ADDR"] = "192.0.2.40"
    for n in range(3):  # the screen reloads its link; its updates tick
        assert screen.get(f"/wall?kiosk={token}").status_code == 200
        assert _wall_tick(web, screen, n).status_code == 200
    assert _kiosk_logins(db) == [("kiosk:lobby", {"kiosk": "lobby", "address": "192.0.2.40"})]
    assert web.server.test_client().get(f"/wall?kiosk={other}").status_code == 200  # another screen
    assert screen.get(f"/wall?kiosk={other}").status_code == 200  # this screen, given another link
    assert [after["kiosk"] for _a, after in _kiosk_logins(db)] == ["lobby", "trading-floor", "trading-floor"]
