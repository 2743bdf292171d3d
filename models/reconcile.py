"""Completeness: what the sources returned against what the archive holds (`vigie archive reconcile`).

Every fetched page, pushed delivery and import batch leaves a `SourcePoll` row, written in the
transaction that stores it (`collectors.store.store_batch`): the items the platform sent and how
many were stored, newly rejected or already known. Every stored mention has a "post" record
written in that same transaction (`models.archive`). `reconcile` looks for every way those can
disagree:

* a poll whose items do not add up (returned != stored + rejected + known): an item lost between
  the platform's answer and the database;
* a mention without its "post" record, and a "post" record whose mention is gone (unless the
  purge removed it: a purge record names the record);
* per source, the stored counts of its polls against its post records and its mentions.

Mentions stored before the archive began (before migration 0011 there were neither records nor
poll rows) are counted apart as "before the archive", not as gaps: the archive begins at the
first mention that has a post record. Every scan is keyset-paged over an indexed id, so memory
and each statement stay bounded however large the tables grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from models.archive_tables import ArchiveRecord, SourcePoll
from models.archive_verify import purged_ids
from models.tables import Mention, SourceRow

PAGE = 5000  # ids per statement
SHOWN = 20  # ids kept per kind of gap, for the report


@dataclass
class SourceCounts:
    source_id: int
    name: str = "?"
    polls: int = 0
    returned: int = 0
    stored: int = 0  # the sum over its polls
    rejected: int = 0
    known: int = 0
    records: int = 0  # post records since the archive began
    mentions: int = 0  # mentions since the archive began
    purged: int = 0  # post records purged whose mention is gone (retention), not a gap
    before_archive: int = 0  # mentions stored before the archive began

    @property
    def gap(self) -> bool:
        return self.stored != self.records or self.mentions + self.purged != self.records


@dataclass
class Gaps:
    """One kind of gap: how many, and the first ids found."""

    count: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, found: list[int]) -> None:
        self.count += len(found)
        self.ids.extend(found[: max(0, SHOWN - len(self.ids))])


@dataclass
class Reconciliation:
    archive_begins: int | None  # the first mention id with a post record (None: no post record yet)
    unbalanced_polls: Gaps
    mentions_without_record: Gaps
    records_without_mention: Gaps
    sources: list[SourceCounts]

    @property
    def ok(self) -> bool:
        return not (self.unbalanced_polls.count or self.mentions_without_record.count
                    or self.records_without_mention.count or any(s.gap for s in self.sources))

    def summary(self) -> dict[str, object]:
        return {
            "ok": self.ok, "archive_begins_at_mention": self.archive_begins,
            "unbalanced_polls": {"count": self.unbalanced_polls.count, "ids": self.unbalanced_polls.ids},
            "mentions_without_record": {"count": self.mentions_without_record.count,
                                        "ids": self.mentions_without_record.ids},
            "records_without_mention": {"count": self.records_without_mention.count,
                                        "ids": self.records_without_mention.ids},
            "sources": [{**{k: v for k, v in vars(s).items()}, "gap": s.gap} for s in self.sources],
        }


def archive_begins(session: Session) -> int | None:
    """The first mention that has a post record: mentions before it predate the archive."""
    found = session.scalar(select(func.min(ArchiveRecord.mention_id)).where(ArchiveRecord.kind == "post"))
    return None if found is None else int(found)


def unbalanced_polls(session: Session, gaps: Gaps, counts: dict[int, SourceCounts]) -> None:
    top = session.scalar(select(func.max(SourcePoll.id))) or 0
    for start in range(0, top, PAGE):
        window = and_(SourcePoll.id > start, SourcePoll.id <= start + PAGE)
        for source_id, polls, returned, stored, rejected, known in session.execute(
            select(SourcePoll.source_id, func.count(), func.sum(SourcePoll.returned), func.sum(SourcePoll.stored),
                   func.sum(SourcePoll.rejected), func.sum(SourcePoll.known))
            .where(window).group_by(SourcePoll.source_id)
        ):
            c = counts[int(source_id)]
            c.polls += int(polls)
            c.returned += int(returned)
            c.stored += int(stored)
            c.rejected += int(rejected)
            c.known += int(known)
        gaps.add(list(session.scalars(
            select(SourcePoll.id).where(window, SourcePoll.returned
                                        != SourcePoll.stored + SourcePoll.rejected + SourcePoll.known)
            .order_by(SourcePoll.id))))


def mentions_without_record(session: Session, begins: int | None, gaps: Gaps,
                            counts: dict[int, SourceCounts]) -> None:
    """Anti-join of the mentions since the archive began against the post records, page by page;
    counts each source's mentions on the way (those before the archive apart)."""
    before = select(Mention.source_id, func.count()).group_by(Mention.source_id)
    if begins is not None:
        before = before.where(Mention.id < begins)
    for source_id, n in session.execute(before):
        counts[int(source_id)].before_archive += int(n)
    if begins is None:  # no post record yet: every mention predates the archive
        return
    top = session.scalar(select(func.max(Mention.id))) or 0
    has_record = exists().where(ArchiveRecord.mention_id == Mention.id, ArchiveRecord.kind == "post")
    for start in range(begins - 1, top, PAGE):
        window = and_(Mention.id > start, Mention.id <= start + PAGE)
        for source_id, n in session.execute(select(Mention.source_id, func.count()).where(window)
                                            .group_by(Mention.source_id)):
            counts[int(source_id)].mentions += int(n)
        gaps.add(list(session.scalars(select(Mention.id).where(window, ~has_record).order_by(Mention.id))))


def records_without_mention(session: Session, gaps: Gaps, counts: dict[int, SourceCounts]) -> None:
    """Post records whose mention is gone: a gap unless the purge removed the record's content."""
    top = session.scalar(select(func.max(ArchiveRecord.id)).where(ArchiveRecord.kind == "post")) or 0
    purged: set[int] | None = None
    has_mention = exists().where(Mention.id == ArchiveRecord.mention_id)
    for start in range(0, top, PAGE):
        window = and_(ArchiveRecord.kind == "post", ArchiveRecord.id > start, ArchiveRecord.id <= start + PAGE)
        for source_id, n in session.execute(select(ArchiveRecord.source_id, func.count()).where(window)
                                            .group_by(ArchiveRecord.source_id)):
            counts[int(source_id or 0)].records += int(n)
        gone = session.execute(select(ArchiveRecord.id, ArchiveRecord.source_id).where(window, ~has_mention)
                               .order_by(ArchiveRecord.id)).all()
        if not gone:
            continue
        purged = purged_ids(session) if purged is None else purged  # read once, and only when needed
        for record_id, source_id in gone:
            if int(record_id) in purged:
                counts[int(source_id or 0)].purged += 1
        gaps.add([int(r) for r, _ in gone if int(r) not in purged])


class _Counts(dict[int, SourceCounts]):
    def __missing__(self, key: int) -> SourceCounts:
        self[key] = SourceCounts(key)
        return self[key]


def reconcile(session: Session) -> Reconciliation:
    """Every gap between what the sources returned and what the archive holds."""
    names = {int(i): str(n) for i, n in session.execute(select(SourceRow.id, SourceRow.name))}
    counts: dict[int, SourceCounts] = _Counts()
    begins = archive_begins(session)
    polls, without_record, without_mention = Gaps(), Gaps(), Gaps()
    unbalanced_polls(session, polls, counts)
    mentions_without_record(session, begins, without_record, counts)
    records_without_mention(session, without_mention, counts)
    for source_id, c in counts.items():
        c.name = names.get(source_id, f"#{source_id}")
    return Reconciliation(begins, polls, without_record, without_mention,
                          [counts[k] for k in sorted(counts)])
