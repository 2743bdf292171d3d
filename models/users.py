"""Accounts and kiosk tokens: create, check a password, bind an OpenID Connect identity, revoke.

Passwords are hashed with argon2id (argon2-cffi's defaults). Failed sign-ins are slowed down by
`models.throttle` (per address and per account, shared by every worker), never locked: an unknown
name, a wrong password and a disabled account cost the same argon2 check and get the same answer.
Single sign-on finds an account by the identity an admin bound to it (the provider's issuer and
the subject it gives the person), never by a name claim. Kiosk tokens are random 32-byte strings of which only the
SHA-256 is stored; a revoked token signs nothing in again, and the sessions it opened end
at their next request (the guard checks the token on every request). Every change here
writes an audit event. Functions take the session first and never commit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from i18n import LANGUAGES
from models.audit_log import record_event
from models.tables import ROLES, KioskToken, User, utcnow

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,99}")
MIN_PASSWORD = 10
TEAM_ROLES = ("agent", "lead")  # roles that work for named teams

_hasher = PasswordHasher()
# Checked against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(Exception):
    """The account change cannot be made (bad name, unknown role, short password…)."""


def _describe(user: User) -> dict[str, object]:
    return {"user": user.name, "role": user.role, "teams": list(user.teams or []), "active": user.active}


def check_user_fields(name: str, role: str, teams: Sequence[str], known_teams: Sequence[str]) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(f"user name {name!r}: use lower-case letters, digits, '.', '_', '-' or '@' (up to 100)")
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    unknown = [t for t in teams if t not in known_teams]
    if unknown:
        raise UserError(f"team(s) {', '.join(unknown)}: expected teams from teams.yaml ({', '.join(known_teams)})")
    if role in TEAM_ROLES and not teams:
        raise UserError(f"a{'n' if role == 'agent' else ''} {role} works for at least one team: add --team")
    if role not in TEAM_ROLES and teams:
        raise UserError(f"a {role} sees every team; --team applies to agents and leads only")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")


def add_user(
    session: Session, name: str, role: str, teams: Sequence[str], password: str | None, known_teams: Sequence[str],
    actor: str = "cli",
) -> User:
    """Create an account; ``password`` None makes an account that signs in only through OpenID Connect."""
    check_user_fields(name, role, teams, known_teams)
    if password is not None:
        check_password(password)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    user = User(name=name, role=role, teams=list(dict.fromkeys(teams)), active=True, session_epoch=0,
                failed_logins=0, created_at=utcnow(),
                password_hash=_hasher.hash(password) if password is not None else None)
    session.add(user)
    session.flush()
    record_event(session, actor, "user.add", after=_describe(user))
    return user


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def team_members(session: Session, teams: Sequence[str], limit: int = 1000) -> list[tuple[str, str]]:
    """(name, team) of the active agents and leads of ``teams``, by name."""
    users = session.scalars(select(User).where(User.active.is_(True), User.role.in_(TEAM_ROLES))
                            .order_by(User.name).limit(limit))
    return [(u.name, t) for u in users for t in (u.teams or []) if t in teams]


def end_sessions(session: Session, name: str) -> None:
    """Sign ``name`` out everywhere: every session signed in before ends (its epoch moves)."""
    session.execute(update(User).where(User.name == name).values(session_epoch=User.session_epoch + 1))


MAX_SUBJECT = 255


def sso_account(session: Session, issuer: str, subject: str) -> tuple[User | None, str]:
    """(user, "") for the active account bound to the OpenID Connect identity (``issuer``,
    ``subject``), its sign-in time noted; (None, why) when no account is bound to it or it is disabled."""
    if not subject or len(subject) > MAX_SUBJECT:
        return None, "identity not bound"
    user = session.scalars(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)).first()
    if user is None:
        return None, "identity not bound"
    if not user.active:
        return None, "account disabled"
    user.last_login_at = utcnow()
    return user, ""


def link_oidc(session: Session, name: str, issuer: str, subject: str, actor: str = "cli") -> User:
    """Bind the OpenID Connect identity (``issuer``, ``subject``) to the account ``name``: single
    sign-on signs in as this account whoever the provider names with that subject, and nobody else.
    A new binding replaces the old one; the account's open sessions end."""
    user = _require(session, name)
    subject = subject.strip()
    if not subject or len(subject) > MAX_SUBJECT or any(ord(c) < 0x20 for c in subject):
        raise UserError(f"OpenID Connect subject {subject!r}: expected 1 to {MAX_SUBJECT} printable characters "
                        "(the provider's `sub` claim for this person)")
    if not issuer:
        raise UserError("OpenID Connect is not configured: set VIGIE_OIDC_ISSUER first (the binding names it)")
    holder = session.scalars(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject,
                                                User.id != user.id)).first()
    if holder is not None:
        raise UserError(f"the OpenID Connect subject {subject!r} is already bound to user {holder.name!r}")
    before = {"user": name, "oidc_issuer": user.oidc_issuer, "oidc_subject": user.oidc_subject}
    user.oidc_issuer, user.oidc_subject = issuer, subject
    user.session_epoch += 1
    record_event(session, actor, "user.link_oidc", before=before,
                 after={"user": name, "oidc_issuer": issuer, "oidc_subject": subject})
    return user


def set_password(session: Session, name: str, password: str, actor: str = "cli") -> User:
    user = _require(session, name)
    check_password(password)
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1  # sessions signed in with the old password end
    record_event(session, actor, "user.password", before={"user": name}, after={"user": name})
    return user


def set_active(session: Session, name: str, active: bool, actor: str = "cli") -> User:
    user = _require(session, name)
    before = _describe(user)
    user.active = active
    user.session_epoch += 1
    record_event(session, actor, "user.enable" if active else "user.disable", before=before, after=_describe(user))
    return user


# tzdata names that are not places: browsers' Intl refuses them, so the pages could not show times in them.
NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


def check_preferences(language: str | None, timezone: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise UserError(f"language {language!r}: expected one of {', '.join(LANGUAGES)} (or none: the browser's)")
    if timezone is not None:
        try:
            if timezone in NOT_ZONES:
                raise ValueError(timezone)
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(f"time zone {timezone!r}: expected an IANA name such as Europe/Paris "
                            "(or none: the firm's)") from None


def set_preferences(session: Session, name: str, language: str | None, timezone: str | None,
                    actor: str = "cli") -> User:
    """The account's language and time zone (None: the browser's language, the firm's zone)."""
    user = _require(session, name)
    check_preferences(language, timezone)
    before = {"user": name, "language": user.language, "timezone": user.timezone}
    user.language, user.timezone = language, timezone
    record_event(session, actor, "user.preferences", before=before,
                 after={"user": name, "language": language, "timezone": timezone})
    return user


def _require(session: Session, name: str) -> User:
    user = get_user(session, name)
    if user is None:
        raise UserError(f"no user called {name!r}")
    return user


def spend_a_password_check(password: str) -> None:
    """The work of checking a password, for an answer that needs none (an unknown name, a slowed-down
    attempt): every failure takes as long as a wrong password."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass


def authenticate(session: Session, name: str, password: str) -> tuple[User | None, str]:
    """(user, "") when the password is right and the account active; (None, why) otherwise. ``why``
    is for the audit trail only: the person is told the same thing whatever it is."""
    user = get_user(session, name.strip().lower())
    if user is None or not user.password_hash:
        spend_a_password_check(password)
        return None, "unknown user" if user is None else "no local password"
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None, "wrong password"
    if not user.active:
        return None, "account disabled"
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user, ""


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_kiosk_token(session: Session, name: str, actor: str = "cli") -> str:
    """A new token for the wall screen ``name``; the token itself is returned once and never stored."""
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(f"kiosk name {name!r}: use lower-case letters, digits, '.', '_', '-' (up to 100)")
    existing = session.scalars(select(KioskToken).where(KioskToken.name == name)).first()
    if existing is not None and existing.revoked_at is None:
        raise UserError(f"kiosk {name!r} already has a token; revoke it first to make a new one")
    token = secrets.token_urlsafe(32)
    if existing is not None:  # a revoked name is reused with a new token
        existing.token_sha256, existing.revoked_at, existing.created_at = token_sha256(token), None, utcnow()
        existing.created_by, existing.last_used_at = actor, None
    else:
        session.add(KioskToken(name=name, token_sha256=token_sha256(token), created_at=utcnow(), created_by=actor))
    record_event(session, actor, "kiosk.create", after={"kiosk": name})
    return token


def revoke_kiosk_token(session: Session, name: str, actor: str = "cli") -> None:
    row = session.scalars(select(KioskToken).where(KioskToken.name == name)).first()
    if row is None or row.revoked_at is not None:
        raise UserError(f"kiosk {name!r} has no live token")
    row.revoked_at = utcnow()
    record_event(session, actor, "kiosk.revoke", before={"kiosk": name}, after={"kiosk": name, "revoked": True})


def kiosk_by_id(session: Session, kiosk_id: int) -> KioskToken | None:
    return session.get(KioskToken, kiosk_id)


def mark_kiosk_used(session: Session, kiosk_id: int) -> None:
    session.execute(update(KioskToken).where(KioskToken.id == kiosk_id).values(last_used_at=utcnow()))


def kiosk_by_token(session: Session, token: str) -> KioskToken | None:
    """The live kiosk this token signs in, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    row = session.scalars(select(KioskToken).where(KioskToken.token_sha256 == token_sha256(token))).first()
    return row if row is not None and row.revoked_at is None else None
