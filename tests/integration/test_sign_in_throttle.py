"""The sign-in throttle (models/throttle.py) through the real Flask app and database: one answer for
every failure, slowing down (never locking) per client address and per account, shared by every
app instance on the database, and client addresses found behind trusted proxies only."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from config.settings import Settings
from dashboard.auth.login import FAILED
from models import users
from models.db import Database
from models.tables import AuditEvent, utcnow
from models.throttle import FREE_FAILURES, LoginThrottle, delay_after
from models.users import set_active
from tests.web import PASSWORD, app_server, csrf_of, make_accounts, sign_in


def _client(server: Flask, address: str = "127.0.0.1", forwarded_for: str | None = None) -> Any:
    client = server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded_for is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def _error(response: Any) -> str:
    found = re.search(r'id="login-error">([^<]*)<', response.get_data(as_text=True))
    return found.group(1) if found else ""


def _time_passes(db: Database) -> None:
    """Every wait is over (as if its time had gone by); the failures stay counted."""
    with db.write.begin() as s:
        s.execute(update(LoginThrottle).values(next_allowed_at=utcnow() - timedelta(seconds=1)))


def _failed_addresses(db: Database) -> list[str]:
    with db.read() as s:
        return [e.after["address"] for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")
                                                     .order_by(AuditEvent.id))]


def test_delay_grows_and_is_capped() -> None:
    assert [delay_after(n, 5).total_seconds() for n in (1, 5, 6, 7, 8)] == [0, 0, 30, 60, 120]
    assert delay_after(10_000, 5) == delay_after(40, 5) == timedelta(minutes=5)


class CountingHasher(type(users._hasher)):  # type: ignore[misc]
    """argon2's hasher, counting its password checks."""

    checks = 0

    def verify(self, hash: Any, password: Any) -> bool:  # noqa: A002  (argon2's own parameter name)
        CountingHasher.checks += 1
        return bool(super().verify(hash, password))


def test_every_failure_gets_one_answer_after_the_same_work(web: Any, db: Database, settings: Settings,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    make_accounts(db, settings)
    with db.write.begin() as s:
        set_active(s, "manager", False)
    monkeypatch.setattr(users, "_hasher", CountingHasher())
    client = web.server.test_client()
    answers = {}
    for case, name, password in (("unknown user", "nobody", "whatever it is"),
                                 ("wrong password", "agent", "not the password"),
                                 ("disabled account", "manager", PASSWORD)):
        before = CountingHasher.checks
        response = sign_in(client, name, password)
        answers[case] = (response.status_code, _error(response))
        assert CountingHasher.checks - before == 1, case  # one argon2 check, whatever failed
    for _ in range(FREE_FAILURES["account"] + 1):
        sign_in(client, "operator", "not the password")
    before = CountingHasher.checks
    slowed = sign_in(client, "operator", PASSWORD)  # the right password while slowed down
    answers["slowed down"] = (slowed.status_code, _error(slowed))
    assert CountingHasher.checks - before == 1
    assert set(answers.values()) == {(401, FAILED)}, answers


def test_an_account_is_slowed_down_then_signs_in_not_locked(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    guesser, owner = _client(web.server, "192.0.2.1"), _client(web.server, "192.0.2.2")
    for _ in range(FREE_FAILURES["account"] + 1):
        assert sign_in(guesser, "agent", "a wrong guess!").status_code == 401
    # The account is slowed down from every address (a guesser changes addresses), the right password too ...
    assert sign_in(owner, "agent").status_code == 401
    assert sign_in(owner, "lead").status_code == 302  # ... other accounts are not
    _time_passes(db)  # ... and only for a while: it is not a lock
    assert sign_in(owner, "agent").status_code == 302
    with db.read() as s:
        throttled = s.scalars(select(AuditEvent.after).where(AuditEvent.action == "login.throttled")).all()
        # Signing in clears the account's count; the guessing address keeps its own.
        keys = set(s.scalars(select(LoginThrottle.key)))
    assert [t["key"] for t in throttled] == ["account:agent"]
    assert keys == {"address:192.0.2.1"}


def test_the_throttle_is_shared_by_app_instances_on_one_database(db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    first, second = app_server(db, settings), app_server(db, settings)
    guesser = _client(first, "198.51.100.9")
    for n in range(FREE_FAILURES["address"] + 1):  # guessing across accounts: no account's own count grows much
        assert sign_in(guesser, f"guess{n}", "wrong password").status_code == 401
    # The same address on the other instance (another gunicorn worker) is slowed down too.
    again = sign_in(_client(second, "198.51.100.9"), "agent")
    assert again.status_code == 401 and _error(again) == FAILED
    assert sign_in(_client(second, "198.51.100.10"), "agent").status_code == 302  # another address is not
    with db.read() as s:
        assert s.scalars(select(AuditEvent.after).where(AuditEvent.action == "login.throttled")).all() == [
            {"key": "address:198.51.100.9"}]


def test_clients_behind_a_trusted_proxy_are_throttled_apart_and_forgery_gains_nothing(
    db: Database, settings: Settings
) -> None:
    make_accounts(db, settings)
    server = app_server(db, settings, VIGIE_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")
    # Two people behind the reverse proxy (127.0.0.1, and a second proxy hop at 10.1.1.1).
    guesser = _client(server, "127.0.0.1", "203.0.113.5")
    colleague = _client(server, "127.0.0.1", "203.0.113.6, 10.1.1.1")
    for n in range(FREE_FAILURES["address"] + 1):
        sign_in(guesser, f"guess{n}", "wrong password")
    assert sign_in(guesser, "agent").status_code == 401  # the guesser's address is slowed down ...
    assert sign_in(colleague, "agent").status_code == 302  # ... not everyone behind the proxy
    assert set(_failed_addresses(db)) == {"203.0.113.5"}  # the audit trail names the client, not the proxy

    # A client sending its own X-Forwarded-For, directly (not through a trusted proxy): ignored.
    direct = _client(server, "192.0.2.50")
    for n in range(FREE_FAILURES["address"] + 1):
        direct.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.18.0.{n}"  # a new "address" each try
        sign_in(direct, f"other{n}", "wrong password")
    assert sign_in(direct, "lead").status_code == 401
    # Through the proxy, a forged first hop is not believed either: the proxy's own hop is the client.
    forger = _client(server, "127.0.0.1", "203.0.113.6, 203.0.113.77")
    for n in range(FREE_FAILURES["address"] + 1):
        forger.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.6, 198.18.1.{n}, 203.0.113.77"
        sign_in(forger, f"third{n}", "wrong password")
    assert sign_in(forger, "lead").status_code == 401
    assert sign_in(colleague, "lead").status_code == 302  # the colleague (203.0.113.6) is still not slowed
    assert set(_failed_addresses(db)) == {"203.0.113.5", "192.0.2.50", "203.0.113.77"}


def test_parallel_guesses_get_no_more_password_checks_than_one_after_another(db: Database,
                                                                              settings: Settings) -> None:
    """A burst of wrong guesses at an account already past its free failures (its wait just over):
    the first one's failure starts a new wait before its password is even checked, so the rest,
    sent at the same moment through two app instances, are refused unchecked."""
    make_accounts(db, settings)
    now = utcnow()
    with db.write.begin() as s:
        s.add(LoginThrottle(key="account:agent", failures=FREE_FAILURES["account"] + 1, last_failure_at=now,
                            next_allowed_at=now - timedelta(seconds=1)))
    servers = app_server(db, settings), app_server(db, settings)
    clients = [_client(servers[n % 2], f"192.0.2.{100 + n}") for n in range(8)]
    forms = [{"csrf": csrf_of(c), "name": "agent", "password": f"wrong guess {n}", "next": "/"}
             for n, c in enumerate(clients)]
    start = threading.Barrier(len(clients))
    answers: list[Any] = [None] * len(clients)

    def guess(n: int) -> None:
        start.wait()
        answers[n] = clients[n].post("/login", data=forms[n])

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [(a.status_code, _error(a)) for a in answers] == [(401, FAILED)] * len(clients)
    assert len(_failed_addresses(db)) == 1  # one password check (each checked failure is audited) ...
    with db.read() as s:
        row = s.get(LoginThrottle, "account:agent")
        assert row is not None and row.failures == FREE_FAILURES["account"] + 2  # ... and one failure counted
