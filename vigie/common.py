"""What every `vigie` command starts with: the checked settings and the migrated database.

Its own module so that the command modules (`cli`, `cli_audit`, `cli_summary`, `cli_users`)
all import it and none of them imports `vigie.cli`, the entry point.
"""

from __future__ import annotations

import click

from config.settings import ConfigError, Settings
from models.db import Database, analyze, open_database


def checked_settings() -> Settings:
    """The settings, with every source's options checked; a bad value ends the command naming it."""
    from collectors.sources import load_checked_settings

    try:
        return load_checked_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc


def claim_scratch(db: Database, purpose: str) -> None:
    """End the command, touching nothing, unless ``db`` is empty or ``purpose``'s own (`models.scratch`)."""
    from models.scratch import NotScratch, claim

    try:
        claim(db.engine, purpose)
    except NotScratch as exc:
        db.engine.dispose()
        raise click.ClickException(str(exc)) from exc


def open_migrated(settings: Settings, scratch: str | None = None) -> Database:
    """The database at the schema's head revision, with fresh planner statistics; with ``scratch``,
    only if it is empty or that command's own (`claim_scratch`), checked before the upgrade."""
    from models.migrate import upgrade

    db = open_database(settings.database_url, settings.archive.retention)
    if scratch is not None:
        claim_scratch(db, scratch)
    upgrade(db.engine)
    analyze(db)
    return db
