"""The schema's Alembic migrations: applied by `vigie db upgrade` (and by `vigie demo`, the
benchmarks and the test fixtures), written out as SQL for a DBA by `vigie db upgrade --sql`, and
checked by every other process, which refuses a database that is not at the head revision."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_HINT = "run `vigie db upgrade` (or `vigie db upgrade --sql` for the SQL, for a DBA to run)"


class SchemaNotCurrent(Exception):
    """The database's schema is not the revision this release needs; the message says what to run."""


def alembic_config(url: str = "", output: TextIO | None = None) -> Config:
    cfg = Config(output_buffer=output) if output is not None else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return current_revision(engine) or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """Every revision this release ships, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config()).walk_revisions()  # newest first
    return [script.revision for script in reversed(list(scripts))]


def schema_problem(current: str | None) -> str | None:
    """Why a database at revision ``current`` cannot be used by this release, or None when it can."""
    head = head_revision()
    if current == head:
        return None
    if current is None:
        return f"the database has no schema (no revision), this release needs revision {head}: {UPGRADE_HINT}"
    if current not in known_revisions():
        return (f"the database is at revision {current}, which this release does not know (it needs {head}): "
                "the database was upgraded by a newer release; run that release")
    return f"the database is at revision {current}, this release needs revision {head}: {UPGRADE_HINT}"


def require_head(engine: Engine) -> None:
    """Raise `SchemaNotCurrent` unless the schema is at the head revision (an empty database is not)."""
    problem = schema_problem(current_revision(engine))
    if problem is not None:
        raise SchemaNotCurrent(problem)


def upgrade_sql(url: str, start: str | None, output: TextIO) -> None:
    """Write to ``output`` the SQL that takes a database at revision ``start`` (None: an empty one) to
    the head, for the dialect of ``url``, without connecting (Alembic's offline mode)."""
    cfg = alembic_config(url, output)
    command.upgrade(cfg, f"{start}:head" if start else "head", sql=True)
