"""Settings changes as records (`models.archive_config`): each changed file recorded once, with its
credentials redacted (an Apprise URL given inline carries a token: never kept for years and handed to
auditors). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from models.archive_config import record_config_changes, redacted
from models.archive_tables import ArchiveContent, ArchiveRecord
from models.db import Database

NOTIFY = """channels:
  - name: leads
    url: slack://T0KENA/T0KENB/T0KENC
    events: [sla_breach]
  - {name: mail, url: "mailtos://ann:hunter2@smtp.example.com", events: [critical]}
  - name: kept
    url_env: VIGIE_NOTIFY_URL
    events: [spike]
"""


def test_a_changed_file_is_recorded_once_without_its_credentials(db: Database, tmp_path: Path) -> None:
    (tmp_path / "notifications.yaml").write_text(NOTIFY, encoding="utf-8")
    (tmp_path / "routing.yaml").write_text("rules: []\n", encoding="utf-8")
    with db.write.begin() as s:
        assert record_config_changes(s, tmp_path) == 2
    with db.write.begin() as s:
        assert record_config_changes(s, tmp_path) == 0  # unchanged: nothing new
    (tmp_path / "routing.yaml").write_text("rules: [{id: x}]\n", encoding="utf-8")
    with db.write.begin() as s:
        assert record_config_changes(s, tmp_path) == 1
    with db.read() as s:
        bodies = dict(s.execute(select(ArchiveRecord.subject, ArchiveContent.body).join(ArchiveContent)
                                .where(ArchiveRecord.subject == "config:notifications.yaml")).all())
    kept = json.loads(bodies["config:notifications.yaml"])["text"]
    for secret in ("T0KENA", "hunter2", "slack://", "mailtos://"):
        assert secret not in kept
    assert "VIGIE_NOTIFY_URL" in kept and "sla_breach" in kept  # where the secret is, and the rest, stay


def test_redaction_leaves_other_keys_alone() -> None:
    assert redacted("url_file: /run/secret\nname: token-holder\n") == "url_file: /run/secret\nname: token-holder\n"
    assert redacted("  token: abc\n") == '  token: "[redacted]"\n'
