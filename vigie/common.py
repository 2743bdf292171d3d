"""What every `vigie` command starts with: the checked settings and a database at the schema's head.

Its own module so that the command modules (`cli`, `cli_audit`, `cli_summary`, `cli_users`)
all import it and none of them imports `vigie.cli`, the entry point.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from config.settings import ConfigError, Settings
from models.db import Database, analyze, open_database
from models.ids import MAX_ID, no_such, parse_id
from models.tables import to_naive_utc


class ConfigProblem(click.ClickException):
    """A bad setting: every command stops with the message and exit status 2, before touching anything."""

    exit_code = 2


class RowId(click.ParamType):
    """A command-line id (``--item``, a hold's id…): `models.ids.parse_id`, else "no such <kind>"."""

    name = "id"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = parse_id(value)
        if number is None:
            self.fail(f"{no_such(self.kind, value)} (an id is a whole number from 1 to {MAX_ID})", param, ctx)
        return number


ITEM_ID, MENTION_ID, HOLD_ID = RowId("item"), RowId("mention"), RowId("hold")


def checked_settings() -> Settings:
    """The settings, with every source's options checked; a bad value ends the command naming it."""
    from collectors.sources import load_checked_settings

    try:
        return load_checked_settings()
    except ConfigError as exc:
        raise ConfigProblem(f"configuration error: {exc}") from None


def claim_scratch(db: Database, purpose: str) -> None:
    """End the command, touching nothing, unless ``db`` is empty or ``purpose``'s own (`models.scratch`)."""
    from models.scratch import NotScratch, claim

    try:
        claim(db.engine, purpose)
    except NotScratch as exc:
        db.engine.dispose()
        raise click.ClickException(str(exc)) from exc


def open_current(settings: Settings, pages: bool = False) -> Database:
    """The database, only if its schema is at the head revision: otherwise the command ends with one
    line saying the revision it has, the one it needs and what to run (`vigie db upgrade`). With
    ``pages`` (the dashboard), its pages read the replica of DATABASE_READ_URL when one is set."""
    from models.migrate import SchemaNotCurrent, require_head

    db = open_database(settings.database_url, settings.archive.retention, settings.archive.supervision,
                       read_url=settings.database_read_url if pages else None)
    try:
        require_head(db.engine)
    except SchemaNotCurrent as exc:
        db.dispose()
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        db.dispose()
        raise click.ClickException(unreadable(exc)) from None
    return db


def unreadable(exc: SQLAlchemyError) -> str:
    """One line on a database that could not be read (the driver's first line: no URL, no password)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"the database cannot be read ({type(cause).__name__}): {first}"


def open_upgraded(settings: Settings, scratch: str | None = None) -> Database:
    """The database brought to the head revision, with fresh planner statistics (`vigie db upgrade`,
    and `vigie demo`, which does everything itself); with ``scratch``, only if it is empty or that
    command's own (`claim_scratch`), checked before the upgrade."""
    from models.migrate import upgrade

    db = open_database(settings.database_url, settings.archive.retention, settings.archive.supervision)
    if scratch is not None:
        claim_scratch(db, scratch)
    upgrade(db.engine)
    analyze(db)
    return db


def parse_when(value: str | None, option: str, end_of_day: bool) -> datetime | None:
    """An ISO date or date-time, UTC unless it carries an offset. A date alone is its midnight, or
    for --until the next midnight (so ``--until 2024-05-31`` includes the 31st)."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day) + (timedelta(days=1) if end_of_day else timedelta())
        return to_naive_utc(datetime.fromisoformat(text))
    except ValueError:
        raise click.BadParameter(f"expected an ISO date or date-time such as 2024-05-01 or 2024-05-01T09:30Z, "
                                 f"got {value!r}", param_hint=option) from None


@contextmanager
def snapshot_session(db: Database) -> Iterator[Session]:
    """A read session on one consistent snapshot (PostgreSQL: REPEATABLE READ; SQLite: a WAL read
    transaction is one), so writes committed meanwhile neither tear an export nor show as breaks."""
    with db.read() as session:
        if not db.is_sqlite:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session
