"""The sign-in throttle, kept in the database so that every dashboard worker shares it.

Each attempt has two keys: the client address (as `dashboard.proxies` found it behind the trusted
reverse proxies) and the account name asked for. A failure counts on both. Past its free failures
(`FREE_FAILURES`: more for an address, which a whole office may share behind one NAT, than for an
account) a key must wait before its next try is even checked: 30 seconds after the first failure
past the free ones, doubling with each further failure, at most `MAX_DELAY`. Nothing locks: the wait
ends by itself, and a key forgets its failures `FORGET_AFTER` after the last one. A success clears
the account's key, not the address's (one good password must not wipe the count of an address that
guesses at other accounts).

Functions take the session first and never commit; `now` is passed in (naive UTC).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.tables import Base

FREE_FAILURES = {"address": 20, "account": 5}
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=5)
FORGET_AFTER = timedelta(hours=1)
MAX_KEY = 300


class LoginThrottle(Base):
    """Failed sign-ins of one key ("address:10.1.2.3" or "account:alice") and when it may try again."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    next_allowed_at: Mapped[datetime]


def delay_after(failures: int, free: int) -> timedelta:
    """How long a key waits after its ``failures``-th failure (pure)."""
    over = failures - free
    if over <= 0:
        return timedelta(0)
    if over > 20:  # 2**20 s is far past the cap already
        return MAX_DELAY
    return min(MAX_DELAY, FIRST_DELAY * 2 ** (over - 1))


def throttle_keys(address: str, name: str) -> list[tuple[str, int]]:
    """(key, free failures) of a sign-in from ``address`` for the account ``name``."""
    keys = [(f"address:{address or '?'}"[:MAX_KEY], FREE_FAILURES["address"])]
    if name:
        keys.append((f"account:{name}"[:MAX_KEY], FREE_FAILURES["account"]))
    return keys


def wait_left(session: Session, address: str, name: str, now: datetime) -> timedelta:
    """How long this address or this account must still wait; zero when it may try now."""
    keys = [k for k, _free in throttle_keys(address, name)]
    latest = session.scalar(select(LoginThrottle.next_allowed_at).where(LoginThrottle.key.in_(keys))
                            .order_by(LoginThrottle.next_allowed_at.desc()).limit(1))
    return max(timedelta(0), latest - now) if latest is not None else timedelta(0)


def _row(session: Session, key: str, now: datetime) -> LoginThrottle:
    """The key's row, made if missing, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite's
    writers already hold the database's lock)."""
    dialect = session.get_bind().dialect.name
    fresh = {"key": key, "failures": 0, "last_failure_at": now, "next_allowed_at": now}
    if dialect in ("postgresql", "sqlite"):
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(LoginThrottle).values(**fresh).on_conflict_do_nothing(index_elements=["key"]))
    elif session.get(LoginThrottle, key) is None:
        session.add(LoginThrottle(**fresh))
        session.flush()
    return session.execute(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def record_failure(session: Session, address: str, name: str, now: datetime) -> list[str]:
    """Count a failed sign-in on its keys; the keys this failure starts slowing down (for the audit trail)."""
    started: list[str] = []
    for key, free in throttle_keys(address, name):
        row = _row(session, key, now)
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        row.next_allowed_at = now + delay_after(row.failures, free)
        if row.failures == free + 1:
            started.append(key)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(
        select(LoginThrottle.key).where(LoginThrottle.last_failure_at < now - FORGET_AFTER).limit(100))))
    return started


def record_success(session: Session, name: str) -> None:
    """The account signed in: its own count starts again (the address's does not)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"account:{name}"[:MAX_KEY]))
