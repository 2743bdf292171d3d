"""The audit trail read back: streamed exports for auditors (CSV, JSONL) and the chain check.

Every action on a queue item writes an `AuditEvent` holding the item's whole mutable state
before and after it (`models.actions.snapshot`), so an item's events, in id order, form a
chain: each ``before`` is the previous ``after``, and the last ``after`` is the item as it is
now. `check_chain` and `verify_chains` report every break (an edited or deleted event, a
change made around `models.actions`). Account events (user.add, kiosk.create…) have no item
and are exported but not chained.

Id order, not ``at`` order, is the order of the chain: an action takes its time before it
waits for the item's lock, so two actions on one item can commit in the other order.

Queries page by id (keyset, ``WHERE id > last ORDER BY id LIMIT page``): constant memory and
bounded statements over millions of rows. Functions take the session first and never commit.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import groupby
from typing import IO, Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models.actions import snapshot
from models.audit_log import of_item

# The formula-safe cell is in models.safe_csv (standard library only: the offline check of an
# archive export reads it back); re-exported here under the names callers know.
from models.safe_csv import FORMULA_STARTS as FORMULA_STARTS
from models.safe_csv import safe_cell as safe_cell
from models.tables import AuditEvent, QueueItem, to_naive_utc

# "subject": what a reply's or a template's event is about ("reply:12"), its item's column empty
CSV_COLUMNS = ("id", "at", "actor", "action", "item", "reason", "before", "after", "changed", "subject")
NONE_SHOWN = "(none)"


def iter_events(
    session: Session, since: datetime | None = None, until: datetime | None = None, item_id: int | None = None,
    actor: str | None = None, page: int = 1000, replies: bool = False,
) -> Iterator[AuditEvent]:
    """Audit events in id order, ``since`` <= at < ``until`` (naive or aware UTC), optionally of
    one item (with ``replies``, the events of the replies written on it too: `of_item`; the chain
    check reads the item's own) or one actor, read ``page`` rows per statement. The session's
    identity map holds its objects weakly, so events the caller has let go of are freed: memory
    stays flat."""
    page = max(1, page)
    conditions = []
    if since is not None:
        conditions.append(AuditEvent.at >= to_naive_utc(since))
    if until is not None:
        conditions.append(AuditEvent.at < to_naive_utc(until))
    if item_id is not None:
        conditions.append(of_item(session, item_id) if replies else AuditEvent.queue_item_id == item_id)
    if actor is not None:
        conditions.append(AuditEvent.actor == actor)
    last = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.id > last, *conditions)
                               .order_by(AuditEvent.id).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1].id


# --- export -------------------------------------------------------------------------------


def utc_text(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: 2024-05-01T09:30:00.123456Z (microseconds when there are some)."""
    return to_naive_utc(value).isoformat() + "Z"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _shown(value: Any) -> str:
    if value is None:
        return NONE_SHOWN
    return value if isinstance(value, str) else _json(value)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for each field that differs, in the order of ``after`` then ``before``."""
    fields = list(dict.fromkeys([*after, *before]))
    return [(f, before.get(f), after.get(f)) for f in fields if before.get(f) != after.get(f)]


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """A readable summary: ``status: new → claimed; assignee: (none) → alice``."""
    return "; ".join(f"{field}: {_shown(old)} → {_shown(new)}" for field, old, new in changes(before, after))


def event_record(event: AuditEvent) -> dict[str, Any]:
    """One event as plain data (the JSONL line, and the CSV row before it becomes text)."""
    return {
        "id": event.id,
        "at": utc_text(event.at),
        "actor": event.actor,
        "action": event.action,
        "item": event.queue_item_id,
        "reason": event.reason,
        "before": event.before or {},
        "after": event.after or {},
        "subject": event.subject,
    }


def csv_row(event: AuditEvent) -> list[str]:
    record = event_record(event)
    cells = [record["id"], record["at"], record["actor"], record["action"], record["item"], record["reason"],
             _json(record["before"]), _json(record["after"]), describe_changes(record["before"], record["after"]),
             record["subject"]]
    return [safe_cell(cell) for cell in cells]


def write_csv(events: Iterable[AuditEvent], out: IO[str]) -> int:
    """Write a header and one row per event, every cell through `safe_cell`; returns the row count.
    Streams: one row in memory at a time. Open ``out`` with ``newline=""`` (the csv module's rule)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for event in events:
        writer.writerow(csv_row(event))
        count += 1
    return count


def write_jsonl(events: Iterable[AuditEvent], out: IO[str]) -> int:
    """One JSON object per line (UTF-8 text, not ASCII-escaped); returns the line count. Nothing
    is neutralised: JSON is data, never evaluated by a spreadsheet."""
    count = 0
    for event in events:
        out.write(json.dumps(event_record(event), ensure_ascii=False) + "\n")
        count += 1
    return count


# --- the chain ----------------------------------------------------------------------------


def rebuild_history(events: Iterable[AuditEvent]) -> dict[int, list[dict[str, Any]]]:
    """Each item's history from the trail alone: item id → its events (as `event_record`s with
    the ``changes`` they made), in id order. Account events, which have no item, are left out."""
    history: dict[int, list[dict[str, Any]]] = {}
    for event in sorted((e for e in events if e.queue_item_id is not None), key=lambda e: e.id):
        record = event_record(event)
        record["changes"] = {f: [old, new] for f, old, new in changes(record["before"], record["after"])}
        history.setdefault(int(event.queue_item_id), []).append(record)  # type: ignore[arg-type]
    return history


def _differences(expected: Mapping[str, Any], found: Mapping[str, Any]) -> str:
    return ", ".join(f"{field} {_shown(old)!r} ≠ {_shown(new)!r}" for field, old, new in changes(expected, found))


def chain_problems(item_id: int, events: Iterable[AuditEvent], current: Mapping[str, Any] | None) -> list[str]:
    """The breaks in one item's chain of ``events`` (in id order): a ``before`` that is not the
    previous ``after``, and a last ``after`` that is not ``current`` (the item's `snapshot` now;
    None when the item no longer exists). Pure; consumes ``events`` once."""
    problems: list[str] = []
    previous: AuditEvent | None = None
    for event in events:
        if previous is not None and (event.before or {}) != (previous.after or {}):
            problems.append(
                f"item {item_id}: event {event.id} ({event.action} by {event.actor!r}) does not start where event "
                f"{previous.id} ({previous.action}) left the item: {_differences(previous.after, event.before)}"
            )
        previous = event
    if previous is None:
        return problems
    if current is None:
        problems.append(f"item {item_id}: has audit events but no longer exists")
    elif dict(current) != (previous.after or {}):
        problems.append(
            f"item {item_id}: its current state is not where its last event {previous.id} ({previous.action}) "
            f"left it: {_differences(previous.after, current)}"
        )
    return problems


def check_chain(session: Session, item_id: int, page: int = 1000) -> list[str]:
    """The breaks in one item's audit chain (empty when its history is whole)."""
    item = session.get(QueueItem, item_id, populate_existing=True)
    current = snapshot(item) if item is not None else None
    return chain_problems(item_id, iter_events(session, item_id=item_id, page=page), current)


def _item_ids_with_events(session: Session, page: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = [i for i in session.scalars(
            select(AuditEvent.queue_item_id).where(AuditEvent.queue_item_id > last).distinct()
            .order_by(AuditEvent.queue_item_id).limit(page)) if i is not None]
        if ids:
            yield ids
        if len(ids) < page:
            return
        last = ids[-1]


def _events_between(session: Session, first: int, last: int, page: int) -> Iterator[AuditEvent]:
    """The events of items ``first``..``last`` by (item, id), keyset-paged on that pair."""
    position = (first, 0)  # every event of ``first`` (ids start at 1), then the items after it
    while True:
        item, after_id = position
        later = or_(AuditEvent.queue_item_id > item, and_(AuditEvent.queue_item_id == item, AuditEvent.id > after_id))
        rows = session.scalars(select(AuditEvent).where(AuditEvent.queue_item_id <= last, later)
                               .order_by(AuditEvent.queue_item_id, AuditEvent.id).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        position = (int(rows[-1].queue_item_id), rows[-1].id)  # type: ignore[arg-type]


def verify_chains(session: Session, page: int = 1000) -> Iterator[tuple[int, list[str]]]:
    """(item id, its problems) for every item that has events, ``page`` items at a time: one
    query for their current states, keyset pages for their events. Memory holds one page."""
    for ids in _item_ids_with_events(session, page):
        items = session.scalars(select(QueueItem).where(QueueItem.id.in_(ids)).execution_options(
            populate_existing=True)).all()
        current = {item.id: snapshot(item) for item in items}
        for item_id, events in groupby(_events_between(session, ids[0], ids[-1], page),
                                       key=lambda e: int(e.queue_item_id)):  # type: ignore[arg-type]
            yield item_id, chain_problems(item_id, events, current.get(item_id))
