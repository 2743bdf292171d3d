"""`vigie db upgrade [--sql] [--from REV]`, `vigie db current`, `vigie init-db` (an alias) and `--version`.

Schema changes are explicit: this is the only command that changes the schema (with `vigie demo`,
the benchmarks and the tests, which upgrade their own databases); every other one refuses a
database that is not at the head revision (`vigie.common.open_current`). `--sql` prints the SQL for
a DBA to review and run with the DDL rights the runtime account need not have.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import click
from sqlalchemy.exc import SQLAlchemyError

from config.effective import masked_url
from models.db import analyze, open_database
from vigie.common import checked_settings, unreadable


def version_line() -> str:
    from models.migrate import head_revision

    try:
        package = version("vigie")
    except PackageNotFoundError:  # run from a checkout that was never installed
        package = "unknown (not installed)"
    return f"vigie {package} (database schema revision {head_revision()})"


@click.group()
def db() -> None:
    """The database schema: upgrade it (or print the SQL for a DBA), show its revision."""


def _upgrade() -> None:
    from models.migrate import current_revision, head_revision, upgrade

    settings = checked_settings()
    database = open_database(settings.database_url)
    before = current_revision(database.engine)
    after = upgrade(database.engine)
    analyze(database)
    change = "already at the head" if before == after else f"upgraded from {before or 'an empty database'}"
    click.echo(f"database ready at revision {after} ({change}; head {head_revision()}): "
               f"{masked_url(database.engine.url.render_as_string())}")
    database.engine.dispose()


def _print_sql(start: str | None) -> None:
    from models.migrate import current_revision, head_revision, known_revisions, upgrade_sql

    settings = checked_settings()
    database = open_database(settings.database_url)
    dialect = database.engine.dialect.name
    if dialect == "sqlite":
        raise click.ClickException(
            "--sql is not offered for SQLite: the database is an embedded file (its schema changes rebuild tables, "
            "which needs the file itself); run `vigie db upgrade`")
    if start is None:
        try:
            start = current_revision(database.engine)
            origin = f"the database's revision, {start}" if start else "an empty database (the database has none)"
        except SQLAlchemyError as exc:  # a script from the wrong start would fail half-way: say where to start
            raise click.ClickException(
                f"the database's revision could not be read ({type(exc).__name__}): give the revision it is at "
                "with --from REV, or --from base for an empty database") from None
        finally:
            database.engine.dispose()
    elif start == "base":
        start, origin = None, "an empty database (--from base)"
    else:
        origin = f"revision {start} (--from)"
    if start is not None and start not in known_revisions():
        raise click.ClickException(f"revision {start!r} is not one of this release's: "
                                   f"{', '.join(known_revisions())} (or base)")
    head = head_revision()
    if start == head:
        click.echo(f"nothing to do: the database is at the head revision, {head}", err=True)
        return
    click.echo(f"-- Vigie schema upgrade for {dialect}: from {origin} to {head}")
    upgrade_sql(settings.database_url, start, sys.stdout)


@db.command("upgrade")
@click.option("--sql", "as_sql", is_flag=True,
              help="Print the SQL instead of running it (PostgreSQL), for a DBA; nothing is changed.")
@click.option("--from", "start", default=None, metavar="REV",
              help="With --sql: the revision the database is at ('base': empty). Default: read from the "
                   "database when reachable, else from an empty database.")
def db_upgrade(as_sql: bool, start: str | None) -> None:
    """Create or upgrade the schema to this release's head revision (safe to run again)."""
    if start is not None and not as_sql:
        raise click.BadParameter("only with --sql (the upgrade itself reads the database's revision)",
                                 param_hint="--from")
    if as_sql:
        _print_sql(start)
    else:
        _upgrade()


@db.command("current")
def db_current() -> None:
    """The database's schema revision and whether it is the head (exit 1 when it is not)."""
    from models.migrate import current_revision, schema_problem

    settings = checked_settings()
    database = open_database(settings.database_url)
    try:
        revision = current_revision(database.engine)
    except SQLAlchemyError as exc:
        raise click.ClickException(unreadable(exc)) from None
    finally:
        database.engine.dispose()
    problem = schema_problem(revision)
    if problem is None:
        click.echo(f"{revision} (head)")
        return
    click.echo(f"{revision or 'none'} (not the head: {problem})")
    sys.exit(1)


@click.command("init-db")
def init_db() -> None:
    """An alias of `vigie db upgrade`, kept for existing scripts."""
    click.echo("note: `vigie init-db` is an alias of `vigie db upgrade`", err=True)
    _upgrade()
