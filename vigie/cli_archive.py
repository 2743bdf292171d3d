"""`vigie archive …`: the records for regulators.

``vigie archive seal`` seals the records waiting into the next segments now (the collector's
``archive:seal`` job does it every ``seal_every_seconds``). ``vigie archive verify`` re-derives
every hash and checks the anchored heads (the anchor file of ``archive.yaml``, or ``--anchors``);
it prints the first failures and exits 1 when anything fails; each run is kept (shown on
/archive) and is itself a record. ``vigie archive head`` prints the head: the newest segment's
number and hash, to compare with a copy kept elsewhere. ``vigie archive anchor`` appends the head to
the anchor file and sends it to compliance now (the collector's ``archive:anchor`` job does it
daily). ``vigie archive export`` and ``verify-export``: `vigie.cli_archive_export`. ``vigie archive reconcile``
(`vigie.cli_archive_reconcile`) reports every gap between what sources returned and what the
archive holds.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from models.archive import write_record
from models.archive_seal import head, seal
from models.archive_tables import ArchiveVerification
from models.archive_verify import read_anchors, verify
from models.tables import utcnow
from vigie.cli_archive_anchor import archive_anchor
from vigie.cli_archive_export import export, verify_export
from vigie.cli_archive_holds import COMMANDS as HOLD_COMMANDS
from vigie.cli_archive_reconcile import archive_reconcile
from vigie.common import checked_settings, open_current, snapshot_session

ACTOR = "vigie archive"


@click.group()
def archive() -> None:
    """The archive: seal, verify, print or anchor the head."""


@archive.command("seal")
def archive_seal() -> None:
    """Seal every record waiting into segments now."""
    db = open_current(checked_settings())
    total = 0
    while True:
        with db.write.begin() as session:
            segment = seal(session, ACTOR)
            if segment is None:
                break
            total += segment.count
            click.echo(f"segment {segment.seq}: {segment.count} record(s), hash {segment.hash}")
    click.echo(f"{total} record(s) sealed")


@archive.command("verify")
@click.option("--anchors", "anchor_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Anchor file to check the chain against (default: archive.yaml's anchor_file).")
@click.option("--by", default=ACTOR, show_default=True, help="Who ran the check (kept with its outcome).")
def archive_verify(anchor_path: Path | None, by: str) -> None:
    """Re-derive every hash; exit 1 and print the first failures if anything fails."""
    settings = checked_settings()
    path = anchor_path or Path(settings.archive.anchor_file)
    try:
        anchors = read_anchors(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else []
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    if anchor_path is not None and not path.is_file():
        raise click.ClickException(f"{path}: anchor file not found")
    db = open_current(settings)
    with snapshot_session(db) as session:  # one snapshot: a purge committed meanwhile is no break
        result = verify(session, anchors, now=utcnow())
    now = utcnow()
    failure = "; ".join(str(f) for f in result.failures) or None
    with db.write.begin() as session:
        session.add(ArchiveVerification(at=now, by=by[:200], ok=result.ok, records=result.records,
                                        segments=result.segments, head_hash=result.head_hash, failure=failure))
        write_record(session, "verification", "archive:verify",
                     {"at": now, "by": by, "ok": result.ok, "records": result.records, "segments": result.segments,
                      "head_seq": result.head_seq, "head_hash": result.head_hash, "anchors": len(anchors),
                      "failures": [str(f) for f in result.failures]}, at=now)
    click.echo(f"{result.segments} segment(s), {result.records} record(s) checked, {result.pending} waiting to be "
               f"sealed, {len(anchors)} anchored head(s) from {path}")
    if result.head_seq is not None:
        click.echo(f"head: segment {result.head_seq} {result.head_hash}")
    if result.ok:
        click.echo("OK: every hash re-derived and every anchored head found")
        return
    for failure_line in result.failures:
        click.echo(f"FAILED {failure_line}")
    raise SystemExit(1)


@archive.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print the head as one JSON line.")
def archive_head(as_json: bool) -> None:
    """Print the newest segment's number and hash."""
    db = open_current(checked_settings())
    with db.read() as session:
        segment = head(session)
    if segment is None:
        raise click.ClickException("no segment yet: nothing has been sealed (vigie archive seal)")
    if as_json:
        click.echo(json.dumps({"seq": segment.seq, "hash": segment.hash, "sealed_at": segment.sealed_at.isoformat(),
                               "last_record_id": segment.last_record_id}))
        return
    click.echo(f"segment {segment.seq} sealed {segment.sealed_at.isoformat()}Z: {segment.hash}")


for _command in HOLD_COMMANDS:  # hold, erasure, purge: vigie/cli_archive_holds.py
    archive.add_command(_command)
archive.add_command(archive_anchor)
archive.add_command(export)  # export, verify-export: vigie/cli_archive_export.py
archive.add_command(verify_export)
archive.add_command(archive_reconcile)
