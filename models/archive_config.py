"""Changes of the settings files a regulator may ask about (lexicons, routing rules, retention and
supervision, teams, brands, outbound policy, sources, notifications, reporting), as archive records.

The sealer calls `record_config_changes` each run: a file whose text differs from the one its
newest ``config:<file>`` record holds (or that has no record yet) gets a new record with its text
(credentials redacted: an Apprise URL given inline carries a token) and the file's digest. A
settings change therefore lands in the archive within one sealing interval of
the collector starting with it (settings are read once, at start)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.archive import write_record
from models.archive_tables import ArchiveContent, ArchiveRecord

# Values that may hold a credential (notifications.yaml accepts an Apprise URL inline, with its
# token or password): never written into a record that is kept for years and handed to auditors.
_SECRET = re.compile(r"""(?P<key>(?<![\w-])(?:url|token|secret|password|client_secret|api_key|app_password)(?![\w-]))"""
                     r"""(?P<sep>\s*:[ \t]*)(?P<value>"[^"\n]*"|'[^'\n]*'|[^,}\n#]*[^,}\n#\s])""")
REDACTED = '"[redacted]"'


def redacted(text: str) -> str:
    """``text`` with the value of every credential-like key (``url``, ``token``, ``password``…)
    replaced by ``"[redacted]"``: block and flow YAML alike; keys ending in ``_env``/``_file``
    (which name where the secret is) are kept."""
    return _SECRET.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", text)


FILES: tuple[str, ...] = ("lexicons.yaml", "routing.yaml", "archive.yaml", "teams.yaml", "brands.yaml",
                          "outbound.yaml", "sources.yaml", "notifications.yaml", "reporting.yaml")


def _recorded_digest(session: Session, name: str) -> str | None:
    body = session.scalar(
        select(ArchiveContent.body).join(ArchiveRecord, ArchiveRecord.id == ArchiveContent.record_id)
        .where(ArchiveRecord.subject == f"config:{name}").order_by(ArchiveRecord.id.desc()).limit(1))
    if body is None:
        return None
    try:
        found = json.loads(body).get("sha256")
    except (ValueError, AttributeError):
        return None
    return str(found) if found else None


def record_config_changes(session: Session, config_dir: Path) -> int:
    """Write a ``config`` record for each settings file changed since its last record; how many."""
    written = 0
    for name in FILES:
        path = config_dir / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if _recorded_digest(session, name) == digest:
            continue
        # the digest is the file's own (to tell a change); the text kept is without its credentials
        write_record(session, "config", f"config:{name}", {"file": name, "sha256": digest, "text": redacted(text)})
        written += 1
    return written
