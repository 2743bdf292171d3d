"""`vigie archive export` and `vigie archive verify-export`: records for auditors, checked offline.

    vigie archive export [--since WHEN] [--until WHEN] [--matter HOLD_ID] [--author NETWORK:HANDLE]
                         [--item MENTION_ID] [--format jsonl,eml,csv] [--include-restricted --actor NAME]
                         --out DIR
    vigie archive verify-export DIR [--head HASH]...

``export`` seals every record waiting first (so the export holds everything written before it),
counts the selection (one bounded COUNT, for the progress bar), then streams the records from one
snapshot into DIR (`models.archive_export`) and records who exported what (an audit event and its
archive record, with the manifest's SHA-256). Records of an author named by a data-protection
request are left out unless ``--include-restricted``, which needs ``--actor``: an active
compliance account.

``verify-export`` needs no database and reads no setting: `models.archive_check` (standard
library only) checks every file, record, proof and segment; ``--head`` is a hash anchored outside
the archive. Exit status 1 when anything fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from models.archive_check import check_export, report
from models.archive_export import ExportError, Selection, count_selection, export_archive, record_export, seal_waiting
from models.users import get_user
from vigie.common import HOLD_ID, MENTION_ID, checked_settings, open_current, parse_when

ACTOR = "vigie archive"


@click.command("export")
@click.option("--since", default=None, metavar="WHEN", help="Records at or after this UTC date or date-time.")
@click.option("--until", default=None, metavar="WHEN",
              help="Records before this UTC date-time (a date alone: up to the end of that day).")
@click.option("--matter", "hold_id", type=HOLD_ID, default=None, metavar="HOLD_ID",
              help="The records a legal hold's scope selects (its matter), held or released.")
@click.option("--author", default=None, metavar="NETWORK:HANDLE", help="Only this author's records.")
@click.option("--item", "mention_id", type=MENTION_ID, default=None, metavar="MENTION_ID",
              help="Only this mention's records (the post and every action on it).")
@click.option("--format", "formats", default="jsonl,eml,csv", show_default=True,
              help="Comma-separated: jsonl, eml (one RFC 5322 message per record), csv (formula-safe).")
@click.option("--include-restricted", is_flag=True,
              help="Include (marked) the records of authors a data-protection request names: compliance only.")
@click.option("--actor", default=None, metavar="NAME",
              help="Who exports (an active compliance account); required with --include-restricted.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="A new or empty folder to write the export into.")
def export(since: str | None, until: str | None, hold_id: int | None, author: str | None, mention_id: int | None,
           formats: str, include_restricted: bool, actor: str | None, out_dir: Path) -> None:
    """Export records with their manifest and proofs (streamed: any size)."""
    from vigie.cli_audit import snapshot_session

    start, end = parse_when(since, "--since", False), parse_when(until, "--until", True)
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("--until must be after --since", param_hint="--until")
    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    if include_restricted and not actor:
        raise click.UsageError("--include-restricted needs --actor: the compliance account that exports")
    db = open_current(checked_settings())
    if actor is not None:
        with db.read() as session:
            user = get_user(session, actor)
            if user is None or not user.active or user.role != "compliance":
                raise click.ClickException(f"--actor {actor!r}: not an active compliance account")
    selection = Selection(since=start, until=end, hold_id=hold_id, author=author, mention_id=mention_id,
                          include_restricted=include_restricted)
    sealed = seal_waiting(db, ACTOR)
    try:
        with snapshot_session(db) as session:
            total = count_selection(session, selection)
            with click.progressbar(length=total, label=f"exporting {total} record(s)", file=sys.stderr) as bar:
                summary = export_archive(session, out_dir, selection, chosen, progress=bar.update, total_hint=False)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_dir}: {exc.strerror or exc}") from exc
    with db.write.begin() as session:
        record_export(session, actor or ACTOR, selection, chosen, summary)
    if sealed:
        click.echo(f"{sealed} record(s) waiting were sealed first")
    click.echo(f"{summary.records} record(s) exported to {out_dir} ({summary.files} file(s); {summary.tombstones} "
               f"tombstone(s), {summary.restricted} restricted included, {summary.restricted_left_out} restricted "
               f"left out, {summary.unsealed_left_out} written meanwhile and not yet sealed left out)")
    if summary.head is not None:
        click.echo(f"head: segment {summary.head_seq} {summary.head}")
    click.echo(f"manifest SHA-256: {summary.manifest_sha256} (kept in the archive's export record)")
    for problem in summary.problems:
        click.echo(f"WARNING {problem}", err=True)


@click.command("verify-export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--head", "heads", multiple=True, metavar="HASH",
              help="A head hash anchored outside the archive: it must be a segment of the export's chain.")
def verify_export(directory: Path, heads: tuple[str, ...]) -> None:
    """Check an export offline, without the database; exit 1 and print the first failures if anything fails."""
    result = check_export(directory, heads)
    for line in report(result, directory):
        click.echo(line)
    if not result.ok:
        raise SystemExit(1)
