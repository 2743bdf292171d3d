"""`vigie collectors list` and `vigie collectors forget NAME`: the collectors' heartbeats as `/readyz`
judges them (`models.heartbeats`). A collector killed or hung keeps `/readyz` at 503 until it beats
again; one retired without a clean stop is forgotten here."""

from __future__ import annotations

import click

from models import heartbeats
from models.tables import utcnow
from vigie.common import checked_settings, open_current


@click.group()
def collectors() -> None:
    """The collector processes: their heartbeats, and forgetting a retired one."""


@collectors.command("list")
def list_collectors() -> None:
    """Each collector's last beat, state and the sources it held (newest beat first)."""
    db = open_current(checked_settings())
    now = utcnow()
    with db.read() as session:
        rows = heartbeats.heartbeats(session)
        ok, detail = heartbeats.collectors_ready(rows, now)
    for row in rows:
        state = heartbeats.collector_gone(row, now) or "alive"
        click.echo(f"{row.worker_id}\t{row.hostname}:{row.pid}\tv{row.version}\tlast beat "
                   f"{row.beat_at:%Y-%m-%d %H:%M:%S} UTC\t{state}\tsources: {', '.join(row.sources or []) or '-'}")
    click.echo(f"readiness: {'ok' if ok else 'not ready'}: {detail}")


@collectors.command()
@click.argument("name")
def forget(name: str) -> None:
    """Forget the retired collector NAME (its VIGIE_WORKER_ID): it no longer counts for /readyz."""
    db = open_current(checked_settings())
    with db.write.begin() as session:
        found = heartbeats.forget(session, name)
    if not found:
        raise click.ClickException(f"no collector named {name!r} (see `vigie collectors list`)")
    click.echo(f"forgot collector {name}; if it runs again, its next start registers it afresh")
