"""The purge: the content of records past their retention and on no legal hold is deleted; the
record's row stays as the tombstone (id, SHA-256, class, dates), so the sealed chain still
verifies. Nothing else deletes content.

When a record may go (`effective_end`, pure): the LATEST of

* the ``retain_until`` it was given when written (a class shortened since never purges earlier);
* its stored class's period under the settings in force now (a class lengthened keeps it
  longer; a class removed counts as the longest class, `config.archive.Retention.until`);
* the period of the class the current rules would pick for its network, brand and team (a rule
  changed since to a longer class keeps it longer).

It is due only once ``now`` is strictly after that end: a record is kept through its last
second, never purged at it. ``now`` may be naive (UTC) or aware (converted).

A batch (`purge`) walks the records whose stored ``retain_until`` has passed, in
(retain_until, id) order from a keyset position (the ``ix_archive_records_retain`` index), at most
``limit`` of them; deletes the content of the due ones that no standing hold covers, and writes
ONE "purge" record naming them ({"record_ids": [...], "at", "reason": "retention", ...}: what
`models.archive_verify.purged_ids` reads to accept their missing content). Purge records are
never purged (they are what lets a tombstone verify) and are written in the longest class, the
class that states that intent; the records of a standing hold ("hold:<id>") and of an erasure
request not yet settled ("erasure:<id>") are kept too.
The caller runs batches in separate transactions until ``next_after`` is None
(`collectors.jobs.purge_archive.run_purge`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from config.archive import Retention
from models.archive import write_record
from models.archive_tables import ArchiveContent, ArchiveRecord, ErasureRequest
from models.holds import as_utc, hold_lock, scope_matches, standing_scopes
from models.tables import utcnow

BATCH = 500
PURGE_ACTOR = "vigie purge"


def effective_end(retention: Retention, retain_until: datetime, retention_class: str, at: datetime,
                  network: str | None, brand: str | None, team: str | None) -> datetime:
    """The earliest a record may go (see the module's docstring). Pure."""
    return max(retain_until, retention.until(retention_class, at),
               retention.until(retention.class_for(network, brand, team), at))


def is_due(retention: Retention, record: Any, now: datetime) -> bool:
    """Whether ``record`` (an `ArchiveRecord` or a row with its columns) may be purged at ``now``. Pure."""
    end = effective_end(retention, record.retain_until, record.retention_class, record.at, record.network,
                        record.brand, record.team)
    return as_utc(now) > end


def longest_class(retention: Retention, at: datetime) -> str:
    """The class that keeps a record written at ``at`` the longest (ties: the first name)."""
    return max(sorted(retention.classes), key=lambda name: retention.until(name, at))


@dataclass
class PurgeReport:
    scanned: int = 0  # records past their stored retain_until looked at
    purged: list[int] = field(default_factory=list)  # ids whose content was deleted
    held: int = 0  # due, kept by a standing hold
    kept: int = 0  # kept longer by the current settings (a class lengthened, a rule changed)
    record_id: int | None = None  # the purge record written, if any
    next_after: tuple[datetime, int] | None = None  # where the next batch starts; None: nothing left


@dataclass(frozen=True)
class _Candidate:
    id: int
    kind: str
    subject: str
    at: datetime
    retain_until: datetime
    retention_class: str
    mention_id: int | None
    source_id: int | None
    author: str | None
    network: str | None
    brand: str | None
    team: str | None
    body: str | None


def purge(session: Session, retention: Retention, now: datetime, limit: int = BATCH,
          after: tuple[datetime, int] | None = None, actor: str = PURGE_ACTOR) -> PurgeReport:
    """One batch (see the module's docstring), in the caller's transaction."""
    now = as_utc(now)
    report = PurgeReport()
    hold_lock(session)  # every hold committed before now is seen; a new one waits for this batch
    scopes = standing_scopes(session)
    # the records of a standing hold or of an erasure request not yet settled are kept with it
    held_subjects = {f"hold:{hold_id}" for hold_id in scopes} | {
        f"erasure:{i}" for i in session.scalars(select(ErasureRequest.id).where(ErasureRequest.status == "restricted"))}
    need_body = any(s.query for s in scopes.values())
    columns = [ArchiveRecord.id, ArchiveRecord.kind, ArchiveRecord.subject, ArchiveRecord.at,
               ArchiveRecord.retain_until, ArchiveRecord.retention_class, ArchiveRecord.mention_id,
               ArchiveRecord.source_id, ArchiveRecord.author, ArchiveRecord.network, ArchiveRecord.brand,
               ArchiveRecord.team]
    body = ArchiveContent.body if need_body else ArchiveContent.record_id
    query = (select(*columns, body.label("body"))
             .join(ArchiveContent, ArchiveContent.record_id == ArchiveRecord.id)
             .where(ArchiveRecord.retain_until < now, ArchiveRecord.kind != "purge"))
    if after is not None:
        query = query.where(or_(ArchiveRecord.retain_until > after[0],
                                and_(ArchiveRecord.retain_until == after[0], ArchiveRecord.id > after[1])))
    rows: Sequence[Any] = session.execute(query.order_by(ArchiveRecord.retain_until, ArchiveRecord.id)
                                          .limit(limit)).all()
    due: list[_Candidate] = []
    for row in rows:
        data = row._asdict()
        if not need_body:
            data["body"] = None
        record = _Candidate(**data)
        report.scanned += 1
        if not is_due(retention, record, now):
            report.kept += 1
        elif record.subject in held_subjects or any(scope_matches(s, record) for s in scopes.values()):
            report.held += 1
        else:
            due.append(record)
    if rows:
        last = rows[-1]
        report.next_after = (last.retain_until, int(last.id)) if len(rows) == limit else None
    if not due:
        return report
    # RETURNING: only what this batch really deleted is named (a concurrent purge took the rest)
    deleted = session.execute(delete(ArchiveContent).where(ArchiveContent.record_id.in_([r.id for r in due]))
                              .returning(ArchiveContent.record_id)).scalars().all()
    report.purged = sorted(int(i) for i in deleted)
    if not report.purged:
        return report
    gone = set(report.purged)
    classes = Counter(r.retention_class for r in due if r.id in gone)
    # Stamped when it happened: a purge judged as of a later time (a simulated clock: the tests'
    # years of records) is recorded at that time, never before the retention it ends.
    written = max(utcnow(), as_utc(now))
    report.record_id = write_record(
        session, "purge", "archive:purge",
        {"record_ids": report.purged, "at": written, "as_of": now, "reason": "retention", "by": actor,
         "classes": dict(sorted(classes.items())),
         "periods": {name: str(period) for name, period in sorted(retention.classes.items())},
         "held": report.held, "standing_holds": sorted(scopes)},
        at=written, retention_class=longest_class(retention, written))
    return report
