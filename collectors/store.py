"""Batch storage: a page of enriched posts and the source's cursor in one transaction.

Dedupe happens here, against the database: a post whose (source, external id) is
already stored is skipped (a replay after a crash stores nothing twice), and a post
whose cluster key matches a mention of the last `CLUSTER_WINDOW` is stored as a copy
(`duplicate_of_id`) without a queue item of its own, so a repost across networks is
worked once. Three keys make a cluster: the same author with the same words (any
network); the same words of a long enough text on another network; the same outbound
link on another network. The head's queue item counts its copies (`copy_count`).
The cursor is written in the same transaction as the items it covers,
so it can never run ahead of what is stored. Each original may be queued for supervision's review
(`models.supervision`: flagged, or drawn in the sample), in the same transaction. Each stored
post (original or copy) gets its archive record in the same transaction: the platform's raw
item and the normalised mention (`models.archive`); a post of an author under a data-protection
request is stored live with the request's marker instead of its text, handle, name and link
(`models.erasure`: one read of the restricted authors per batch), the archive record keeping it
as received. Items a source sent that could not be
read or scored are kept raw in `rejected_items`, in the same transaction: nothing the
cursor moves past is lost; an item already kept (`rejected_digest`: the same id and the
same raw form, or whatever the caller named as its identity) is counted, not kept twice.

Each call also writes a `SourcePoll` row in the same transaction (`_record_poll`): how many items
the platform sent in this page (or this chunk of it), and how many were stored, newly rejected or
already known. ``vigie archive reconcile`` (`models.reconcile`) checks them against the archive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, insert, literal, select, text, union_all, update
from sqlalchemy.orm import Session

from collectors.clean import canonical_json, storable_json
from collectors.pipeline import Enriched, priority_rank
from collectors.types import Rejected
from models.archive import Entry, Scope, author_key, post_content, write_many
from models.archive_tables import SourcePoll
from models.bulk import add_copies, insert_rows, next_ids, one_of
from models.erasure import restricted_columns, restriction_markers
from models.supervision import queue_posts
from models.tables import Mention, QueueItem, RejectedItem, SourceRow, utcnow

CLUSTER_WINDOW = timedelta(days=7)
MENTIONS, QUEUE_ITEMS = Mention.metadata.tables["mentions"], QueueItem.metadata.tables["queue_items"]
MENTION_FIELDS = ("external_id", "network", "url", "author_handle", "author_name", "author_followers", "text",
                  "language", "created_at", "collected_at", "sentiment_score", "sentiment_label", "brand",
                  "is_competitor", "risk_flags", "risk_terms", "priority", "cluster_key", "text_key", "link_key")
MENTION_COLUMNS = ("id", "source_id", "duplicate_of_id", *MENTION_FIELDS)
QUEUE_COLUMNS = ("mention_id", "team", "status", "priority_rank", "assignee", "due_at", "at_risk_at", "rule_id",
                 "explanation", "created_at", "updated_at", "resolved_at", "copy_count")


@dataclass(frozen=True)
class StoreResult:
    stored: int  # new mentions, originals and copies
    queued: int  # of which got a queue item
    copies: int  # stored as copies of an earlier post (cross-network reposts)
    skipped: int  # already stored (same source and external id)
    rejected: int = 0  # unreadable items newly kept in rejected_items
    rejected_known: int = 0  # unreadable items already kept (the same item sent again): not kept twice


# {("text"|"link", key): {network: its first original's mention id (an external id until stored)}}
Shared = dict[tuple[str, str], dict[str, int | str]]
# (A dict per key, not a list of every original: one text posted by many people on one network made
# each later post scan them all, quadratic in a batch; measured 16% of the SQLite pipeline.)


def _lookup_parts(session: Session, source_id: int, items: Sequence[Enriched], since: datetime) -> list[Any]:
    """The batch's lookups, each row (kind, key, network, mention id): its ids already stored
    ("known"), the cluster heads of its cluster keys ("cluster"), and the originals of another
    network sharing its texts or links ("text", "link"; the first of each network)."""
    conn = session.connection()
    no_text, no_id = cast(None, String).label("network"), cast(None, Integer).label("head")
    parts: list[Any] = [
        select(literal("known", String), Mention.external_id, no_text, no_id).where(
            Mention.source_id == source_id, one_of(conn, Mention.external_id, list({e.external_id for e in items}))),
        # a copy points at its original: coalesce makes the head an original, never another copy
        select(literal("cluster", String), Mention.cluster_key, no_text,
               func.min(func.coalesce(Mention.duplicate_of_id, Mention.id)))
        .where(one_of(conn, Mention.cluster_key, list({e.cluster_key for e in items})), Mention.collected_at >= since)
        .group_by(Mention.cluster_key),
    ]
    for kind, column in (("text", Mention.text_key), ("link", Mention.link_key)):
        keys = list({k for e in items if (k := e.mention.get(f"{kind}_key"))})
        if keys:
            # The originals' first id, as a CASE rather than ``WHERE duplicate_of_id IS NULL``: that
            # predicate let PostgreSQL pick the wall's partial index (ix_mentions_window) over the key's
            # on a table without statistics yet, and walk it whole for every batch (5.9x the floor).
            first = func.min(case((Mention.duplicate_of_id.is_(None), Mention.id)))
            parts.append(select(literal(kind, String), column, Mention.network, first)
                         .where(one_of(conn, column, keys), column.is_not(None), Mention.collected_at >= since)
                         .group_by(column, Mention.network).having(first.is_not(None)))
    return parts


def _lookups(session: Session, source_id: int, items: Sequence[Enriched],
             since: datetime) -> tuple[set[str], dict[str, int], Shared]:
    """(the external ids already stored, the cluster heads, the shared texts and links) of a batch.
    PostgreSQL: one round trip (UNION ALL, each list one array); SQLite: one query each (in process,
    and each within its bound on parameters). Asked for every item of the batch, not only the new
    ones: a superset of keys, the same answer for each new item."""
    parts = _lookup_parts(session, source_id, items, since) if items else []
    if session.get_bind().dialect.name == "postgresql" and parts:
        rows: list[Any] = list(session.execute(union_all(*parts)))
    else:
        rows = [row for part in parts for row in session.execute(part)]
    known: set[str] = set()
    heads: dict[str, int] = {}
    shared: Shared = {}
    for kind, key, network, head in rows:
        if kind == "known":
            known.add(str(key))
        elif kind == "cluster":
            heads[str(key)] = int(head)
        else:
            shared.setdefault((kind, str(key)), {})[str(network)] = int(head)
    return known, heads, shared



def _mention_row(mention: dict[str, Any], markers: dict[str, str], mention_id: int, source_id: int,
                 head: int | None) -> tuple[Any, ...]:
    """A mention's row in `MENTION_COLUMNS` order; a restricted author's with the marker."""
    live = restricted_columns(mention, markers)
    return (mention_id, source_id, head, *(live[name] for name in MENTION_FIELDS))


def _other_network_head(item: Enriched, shared: Shared) -> tuple[str, str] | None:
    """The (kind, key) under which an original on another network shares this item's text or link.
    The same text or link on the same network is two people (two customers), not a copy."""
    for kind in ("text", "link"):
        key = item.mention.get(f"{kind}_key")
        if key and any(net != item.mention["network"] for net in shared.get((kind, key), ())):
            return (kind, key)
    return None


def _head_id(item: Enriched, entries: dict[str, int | str]) -> int:
    ids = [head for net, head in entries.items() if net != item.mention["network"] and isinstance(head, int)]
    return min(ids)


@dataclass(frozen=True)
class Lease:
    """Who holds the source and for how long a successful write extends it."""

    owner: str
    ttl: timedelta


class LeaseLost(Exception):
    """Another collector took the source over; this batch must not be written."""


def store_batch(
    session: Session,
    source_id: int,
    batch: Sequence[Enriched],
    next_cursor: str | None,
    lease: Lease | None = None,
    rejected: Sequence[Rejected] = (),
    now: datetime | None = None,
    returned: int | None = None,
) -> StoreResult:
    """Insert the batch, keep its rejected items and move the cursor; the caller owns the write transaction.

    ``now`` stamps the rows instead of the clock: the demo's history only (`collectors.demo_history`
    stores the backfill as if collected back then).

    ``returned``: how many items the platform sent that this call accounts for (posts and
    unreadable items, counted by the caller before cleaning and scoring); by default the batch and
    the rejected items given. It is kept, with what became of them, in a `SourcePoll` row.

    With a ``lease``, the cursor moves only while this collector still holds the source
    (and the lease is extended); otherwise `LeaseLost` is raised and the caller's
    transaction rolls back, so two collectors never interleave one source's pages.
    """
    connection = session.connection()  # BEGIN (IMMEDIATE on SQLite) now, so the stamp below follows commit order
    if connection.dialect.name == "postgresql":
        # Plans made for this batch's values and the table's current size, never a cached generic
        # plan: psycopg prepares a statement after 5 runs, and PostgreSQL keeps the generic plan it
        # made while the table was young until the next ANALYZE. For the known-ids lookup that plan
        # read every row of the source (the index's first column) instead of the batch's ids:
        # `vigie bench ingest` 4.1x the floor with it. Planning a handful of statements per batch is
        # cheap beside that.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    now = now or utcnow()
    cursor_update = update(SourceRow).where(SourceRow.id == source_id)
    if lease is not None:
        cursor_update = cursor_update.where(SourceRow.lease_owner == lease.owner).values(
            lease_until=now + lease.ttl
        )
    moved = session.execute(cursor_update.values(cursor=next_cursor))
    if lease is not None and not moved.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(f"source {source_id}: lease no longer held by {lease.owner}; another collector took it over")

    since = now - CLUSTER_WINDOW
    known, heads, shared = _lookups(session, source_id, batch, since)
    fresh: list[Enriched] = []
    seen: set[str] = set()
    for item in batch:
        if item.external_id in known or item.external_id in seen:
            continue
        seen.add(item.external_id)
        fresh.append(item)
    skipped = len(batch) - len(fresh)

    originals: list[Enriched] = []
    copies: list[tuple[Enriched, str | tuple[str, str]]] = []  # the item and the key of its head
    batch_keys: set[str] = set()
    for item in fresh:
        if item.cluster_key in heads or item.cluster_key in batch_keys:
            copies.append((item, item.cluster_key))
            continue
        other = _other_network_head(item, shared)
        if other is not None:
            copies.append((item, other))
            continue
        batch_keys.add(item.cluster_key)
        originals.append(item)
        for kind, key in (("text", item.mention.get("text_key")), ("link", item.mention.get("link_key"))):
            if key:  # later items of this batch can be copies of this one
                # stored ids follow the batch's order, after every stored one: the first is the least
                shared.setdefault((kind, key), {}).setdefault(item.mention["network"], item.external_id)

    # Bulk rows with their ids allocated up front (`models.bulk`: COPY on PostgreSQL): no per-row
    # statement, nothing read back. Originals first, then copies, so a copy's head precedes it.
    conn = session.connection()
    # A restricted author's posts are stored live with the marker (the archive keeps them as received).
    markers = restriction_markers(session) if fresh else {}
    ids = next_ids(conn, MENTIONS, len(originals) + len(copies))
    new_ids = {e.external_id: mention_id for e, mention_id in zip(originals, ids, strict=False)}
    copy_ids = {e.external_id: mention_id for (e, _), mention_id in zip(copies, ids[len(originals):], strict=True)}
    for e in originals:
        heads[e.cluster_key] = new_ids[e.external_id]
    for entries in shared.values():  # heads of this batch, named by external id until now
        for net, head in entries.items():
            if isinstance(head, str):
                entries[net] = new_ids.get(head, head)
    rows = [_mention_row(e.mention, markers, new_ids[e.external_id], source_id, None) for e in originals]
    per_head: dict[int, int] = {}
    for e, ref in copies:
        head = heads[ref] if isinstance(ref, str) else _head_id(e, shared[ref])
        per_head[head] = per_head.get(head, 0) + 1
        # A copy is never a head: without its text and link keys, head lookups skip it.
        rows.append(_mention_row({**e.mention, "text_key": None, "link_key": None}, markers,
                                 copy_ids[e.external_id], source_id, head))
    insert_rows(conn, MENTIONS, MENTION_COLUMNS, rows)
    if originals:
        insert_rows(conn, QUEUE_ITEMS, QUEUE_COLUMNS, [
            (new_ids[e.external_id], e.route.team, e.route.status, priority_rank(e.mention["priority"]), None,
             e.due_at, e.at_risk_at, e.route.rule_id, e.route.explanation, now, now,
             now if e.route.status == "dismissed" else None, 0)
            for e in originals
        ])
        # Supervision's review queue: flagged posts always, a deterministic sample of the others.
        queue_posts(session, [(new_ids[e.external_id], e.external_id, e.mention.get("risk_flags") or (),
                               e.mention["network"], e.route.team) for e in originals], now)
    if per_head:  # the head's queue item shows how many copies it has, and moves in the live queues
        add_copies(conn, per_head, now)
    if fresh:
        _archive_posts(session, source_id, originals, [e for e, _ in copies], {**new_ids, **copy_ids}, now)
    kept_new, kept_before = _keep_rejected(session, source_id, rejected, now) if rejected else (0, 0)
    result = StoreResult(len(fresh), len(originals), len(copies), skipped, kept_new, kept_before)
    _record_poll(session, source_id, len(batch) + len(rejected) if returned is None else returned, result, now)
    return result


def _record_poll(session: Session, source_id: int, returned: int, result: StoreResult, now: datetime) -> None:
    """The page's counts, in the transaction that stores it. An empty page leaves no row: a source
    polled every few seconds would otherwise add rows with time, not with data, and its polls are
    already visible on its row (`last_run_at`, `last_ok_at`)."""
    known = result.skipped + result.rejected_known
    if not (returned or result.stored or result.rejected or known):
        return
    session.connection().execute(insert(SourcePoll), [{
        "source_id": source_id, "at": now, "returned": returned, "stored": result.stored,
        "rejected": result.rejected, "known": known,
    }])


def _archive_posts(session: Session, source_id: int, originals: Sequence[Enriched], copies: Sequence[Enriched],
                   ids: dict[str, int], now: datetime) -> None:
    """One archive record per stored post: as received (the raw item) and as normalised."""
    entries = []
    for e in (*originals, *copies):
        mention_id = ids[e.external_id]
        m = e.mention
        entries.append(Entry("post", f"mention:{mention_id}", post_content(m, e.raw, source_id),
                             Scope(mention_id, source_id, author_key(m["network"], m.get("author_handle")),
                                   m["network"], m.get("brand"), e.route.team)))
    write_many(session, entries, now)


def _keep_rejected(session: Session, source_id: int, rejected: Sequence[Rejected], now: datetime) -> tuple[int, int]:
    """Insert the rejected items not already kept for this source; return (kept, already kept).

    An item is the same when its id and identity are (`rejected_digest`; the identity is its raw
    form unless the caller named another, e.g. the reason for a polled platform's post): a feed
    re-read or a redelivered batch keeps its bad item once, while two different bad items that
    share an id (two lines of an import) are two rows, whatever batch each falls in."""
    by_digest: dict[str, Rejected] = {}
    for item in rejected:
        by_digest.setdefault(rejected_digest(item), item)
    digests = list(by_digest)
    kept: set[str] = set()
    for start in range(0, len(digests), 500):  # bounded IN lists
        kept.update(session.scalars(select(RejectedItem.digest).where(
            RejectedItem.source_id == source_id, RejectedItem.digest.in_(digests[start : start + 500]))))
    new = [(digest, item) for digest, item in by_digest.items() if digest not in kept]
    if new:
        session.connection().execute(insert(RejectedItem), [
            {"source_id": source_id, "external_id": item.external_id, "digest": digest,
             "reason": item.reason, "raw": storable_json(item.raw), "at": now}
            for digest, item in new
        ])
    return len(new), len(rejected) - len(new)


def rejected_digest(item: Rejected) -> str:
    """What makes a rejected item the same item: its id and its identity (by default its raw form), SHA-256 hex."""
    identity = item.raw if item.identity is None else item.identity
    return hashlib.sha256(canonical_json({"id": item.external_id, "raw": identity}).encode()).hexdigest()
