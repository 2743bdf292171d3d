"""The sign-in throttle, kept in the database so that every dashboard worker shares it.

Each attempt has two keys: the client address (as `dashboard.proxies` found it behind the trusted
reverse proxies; an IPv6 one by its /64, see `address_key`) and the account name asked for. A
failure counts on both. Past its free failures (`FREE_FAILURES`: more for an address, which a whole
office may share behind one NAT, than for an account) a key must wait before its next try is even
checked: 30 seconds after the first failure past the free ones, doubling with each further failure,
at most `MAX_DELAY`. The wait ends by itself, and a key forgets its failures `FORGET_AFTER` after
the last one. A success clears the account's key, not the address's (one good password must not
wipe the count of an address that guesses at other accounts): the address's count is put back as it
was before the attempt.

An attempt is counted before its password is checked (`begin_attempt`), with both keys' rows locked
until the sign-in's transaction ends: parallel guesses at one account or from one address queue up
behind each other, and each sees the wait the ones before it started, so a burst of requests gets no
more password checks than the same requests one after another.

Functions take the session first and never commit; `now` is passed in (naive UTC).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
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


def address_key(address: str) -> str:
    """What an address is counted as (pure): an IPv4 address as itself (an IPv4-mapped IPv6 address
    too), an IPv6 address by its /64, the smallest block one client is usually given; anything
    else as written."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address or "?"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def throttle_keys(address: str, name: str) -> list[tuple[str, int]]:
    """(key, free failures) of a sign-in from ``address`` for the account ``name``; the address's key
    comes first (the order rows are locked in)."""
    keys = [(f"address:{address_key(address)}"[:MAX_KEY], FREE_FAILURES["address"])]
    if name:
        keys.append((f"account:{name}"[:MAX_KEY], FREE_FAILURES["account"]))
    return keys


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


@dataclass
class Attempt:
    """A sign-in attempt as `begin_attempt` left it."""

    wait: timedelta  # non-zero: refused unchecked, nothing counted
    started: list[str] = field(default_factory=list)  # keys its failure starts slowing down (audit trail)
    before: dict[str, tuple[int, datetime, datetime]] = field(default_factory=dict)  # to undo on success


def begin_attempt(session: Session, address: str, name: str, now: datetime) -> Attempt:
    """Lock the attempt's keys (rows made if missing) until the transaction ends and, unless one of
    them must still wait, count the attempt as a failure now, before its password is checked;
    `attempt_succeeded` undoes that if the password was right."""
    rows = [(_row(session, key, now), free) for key, free in throttle_keys(address, name)]
    wait = max(timedelta(0), max(row.next_allowed_at for row, _free in rows) - now)
    if wait:
        return Attempt(wait)
    attempt = Attempt(timedelta(0))
    for row, free in rows:
        attempt.before[row.key] = (row.failures, row.last_failure_at, row.next_allowed_at)
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        row.next_allowed_at = now + delay_after(row.failures, free)
        if row.failures == free + 1:
            attempt.started.append(row.key)
    session.flush()
    # Old keys go, a few at a time; rows another sign-in holds are skipped, not waited for.
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(
        select(LoginThrottle.key).where(LoginThrottle.last_failure_at < now - FORGET_AFTER).limit(100)
        .with_for_update(skip_locked=True))))
    return attempt


def attempt_succeeded(session: Session, attempt: Attempt) -> None:
    """The password was right: the account's count starts again and the address's is as it was."""
    for key, (failures, last_failure_at, next_allowed_at) in attempt.before.items():
        row = session.get(LoginThrottle, key)
        if row is None:
            continue
        if key.startswith("account:") or failures == 0:
            session.delete(row)
        else:
            row.failures, row.last_failure_at, row.next_allowed_at = failures, last_failure_at, next_allowed_at
    session.flush()
