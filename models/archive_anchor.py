"""Anchoring: each UTC day, once, the archive's head (the newest segment's number and hash) is kept
outside the database, so that a chain rewritten in the database no longer matches what was kept.

`anchor_head` appends the head as one JSON line to the anchor file (``archive.yaml:
anchor_file``; the file is only ever appended to, never rewritten), writes an "anchor" record
(subject ``anchor:<day>``: how a day already anchored is known, by every collector sharing the
database) and writes an ``archive_head`` message for each channel subscribed (compliance keeps
the head in its mail: one more copy out of the database's reach). All in the caller's write
transaction, the line appended last: if the append fails nothing is recorded, and a line whose
transaction then failed is only a day anchored twice. `vigie archive verify` reads the file.

Before appending, the file's last head must still be in the chain, unchanged: a chain rewritten
(or a file belonging to another database) is refused (`AnchorError`), never anchored over.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from config.settings import Settings
from models.archive import write_record
from models.archive_seal import head
from models.archive_tables import ArchiveRecord, ArchiveSeal, ArchiveSegment
from models.archive_verify import read_anchors
from models.notifications import archive_head_message, enqueue_written

_LOCK_KEY = 0x56494741  # "VIGA": two collectors anchoring at once queue on PostgreSQL
EVENT = "archive_head"


class AnchorError(Exception):
    """The anchor file does not match the database's chain: nothing is appended."""


@dataclass(frozen=True)
class Anchored:
    day: date
    line: dict[str, Any]  # what was appended
    path: Path
    notified: int  # messages written


def due_day(now: datetime, anchor_hour: int) -> date:
    """The UTC day whose head is due by ``now``: today from ``anchor_hour`` on, else yesterday (a
    collector that was down at the hour anchors the day it missed when it starts)."""
    return now.date() if now.hour >= anchor_hour else now.date() - timedelta(days=1)


def subject(day: date) -> str:
    return f"anchor:{day.isoformat()}"


def is_anchored(session: Session, day: date) -> bool:
    return session.scalar(select(ArchiveRecord.id).where(ArchiveRecord.kind == "anchor",
                                                         ArchiveRecord.subject == subject(day)).limit(1)) is not None


def _stamp(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat() + "Z"


def check_file(session: Session, path: Path) -> None:
    """Refuse a file whose last head is not this chain's (`AnchorError`)."""
    if not path.is_file():
        return
    try:
        anchors = read_anchors(path.read_text(encoding="utf-8").splitlines())
    except ValueError as exc:
        raise AnchorError(f"{path}: {exc}") from None
    if not anchors:
        return
    last = anchors[-1]
    found = session.scalar(select(ArchiveSegment.hash).where(ArchiveSegment.seq == last.seq))
    if found != last.hash:
        raise AnchorError(f"{path}: its last head (segment {last.seq}) is not in this database's chain: the chain "
                          "was rewritten or the file belongs to another database; run `vigie archive verify`")


def anchor_head(session: Session, settings: Settings, now: datetime, force: bool = False) -> Anchored | None:
    """Anchor the head for the day due by ``now`` (see the module's docstring); None when that day
    is anchored already or nothing is sealed yet. ``force`` (`vigie archive anchor`): anchor now,
    even if the day was."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    day = now.date() if force else due_day(now, settings.archive.anchor_hour)
    if not force and is_anchored(session, day):
        return None
    top = head(session)
    if top is None:
        return None
    path = Path(settings.archive.anchor_file)
    check_file(session, path)
    records = int(session.scalar(select(func.count()).select_from(ArchiveSeal)) or 0)
    line = {"seq": top.seq, "hash": top.hash, "sealed_at": _stamp(top.sealed_at), "anchored_at": _stamp(now),
            "records": records}
    write_record(session, "anchor", subject(day), {**line, "day": day.isoformat(), "file": str(path)}, at=now)
    notified = len(enqueue_written(session, settings, EVENT, None, lambda: archive_head_message(
        day, top.seq, top.hash, top.sealed_at, records, json.dumps(line))))  # each channel's in its language
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:  # appended, never rewritten
        out.write(json.dumps(line) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return Anchored(day, line, path, notified)
