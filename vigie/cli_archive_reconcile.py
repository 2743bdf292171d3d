"""`vigie archive reconcile`: every gap between what the sources returned and what the archive holds.

Prints, per source, its polls' counts (returned, stored, rejected, already known) beside its post
records and mentions since the archive began (and the mentions from before it, which are not
gaps), then every gap found (`models.reconcile`), and exits 1 if there is any. Each run is itself a
record (kind "poll"): the per-source totals it saw, sealed with the rest, so the poll counts of
that day cannot later be rewritten unseen.
"""

from __future__ import annotations

import json

import click

from models.archive import write_record
from models.reconcile import Gaps, reconcile
from models.tables import utcnow
from vigie.common import checked_settings, open_current, snapshot_session

ACTOR = "vigie archive reconcile"


def _gap_line(label: str, gaps: Gaps) -> str:
    shown = ", ".join(str(i) for i in gaps.ids)
    more = f" (first {len(gaps.ids)}: {shown})" if gaps.ids else ""
    return f"GAP {gaps.count} {label}{more}"


@click.command("reconcile")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON document.")
@click.option("--by", default=ACTOR, show_default=True, help="Who ran the check (kept in its record).")
def archive_reconcile(as_json: bool, by: str) -> None:
    """Compare the polls' counts, the mentions and the post records; exit 1 on any gap."""
    db = open_current(checked_settings())
    with snapshot_session(db) as session:  # one snapshot: counts that agree with each other
        result = reconcile(session)
    summary = result.summary()
    now = utcnow()
    with db.write.begin() as session:
        write_record(session, "poll", "archive:reconcile", {"at": now, "by": by, **summary}, at=now)
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        begins = result.archive_begins
        click.echo("archive begins at mention " + (str(begins) if begins is not None else "- (no post record yet)"))
        for s in result.sources:
            click.echo(f"{s.name}: {s.polls} poll(s) returned {s.returned}: {s.stored} stored, {s.rejected} rejected, "
                       f"{s.known} already known; {s.records} post record(s), {s.mentions} mention(s)"
                       + (f", {s.purged} purged" if s.purged else "")
                       + (f"; {s.before_archive} mention(s) before the archive" if s.before_archive else "")
                       + (" - GAP" if s.gap else ""))
        for label, gaps in (("poll(s) whose items do not add up (returned != stored + rejected + known)",
                             result.unbalanced_polls),
                            ("mention(s) without a post record", result.mentions_without_record),
                            ("post record(s) whose mention is gone", result.records_without_mention)):
            if gaps.count:
                click.echo(_gap_line(label, gaps))
        click.echo("OK: no gap between what the sources returned and what the archive holds" if result.ok
                   else "FAILED: gaps found (above)")
    if not result.ok:
        raise SystemExit(1)
