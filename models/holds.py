"""Legal holds: compliance freezes the records a matter needs; the purge never touches them while
the hold stands.

A hold's scope (`HoldScope`) selects records:

* by what they are about — the mentions (``mention_ids``: the ids of /mention/<id>), the authors
  ("network:handle", compared without case) and the sources (names, resolved to their ids when the
  hold is placed); a record matched by ANY of these is in scope (naming more widens the hold: a
  hold errs on the side of keeping). None of them: every record;
* then narrowed by the time range ``since`` ≤ record.at < ``until`` (UTC) and by ``query``, a
  case-insensitive substring of the record's content (its canonical JSON).

`is_held` is the pure rule; a record whose content is not at hand counts as matching a query (it
cannot be ruled out, so it is kept). Placing and releasing write a "hold" archive record and an
audit event (subject "hold:<id>"); the release follows four eyes: never by whoever placed it.
Who may do either (the compliance role) is checked by the callers (the /archive page, the CLI).

A hold and a purge never interleave on PostgreSQL: both take the same transaction-level
advisory lock (`hold_lock`), so a purge batch sees every hold committed before it starts, and a
hold placed meanwhile waits for the batch. SQLite's writers are serialised already.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from i18n import N_, _, current_reader, ngettext
from i18n import formats as fmt
from models.archive import write_record
from models.archive_tables import LegalHold
from models.audit_log import record_event
from models.tables import SourceRow, utcnow

HOLD_LOCK_KEY = 0x5649_4701  # pg_advisory_xact_lock key shared by place_hold and the purge
MAX_MATTER = 200
MAX_QUERY = 500
MAX_SELECTORS = 1000


class HoldError(Exception):
    """A hold cannot be placed or released (bad scope, unknown source, four eyes, released)."""


def as_utc(value: datetime) -> datetime:
    """Naive UTC, as the database stores times: an aware time is converted, a naive one is UTC."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


@dataclass(frozen=True)
class HoldScope:
    mention_ids: tuple[int, ...] = ()
    authors: tuple[str, ...] = ()  # "network:handle"
    sources: tuple[str, ...] = ()  # source names
    since: datetime | None = None
    until: datetime | None = None
    query: str | None = None
    source_ids: tuple[int, ...] = ()  # the sources' ids, resolved by place_hold

    def to_json(self) -> dict[str, Any]:
        return {"mention_ids": list(self.mention_ids), "authors": list(self.authors), "sources": list(self.sources),
                "source_ids": list(self.source_ids),
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None, "query": self.query}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HoldScope:
        return cls(tuple(int(i) for i in data.get("mention_ids") or ()),
                   tuple(str(a) for a in data.get("authors") or ()),
                   tuple(str(s) for s in data.get("sources") or ()), _time(data.get("since")),
                   _time(data.get("until")), data.get("query") or None,
                   tuple(int(i) for i in data.get("source_ids") or ()))

    def describe(self) -> str:
        parts = [f"{name} {', '.join(str(v) for v in values)}" for name, values in
                 (("items", self.mention_ids), ("authors", self.authors), ("sources", self.sources)) if values]
        if self.since or self.until:
            parts.append(f"from {self.since.isoformat() if self.since else 'the start'} to "
                         f"{self.until.isoformat() if self.until else 'now on'}")
        if self.query:
            parts.append(f"content containing {self.query!r}")
        return "; ".join(parts) or "every record"


class HeldRecord(Protocol):
    """What `is_held` reads of a record (an `ArchiveRecord` has it all; ``body``, its content, is
    read when present)."""

    @property
    def mention_id(self) -> int | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def source_id(self) -> int | None: ...
    @property
    def at(self) -> datetime: ...


def _query_in(query: str, body: str) -> bool:
    wanted = query.casefold()
    found = body.casefold()
    # the content is JSON: a quote or backslash of the query is escaped there
    return wanted in found or json.dumps(query, ensure_ascii=False)[1:-1].casefold() in found


def scope_matches(scope: HoldScope, record: HeldRecord) -> bool:
    """Whether ``record`` is in ``scope`` (see the module's docstring). Pure."""
    if scope.mention_ids or scope.authors or scope.sources or scope.source_ids:
        author = (record.author or "").casefold()
        source_name = getattr(record, "source", None)
        if not (record.mention_id in scope.mention_ids
                or (author and author in {a.casefold() for a in scope.authors})
                or (record.source_id is not None and record.source_id in scope.source_ids)
                or (source_name is not None and source_name in scope.sources)):
            return False
    at = as_utc(record.at)
    if scope.since is not None and at < scope.since:
        return False
    if scope.until is not None and at >= scope.until:
        return False
    if scope.query:
        body = getattr(record, "body", None)
        return body is None or _query_in(scope.query, str(body))
    return True


def is_held(record: HeldRecord, holds: Iterable[LegalHold | HoldScope]) -> bool:
    """Whether any standing hold among ``holds`` covers ``record``; released holds are ignored. Pure."""
    for hold in holds:
        if isinstance(hold, LegalHold):
            if hold.released_at is not None:
                continue
            scope = HoldScope.from_json(hold.scope or {})
        else:
            scope = hold
        if scope_matches(scope, record):
            return True
    return False


def hold_lock(session: Session) -> None:
    """Serialise hold placements with purge batches (PostgreSQL; SQLite's writers already are)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": HOLD_LOCK_KEY})


TEXT_REFUSALS = {  # a hold's text fields: (missing, too long), translated where raised
    "matter": (N_("a hold needs a matter"), N_("the matter is longer than {limit} characters")),
    "reason": (N_("a hold needs a reason"), N_("the reason is longer than {limit} characters")),
    "person placing it": (N_("a hold needs a person placing it"),
                          N_("the person placing it is longer than {limit} characters")),
    "person releasing it": (N_("a hold needs a person releasing it"),
                            N_("the person releasing it is longer than {limit} characters")),
}


def _text(value: str | None, what: str, limit: int) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise HoldError(_(TEXT_REFUSALS[what][0]))
    if len(cleaned) > limit:
        raise HoldError(_(TEXT_REFUSALS[what][1]).format(limit=limit))
    return cleaned


def checked_scope(session: Session, scope: HoldScope) -> HoldScope:
    """``scope`` with its times in naive UTC and its sources resolved, or `HoldError` saying why not."""
    since = as_utc(scope.since) if scope.since else None
    until = as_utc(scope.until) if scope.until else None
    if since and until and since >= until:
        raise HoldError(_("the hold’s range is empty: “From” must come before “To”"))
    if len(scope.mention_ids) + len(scope.authors) + len(scope.sources) > MAX_SELECTORS:
        raise HoldError(_("a hold names at most {count} items, authors and sources").format(count=MAX_SELECTORS))
    for author in scope.authors:
        network, _sep, handle = author.partition(":")
        if not network or not handle:
            raise HoldError(_("author {author}: expected network:handle, e.g. x:@someone").format(author=repr(author)))
    query = scope.query.strip() if scope.query else None
    if query is not None and len(query) > MAX_QUERY:
        raise HoldError(_("the query is longer than {limit} characters").format(limit=MAX_QUERY))
    ids: list[int] = []
    if scope.sources:
        found = {str(name): int(source_id) for name, source_id in
                 session.execute(select(SourceRow.name, SourceRow.id).where(SourceRow.name.in_(scope.sources)))}
        missing = [s for s in scope.sources if s not in found]
        if missing:
            raise HoldError(ngettext("unknown source: {names}", "unknown sources: {names}", len(missing)).format(
                names=", ".join(missing)))
        ids = [found[s] for s in scope.sources]
    return HoldScope(tuple(dict.fromkeys(scope.mention_ids)), tuple(dict.fromkeys(scope.authors)),
                     tuple(dict.fromkeys(scope.sources)), since, until, query or None, tuple(ids))


def _describe(hold: LegalHold) -> dict[str, Any]:
    return {"hold_id": hold.id, "matter": hold.matter, "reason": hold.reason, "scope": hold.scope,
            "placed_by": hold.placed_by, "placed_at": hold.placed_at, "released_by": hold.released_by,
            "released_at": hold.released_at, "release_reason": hold.release_reason}


def place_hold(session: Session, actor: str, matter: str, reason: str, scope: HoldScope) -> LegalHold:
    """Place a hold (in the caller's transaction): its row, a "hold" record and an audit event."""
    matter = _text(matter, "matter", MAX_MATTER)
    reason = _text(reason, "reason", 5000)
    actor = _text(actor, "person placing it", 200)
    checked = checked_scope(session, scope)
    hold_lock(session)  # a purge batch running now finishes first; the next one sees this hold
    now = utcnow()
    hold = LegalHold(matter=matter, reason=reason, scope=checked.to_json(), placed_by=actor, placed_at=now)
    session.add(hold)
    session.flush()
    write_record(session, "hold", f"hold:{hold.id}", {"action": "place", **_describe(hold)}, at=now)
    record_event(session, actor, "hold.place", subject=f"hold:{hold.id}",
                 after={"matter": matter, "scope": checked.describe()}, reason=reason, at=now)
    return hold


def release_hold(session: Session, actor: str, hold_id: int, reason: str) -> LegalHold:
    """Release a standing hold: never by whoever placed it (four eyes); a record and an audit event."""
    reason = _text(reason, "reason", 5000)
    actor = _text(actor, "person releasing it", 200)
    hold = session.get(LegalHold, hold_id, populate_existing=True, with_for_update=True)
    if hold is None:
        raise HoldError(_("hold {id} does not exist").format(id=hold_id))
    if hold.released_at is not None:
        raise HoldError(_("hold {id} was already released by {name} at {time}").format(
            id=hold_id, name=hold.released_by, time=fmt.local(hold.released_at, current_reader(), seconds=True)))
    if actor.casefold() == hold.placed_by.casefold():
        raise HoldError(_("four eyes: {name} placed hold {id}; someone else from compliance must release it").format(
            name=actor, id=hold_id))
    now = utcnow()
    hold.released_by, hold.released_at, hold.release_reason = actor, now, reason
    session.flush()
    write_record(session, "hold", f"hold:{hold.id}", {"action": "release", **_describe(hold)}, at=now)
    record_event(session, actor, "hold.release", subject=f"hold:{hold.id}",
                 before={"released": False}, after={"released": True, "matter": hold.matter}, reason=reason, at=now)
    return hold


def active_holds(session: Session, limit: int = 200) -> list[LegalHold]:
    """The standing holds, newest first."""
    return list(session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None))
                                .order_by(LegalHold.id.desc()).limit(limit)))


def all_holds(session: Session, limit: int = 200) -> list[LegalHold]:
    """Every hold, standing or released, newest first."""
    return list(session.scalars(select(LegalHold).order_by(LegalHold.id.desc()).limit(limit)))


def standing_scopes(session: Session, page: int = 500) -> dict[int, HoldScope]:
    """Every standing hold's scope, by hold id: all of them (a page at a time), as the purge must
    never miss one."""
    out: dict[int, HoldScope] = {}
    last = 0
    while True:
        rows: Sequence[Any] = session.execute(
            select(LegalHold.id, LegalHold.scope).where(LegalHold.released_at.is_(None), LegalHold.id > last)
            .order_by(LegalHold.id).limit(page)).all()
        for hold_id, scope in rows:
            out[int(hold_id)] = HoldScope.from_json(scope or {})
            last = int(hold_id)
        if len(rows) < page:
            return out
