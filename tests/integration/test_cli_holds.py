"""`vigie archive hold …`, `erasure request` and `purge` as a user runs them: only an active
compliance account may act, four eyes on a release, and the purge never runs ahead of the clock."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from models.archive_tables import ErasureRequest, LegalHold
from models.db import open_database
from models.migrate import upgrade
from models.tables import AuditEvent
from models.users import add_user
from tests.kit import vigie_env
from vigie.cli_archive import archive


def test_holds_erasure_and_purge_from_the_command_line(tmp_path: Path) -> None:
    """In process (CliRunner, the environment a shell would give): twenty commands in seconds."""
    env = vigie_env(tmp_path / "v.db")
    db = open_database(env["DATABASE_URL"])
    upgrade(db.engine)
    with db.write.begin() as s:
        for name, role, teams in (("ann", "compliance", []), ("bob", "compliance", []), ("carl", "lead", ["legal"])):
            add_user(s, name, role, teams, None, ["legal", "service", "marketing"])
    runner = CliRunner()

    def vigie(*args: str) -> Result:
        assert args[0] == "archive"  # the group itself: `vigie`'s entry point sets up logging on real files
        return runner.invoke(archive, list(args[1:]), env=env)

    place = ("archive", "hold", "place", "--matter", "Doe v. Bank", "--reason", "litigation", "--item", "12",
             "--author", "x:@doe", "--since", "2024-01-01T00:00:00+01:00", "--query", "refund")
    for actor in ("carl", "nobody"):
        refused = vigie(*place, "--actor", actor)
        assert refused.exit_code == 1 and "not an active account with the compliance role" in refused.stderr
    placed = vigie(*place, "--actor", "ann")
    assert placed.exit_code == 0, placed.stderr
    assert placed.stdout == ("hold 1 placed for 'Doe v. Bank': items 12; authors x:@doe; from 2023-12-31T23:00:00 "
                             "to now on; content containing 'refund'\n")
    unknown = vigie("archive", "hold", "place", "--matter", "m", "--reason", "r", "--source", "nowhere",
                    "--actor", "ann")
    assert unknown.exit_code == 1 and "unknown source: nowhere" in unknown.stderr
    own = vigie("archive", "hold", "release", "1", "--reason", "settled", "--actor", "ann")
    assert own.exit_code == 1 and "four eyes" in own.stderr
    assert "standing" in vigie("archive", "hold", "list").stdout
    released = vigie("archive", "hold", "release", "1", "--reason", "settled", "--actor", "bob")
    assert released.exit_code == 0 and "released by bob" in released.stdout, released.stderr
    assert "released by bob" in vigie("archive", "hold", "list").stdout

    assert vigie("archive", "erasure", "request", "x:@doe", "--reason", "DP-1", "--actor", "carl").exit_code == 1
    requested = vigie("archive", "erasure", "request", "x:@doe", "--reason", "DP-1", "--actor", "bob")
    assert requested.stdout == "data-protection request 1: x:@doe restricted\n", requested.stderr

    ahead = vigie("archive", "purge", "--now", "2099-01-01T00:00:00")
    assert ahead.exit_code == 1 and "later than the clock" in ahead.stderr
    purged = vigie("archive", "purge")
    assert purged.exit_code == 0 and "0 record(s) purged" in purged.stdout, purged.stderr
    assert "1 erasure request(s) completed" in purged.stdout  # nothing of x:@doe was ever stored

    with db.read() as s:
        hold = s.scalars(select(LegalHold)).one()
        request = s.scalars(select(ErasureRequest)).one()
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.subject.is_not(None))
                                 .order_by(AuditEvent.id)))
    assert (hold.placed_by, hold.released_by, request.requested_by, request.status) == ("ann", "bob", "bob", "erased")
    assert actions == ["hold.place", "hold.release", "erasure.request", "erasure.erased"]
    db.engine.dispose()
