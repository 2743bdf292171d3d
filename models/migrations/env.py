"""Alembic environment: runs migrations on the connection handed over by models.migrate, or, in
offline mode (`vigie db upgrade --sql`), writes their SQL for the dialect of the configured URL."""

from __future__ import annotations

from alembic import context

from models.tables import Base

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """SQL text for a DBA: no connection, values rendered inline, one transaction around it all."""
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"}, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from models.db import make_engine

        engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
