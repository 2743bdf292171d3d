"""Data-protection (erasure) requests: an author's posts are restricted at once, and erased when
their retention ends.

`request_erasure` records the request (status "restricted"), replaces the text, handle, name and
link of the author's live `mentions` rows with a marker ("[restricted: data-protection request N]")
so that no page shows them, and writes an "erasure" record and an audit event (subject
"erasure:<id>"; the event names the request, not the author). The archive keeps the originals:
its readers (search, exports) hide the records whose ``author`` is in `restricted_authors` from
everyone but compliance. Posts of a restricted author stored later are restricted as they are
stored (`collectors.store`: one `restriction_markers` read per batch; on PostgreSQL under a shared
advisory lock that `request_erasure` takes exclusively, so no batch slips between the two).
The purge removes their records' content when retention ends, as for everyone; the purge job
then calls `settle_erasures`: a request whose author has no record content left becomes
"erased" (``erased_at``), with an "erasure" record and an audit event of its own.

Handles are case-insensitive on X and Mastodon: a request is stored as given and matched without
case everywhere (markers, live mentions, records, readers), as holds are.

Requests are kept in full (who asked, why, when): they are the firm's evidence of the request.
Their records (the request's and outcome's "erasure" records and their audit events, subject
"erasure:<id>") carry the author's scope: they name her and the reason, so only compliance sees
or exports them, like her other records. They are not "content of the author" for
`author_has_content`, so they never keep a request from completing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.orm import Session

from models.archive import RESTRICTED_PREFIX, Scope, write_record
from models.archive_tables import ArchiveContent, ArchiveRecord, ErasureRequest
from models.audit_log import record_event
from models.tables import Mention, utcnow

RESTRICTION_LOCK_KEY = 0x5649_4702
MARKER = "[restricted: data-protection request {id}]"
MAX_AUTHOR = 300


class ErasureError(Exception):
    """The request cannot be made (bad author, no reason, already requested)."""


def marker(request_id: int) -> str:
    return MARKER.format(id=request_id)


def is_marker(value: str | None) -> bool:
    return bool(value) and str(value).startswith(RESTRICTED_PREFIX)


def restriction_lock(session: Session, shared: bool) -> None:
    """PostgreSQL: ingest batches share it, a new request takes it alone (SQLite's writers are serialised)."""
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(text(f"SELECT {function}(:key)"), {"key": RESTRICTION_LOCK_KEY})


def _split(author: str) -> tuple[str, str]:
    network, _, handle = author.partition(":")
    return network, handle


def restricted_columns(mention: Mapping[str, Any], markers: Mapping[str, str]) -> Mapping[str, Any]:
    """The live columns of a mention about to be stored: the author's own, or the marker in the
    text, handle, name and link when the author is restricted (``markers``' keys are lower case,
    see `restriction_markers`). Pure."""
    handle = mention.get("author_handle")
    if not markers or not handle:
        return mention
    found = markers.get(f"{mention.get('network') or '?'}:{handle}"[:MAX_AUTHOR].lower())
    if found is None:
        return mention
    return {**mention, "text": found, "author_handle": found[:200], "author_name": found, "url": None}


def restriction_markers(session: Session) -> dict[str, str]:
    """Every restricted (or erased) author, lower case, and the marker of their first request: one
    read per ingest batch."""
    restriction_lock(session, shared=True)
    out: dict[str, str] = {}
    for request_id, author in session.execute(select(ErasureRequest.id, ErasureRequest.author)
                                              .order_by(ErasureRequest.id)):
        out.setdefault(author.lower(), marker(request_id))
    return out


def restricted_authors(session: Session) -> set[str]:
    """The authors whose records only compliance may see ("network:handle", lower case: compare
    ``author.lower()``)."""
    return {author.lower() for author in session.scalars(select(ErasureRequest.author).distinct())}


def restrict_mentions(session: Session, author: str, request_id: int) -> int:
    """Put the marker in the author's live mentions; how many rows changed. One statement over
    `mentions` (a request is rare; the archive's records keep the originals)."""
    network, handle = _split(author)
    mark = marker(request_id)
    result = session.execute(update(Mention).where(Mention.network == network,
                                                   func.lower(Mention.author_handle) == handle.lower())
                             .values(text=mark, author_handle=mark[:200], author_name=mark, url=None)
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def newest_request(session: Session) -> int:
    """The newest data-protection request's id (0: none): it changes whenever texts were restricted, so
    what a page keeps of posts' texts (the wall's top terms) is dropped with it."""
    return int(session.scalar(select(func.max(ErasureRequest.id))) or 0)


def request_erasure(session: Session, actor: str, author: str, reason: str) -> ErasureRequest:
    """Restrict ``author`` ("network:handle") now; erased once retention ends (`settle_erasures`)."""
    author, reason, actor = author.strip(), reason.strip(), actor.strip()
    network, handle = _split(author)
    if not network or not handle or len(author) > MAX_AUTHOR:
        raise ErasureError(f"author {author!r}: expected network:handle, e.g. x:@someone")
    if not reason:
        raise ErasureError("an erasure request needs a reason")
    if not actor:
        raise ErasureError("an erasure request needs the person making it")
    restriction_lock(session, shared=False)  # ingest batches running now finish first; later ones see it
    earlier = session.scalar(select(ErasureRequest.id).where(func.lower(ErasureRequest.author) == author.lower())
                             .order_by(ErasureRequest.id).limit(1))
    if earlier is not None:
        raise ErasureError(f"{author} is already restricted by data-protection request {earlier}")
    now = utcnow()
    request = ErasureRequest(author=author, reason=reason, requested_by=actor[:200], requested_at=now,
                             status="restricted", erased_at=None)
    session.add(request)
    session.flush()
    changed = restrict_mentions(session, author, request.id)
    write_record(session, "erasure", f"erasure:{request.id}",
                 {"action": "request", "request_id": request.id, "author": author, "reason": reason, "by": actor,
                  "at": now, "mentions_restricted": changed}, scope=Scope(author=author), at=now)
    record_event(session, actor, "erasure.request", subject=f"erasure:{request.id}",
                 after={"request_id": request.id, "status": "restricted", "mentions_restricted": changed},
                 reason=reason, at=now)
    return request


def author_has_content(session: Session, author: str) -> bool:
    """Whether a record of ``author`` (any case) still has its content, the requests' own records
    (subject "erasure:<id>": the request, its outcome, their events) aside."""
    return bool(session.scalar(select(exists().where(
        func.lower(ArchiveRecord.author) == author.lower(), ~ArchiveRecord.subject.startswith("erasure:"),
        ArchiveContent.record_id == ArchiveRecord.id))))


def settle_erasures(session: Session, actor: str, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Mark "erased" the restricted requests whose author has no record content left; their ids.
    Each is marked by a conditional UPDATE (still "restricted"), and its outcome recorded only if
    that UPDATE changed it: two purge runs settling at once record it once (PostgreSQL: the second
    UPDATE waits for the first to commit, then finds it "erased")."""
    now = now or utcnow()
    done: list[int] = []
    candidates = session.execute(select(ErasureRequest.id, ErasureRequest.author)
                                 .where(ErasureRequest.status == "restricted")
                                 .order_by(ErasureRequest.id).limit(limit)).all()
    for request_id, author in candidates:
        if author_has_content(session, author):
            continue
        changed = session.execute(update(ErasureRequest)
                                  .where(ErasureRequest.id == request_id, ErasureRequest.status == "restricted")
                                  .values(status="erased", erased_at=now))
        if not changed.rowcount:  # type: ignore[attr-defined]
            continue  # another run settled it
        write_record(session, "erasure", f"erasure:{request_id}",
                     {"action": "erased", "request_id": request_id, "author": author, "at": now,
                      "outcome": "no record content of the author remains: retention ended and the purge "
                                 "removed it"}, scope=Scope(author=author), at=now)
        record_event(session, actor, "erasure.erased", subject=f"erasure:{request_id}",
                     before={"status": "restricted"}, after={"request_id": request_id, "status": "erased"}, at=now)
        done.append(request_id)
    session.flush()
    return done
