"""Safe tools: the benchmarks and the demo refuse a database holding data they did not create,
before touching a row (`models.scratch`); their own (empty, then marked) database they use again.
SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from config.settings import Settings
from models.archive import write_record
from models.archive_tables import ArchiveRecord
from models.db import Database
from models.scratch import NotScratch, claim, purposes
from models.tables import User
from models.users import add_user
from tests.kit import vigie_env
from tests.support import VIGIE, free_port

COMMANDS = {
    "bench ingest": ["bench", "ingest", "--count", "10"],
    "bench outbox": ["bench", "outbox", "--count", "5", "--database-url", "{url}"],
    "bench dashboard": ["bench", "dashboard", "--mentions", "10", "--rounds", "1", "--database-url", "{url}"],
    "demo": ["demo", "--port", "{port}", "--no-desk"],
}


def _real_data(db: Database, settings: Settings) -> tuple[int, int, set[str]]:
    with db.write.begin() as s:
        add_user(s, "ann", "compliance", [], "a long enough password", settings.team_keys)
        write_record(s, "config", "config:routing", {"rules": ["a bank's own"]})
    return _state(db)


def _state(db: Database) -> tuple[int, int, set[str]]:
    with db.read() as s:
        users = s.scalar(select(func.count()).select_from(User)) or 0
        records = s.scalar(select(func.count()).select_from(ArchiveRecord)) or 0
    return users, records, set(inspect(db.engine).get_table_names())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_refuses_a_database_with_data_it_did_not_create(
    db: Database, settings: Settings, db_url: str, tmp_path: Path, command: str
) -> None:
    before = _real_data(db, settings)
    assert before[:2] == (1, 2)  # the user (its audit event is a record too) and the config record
    args = [a.format(url=db_url, port=free_port()) for a in COMMANDS[command]]
    result = subprocess.run([VIGIE, *args], env=vigie_env(db_url, log_level="WARNING"), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0, result.stdout
    assert "holds data that vigie " in result.stderr and "refusing to touch it" in result.stderr, result.stderr
    assert "rows in users" in result.stderr and "archive_records" in result.stderr
    assert _state(db) == before and purposes(db.engine) == []  # nothing deleted, dropped or marked


def test_an_empty_database_is_marked_and_used_again_by_the_same_command_only(db: Database) -> None:
    claim(db.engine, "vigie bench")
    claim(db.engine, "vigie bench")  # its own: used again
    assert purposes(db.engine) == ["vigie bench"]
    with pytest.raises(NotScratch, match="is vigie bench's database, not vigie demo's"):
        claim(db.engine, "vigie demo")
