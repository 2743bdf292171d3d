"""`vigie users …` and `vigie kiosk-token …`: accounts and wall-screen tokens.

Passwords are read from a hidden prompt (asked twice) or, with ``--password-stdin``, from
the first line of standard input (for scripts); never from the command line, where they
would stay in the shell history and the process list.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.jobs.demo_desk import ensure_desk_accounts
from config.settings import Settings
from models.db import Database
from models.library_file import DEMO_APPROVER, DEMO_AUTHOR, seed_demo_library
from models.tables import KioskToken, User
from models.users import (
    UserError,
    add_user,
    create_kiosk_token,
    link_oidc,
    revoke_kiosk_token,
    set_active,
    set_password,
    set_preferences,
)
from vigie.common import checked_settings, open_current

T = TypeVar("T")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _db() -> tuple[Settings, Database]:
    settings = checked_settings()
    return settings, open_current(settings)


def _write(change: Callable[[Settings, Session], T]) -> tuple[Settings, T]:
    """Run ``change`` in one write transaction; a refused change stops the command with its reason."""
    settings, db = _db()
    try:
        with db.write.begin() as session:
            return settings, change(settings, session)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def users() -> None:
    """Local accounts: add, list, change a password, disable or enable."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["operator", "agent", "lead", "compliance", "manager",
                                                          "admin"]), help="What the account may see and do.")
@click.option("--team", "teams", multiple=True, help="A team the agent or lead works for (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--no-password", is_flag=True, help="No local password: the account signs in through OpenID Connect.")
@click.option("--oidc-subject", default=None, metavar="SUB",
              help="Bind the OpenID Connect identity with this subject (the provider's `sub` for this person; "
                   "the issuer is VIGIE_OIDC_ISSUER); no local password unless --password-stdin.")
def users_add(name: str, role: str, teams: tuple[str, ...], password_stdin: bool, no_password: bool,
              oidc_subject: str | None) -> None:
    """Create the account NAME."""
    password = None if no_password or (oidc_subject is not None and not password_stdin) else _password(password_stdin)

    def add(settings: Settings, session: Session) -> None:
        add_user(session, name, role, teams, password, settings.team_keys)
        if oidc_subject is not None:
            link_oidc(session, name, _issuer(settings), oidc_subject)

    _write(add)
    bound = f"; single sign-on subject {oidc_subject}" if oidc_subject is not None else ""
    click.echo(f"user {name} added ({role}{': ' + ', '.join(teams) if teams else ''}){bound}")


def _issuer(settings: Settings) -> str:
    if settings.auth.oidc is None:
        raise UserError("OpenID Connect is not configured: set VIGIE_OIDC_ISSUER (and its client id and secret) "
                        "first; the binding names that issuer")
    return settings.auth.oidc.issuer


@users.command("link-oidc")
@click.argument("name")
@click.argument("subject")
def users_link_oidc(name: str, subject: str) -> None:
    """Bind NAME to the OpenID Connect identity SUBJECT of the configured provider (replacing any
    earlier binding; NAME's open sessions end). Single sign-on matches this and nothing else."""
    settings, _user = _write(lambda settings, session: link_oidc(session, name, _issuer(settings), subject))
    assert settings.auth.oidc is not None
    click.echo(f"user {name} bound to subject {subject} of {settings.auth.oidc.issuer}")


@users.command("list")
def users_list() -> None:
    """Accounts, their roles, teams and single sign-on bindings."""
    _settings, db = _db()
    with db.read() as session:
        rows = session.scalars(select(User).order_by(User.name).limit(10_000)).all()
    for u in rows:
        state = "active" if u.active else "disabled"
        login = u.last_login_at.isoformat(timespec="minutes") + "Z" if u.last_login_at else "never"
        sso = f"sso {u.oidc_subject} ({u.oidc_issuer})" if u.oidc_subject else "sso unbound"
        click.echo(f"{u.name}\t{u.role}\t{','.join(u.teams or []) or '-'}\t{state}\tlast sign-in {login}\t{sso}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_passwd(name: str, password_stdin: bool) -> None:
    """Set NAME's password (its open sessions end)."""
    password = _password(password_stdin)
    _write(lambda _settings, session: set_password(session, name, password))
    click.echo(f"password of {name} changed; its sessions are ended")


@users.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """Disable NAME: it can no longer sign in and its open sessions end."""
    _write(lambda _settings, session: set_active(session, name, False))
    click.echo(f"user {name} disabled")


@users.command("enable")
@click.argument("name")
def users_enable(name: str) -> None:
    """Enable NAME again."""
    _write(lambda _settings, session: set_active(session, name, True))
    click.echo(f"user {name} enabled")


@users.command("prefs")
@click.argument("name")
@click.option("--language", type=click.Choice(["en", "fr", "browser"]), default=None,
              help="The language of the interface, notifications and e-mails; 'browser': the browser's.")
@click.option("--timezone", default=None, metavar="ZONE",
              help="An IANA time zone such as Europe/Paris; 'firm': the firm's (reporting.yaml).")
def users_prefs(name: str, language: str | None, timezone: str | None) -> None:
    """Set an account's language and time zone (what is not given stays as it is)."""

    def change(_settings: Settings, session: Session) -> tuple[str | None, str | None]:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise UserError(f"no user called {name!r}")
        lang = user.language if language is None else (None if language == "browser" else language)
        zone = user.timezone if timezone is None else (None if timezone == "firm" else timezone)
        set_preferences(session, name, lang, zone)
        return lang, zone

    _settings, (lang, zone) = _write(change)
    click.echo(f"{name}: language {lang or 'from the browser'}, time zone {zone or 'the firm’s'}")


@click.group("kiosk-token")
def kiosk_token() -> None:
    """Read-only sign-in links for wall screens."""


@kiosk_token.command("create")
@click.argument("name")
def kiosk_create(name: str) -> None:
    """Make a token for the wall screen NAME and print the wall URL carrying it (shown once)."""
    settings, token = _write(lambda _settings, session: create_kiosk_token(session, name))
    click.echo(f"{settings.auth.public_url}/wall?kiosk={token}")


@kiosk_token.command("revoke")
@click.argument("name")
def kiosk_revoke(name: str) -> None:
    """End the token of the wall screen NAME (the screen is signed out at its next update)."""
    _write(lambda _settings, session: revoke_kiosk_token(session, name))
    click.echo(f"kiosk token {name} revoked")


@kiosk_token.command("list")
def kiosk_list() -> None:
    """Wall screens and whether their token is live."""
    _settings, db = _db()
    with db.read() as session:
        rows = session.scalars(select(KioskToken).order_by(KioskToken.name).limit(10_000)).all()
    for k in rows:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}Z" if k.revoked_at else "live"
        used = f"{k.last_used_at:%Y-%m-%d %H:%M}Z" if k.last_used_at else "never"
        click.echo(f"{k.name}\t{state}\tmade {k.created_at:%Y-%m-%d %H:%M}Z by {k.created_by}\tlast used {used}")


DEMO_PASSWORD = "vigie-demo"  # `vigie demo` only, on its own database; printed at start
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("admin", "admin", ()),
    ("lead.cs", "lead", ("customer_service",)),
    ("agent.cs", "agent", ("customer_service",)),
    ("agent2.cs", "agent", ("customer_service",)),
    ("lead.legal", "lead", ("legal",)),
    ("agent.legal", "agent", ("legal",)),
    ("agent.marketing", "agent", ("marketing",)),
    ("operator", "operator", ()),
    ("compliance", "compliance", ()),
    ("manager", "manager", ()),
    ("conseiller.fr", "agent", ("customer_service",)),
)
# Demo accounts that read Vigie in French whatever the browser says (the others follow the browser).
DEMO_FRENCH = ("conseiller.fr",)


def seed_demo(settings: Settings, db: Database, desk: bool = False) -> list[str]:
    """Demo accounts (made once, when the database has none), with ``desk`` the simulated agents'
    accounts (one per team, no password: nobody signs in as them), and a fresh wall-screen link."""
    lines: list[str] = []
    with db.write.begin() as session:
        if session.scalar(select(User.id).limit(1)) is None:
            for name, role, teams in DEMO_USERS:
                add_user(session, name, role, [t for t in teams if t in settings.team_keys], DEMO_PASSWORD,
                         settings.team_keys, actor="demo")
                if name in DEMO_FRENCH:
                    set_preferences(session, name, "fr", settings.reporting.timezone, actor="demo")
            lines.append(f"demo accounts (password {DEMO_PASSWORD!r}, demo only): "
                         + ", ".join(f"{n} ({r})" for n, r, _t in DEMO_USERS))
        approved = seed_demo_library(session, settings.team_keys)
        if approved:
            lines.append(f"reply library: {approved} templates (English and French) drafted by {DEMO_AUTHOR}, "
                         f"approved by {DEMO_APPROVER}")
        if desk:
            lines.append("simulated agents claiming and closing items (none with --no-desk): "
                         + ", ".join(ensure_desk_accounts(session, settings)))
        try:
            revoke_kiosk_token(session, "demo-wall", actor="demo")
        except UserError:
            pass  # none yet
        token = create_kiosk_token(session, "demo-wall", actor="demo")
    lines.append(f"wall screen link (kiosk, read-only): {settings.auth.public_url}/wall?kiosk={token}")
    lines.append(f"daily summary (manager, compliance, admin): {settings.auth.public_url}/summary")
    return lines
