"""`vigie archive anchor`: anchor the archive's head now, as the collector's daily
``archive:anchor`` job does (`models.archive_anchor`): the head appended to the anchor file
(``archive.yaml: anchor_file``, or ``--file``), an "anchor" record, and a message to each channel
subscribed to ``archive_head``. Records waiting are sealed first, so the head covers them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from models.archive_anchor import AnchorError, anchor_head
from models.archive_seal import seal
from models.tables import utcnow
from vigie.common import checked_settings, open_current

ACTOR = "vigie archive"


@click.command("anchor")
@click.option("--file", "anchor_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append to this file (default: archive.yaml's anchor_file).")
def archive_anchor(anchor_path: Path | None) -> None:
    """Seal what waits, then append the head to the anchor file and send it to compliance."""
    settings = checked_settings()
    if anchor_path is not None:
        settings = replace(settings, archive=replace(settings.archive, anchor_file=str(anchor_path)))
    db = open_current(settings)
    while True:
        with db.write.begin() as session:
            if seal(session, ACTOR) is None:
                break
    try:
        with db.write.begin() as session:
            anchored = anchor_head(session, settings, utcnow(), force=True)
    except AnchorError as exc:
        raise click.ClickException(str(exc)) from exc
    if anchored is None:
        raise click.ClickException("nothing sealed yet: no head to anchor")
    line = anchored.line
    click.echo(f"anchored segment {line['seq']} {line['hash']} ({line['records']} record(s) sealed) in "
               f"{anchored.path}; {anchored.notified} message(s) to send")
