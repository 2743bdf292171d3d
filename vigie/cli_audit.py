"""`vigie audit`: export the audit trail for auditors, and verify that it is whole.

    vigie audit export [--format csv|jsonl] [--since WHEN] [--until WHEN] [--item ID] [--actor NAME]
                       [--output FILE]
    vigie audit verify

Both read one consistent snapshot of the database (PostgreSQL: a REPEATABLE READ
transaction; SQLite: WAL read transactions are snapshots), so actions committed meanwhile
neither tear an export nor show as false breaks in `verify`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click

from models.audit import iter_events, verify_chains, write_csv, write_jsonl
from vigie.common import ITEM_ID, checked_settings, open_current, parse_when, snapshot_session


@contextmanager
def _output(path: Path | None, fmt: str) -> Iterator[IO[str]]:
    """stdout, or FILE written whole or not at all (a .part file renamed at the end). A CSV file
    starts with a UTF-8 byte-order mark, without which Excel reads accented text as mojibake."""
    if path is None:
        stream = sys.stdout
        yield stream
        stream.flush()
        return
    part = path.with_name(path.name + ".part")
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    try:
        with part.open("w", encoding=encoding, newline="") as out:
            yield out
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


@click.group()
def audit() -> None:
    """The audit trail: export it for auditors, verify that it is whole."""


@audit.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="csv: cells that a spreadsheet would run as formulas are neutralised; jsonl: one event a line.")
@click.option("--since", default=None, metavar="WHEN", help="Events at or after this UTC date or date-time.")
@click.option("--until", default=None, metavar="WHEN",
              help="Events before this UTC date-time (a date alone: up to the end of that day).")
@click.option("--item", "item_id", type=ITEM_ID, default=None, metavar="ID",
              help="Only this queue item's events and those of the replies written on it.")
@click.option("--actor", default=None, metavar="NAME", help="Only this actor's events.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              metavar="FILE", help="Write to FILE instead of stdout (a CSV file starts with a UTF-8 BOM, for Excel).")
def export(fmt: str, since: str | None, until: str | None, item_id: int | None, actor: str | None,
           output: Path | None) -> None:
    """Export audit events in id order (streamed: any size)."""
    start, end = parse_when(since, "--since", False), parse_when(until, "--until", True)
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("--until must be after --since", param_hint="--until")
    db = open_current(checked_settings())
    try:
        with snapshot_session(db) as session, _output(output, fmt) as out:
            events = iter_events(session, since=start, until=end, item_id=item_id, actor=actor, replies=True)
            count = write_csv(events, out) if fmt == "csv" else write_jsonl(events, out)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output or 'to stdout'}: {exc.strerror or exc}") from exc
    if output is not None:
        click.echo(f"{count} event(s) written to {output}", err=True)


@audit.command()
def verify() -> None:
    """Check that every item's chain of audit events is whole; exit status 1 if not.

    Each event must start where the previous one left the item, and the last one must match
    the item as it is now. Every break is printed, one a line."""
    db = open_current(checked_settings())
    items = broken = problems = 0
    with snapshot_session(db) as session:
        for _item_id, found in verify_chains(session):
            items += 1
            broken += bool(found)
            problems += len(found)
            for problem in found:
                click.echo(problem)
    if broken:
        click.echo(f"{problems} problem(s) in {broken} of {items} item(s) with audit events", err=True)
        sys.exit(1)
    click.echo(f"audit trail whole: {items} item(s) with audit events checked")
