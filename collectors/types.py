"""The collector contract: what a source hands to the pipeline.

A source is one file under `collectors/sources/` with a class registered in
`collectors.sources.REGISTRY`. It keeps network and parsing apart:

* ``fetch(cursor)`` asks the outside world for the next page after ``cursor`` and
  returns a `Page` holding the raw payload (bytes or decoded JSON) and the cursor to
  store once the page's items are safely written;
* ``parse(payload)`` turns that payload into `RawPost` items and a list of problems
  (one string per item that could not be read; the rest of the page goes on).

The one ingest entry point (`collectors.ingest`) stores each page with ``next_cursor`` in
its last write transaction, so a crash between pages loses nothing and a page replayed
after a crash duplicates nothing (mentions are unique per source and external id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from config.settings import SourceConfig


def load_json_cursor(cursor: str | None) -> dict[str, Any]:
    """A source's JSON cursor; anything unreadable (a cursor from elsewhere) starts afresh, which
    is safe: dedupe by (source, external id) skips what is already stored."""
    try:
        value = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dump_json_cursor(state: dict[str, Any]) -> str | None:
    """The cursor to store: empty values left out, keys sorted (a stable text for the same state)."""
    kept = {k: v for k, v in state.items() if v is not None and v != ""}
    return json.dumps(kept, sort_keys=True) if kept else None


def parse_iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time from a platform (Z or an offset; none means UTC) as aware UTC; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        return None


class CollectorError(Exception):
    """A source failed. ``permanent`` errors (bad credentials, bad config) are not retried soon."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class RawPost:
    """One public post as the source saw it, before any scoring."""

    external_id: str
    network: str
    text: str
    created_at: datetime  # timezone-aware UTC
    url: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    language_hint: str | None = None  # the platform's own language tag, when it gives one
    links: tuple[str, ...] = ()  # outbound links the platform gives expanded (X entities, a link post's url)
    # The platform's item as received (the JSON object the post was read from), for the archive.
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Page:
    """One fetched page: the raw payload and the cursor that follows it."""

    payload: Any
    next_cursor: str | None
    has_more: bool = False
    # The platform's quota ran out on this (good) answer: store the page, then send nothing to
    # this source before this time. A wait, not a failure.
    wait_until: datetime | None = None


@dataclass(frozen=True)
class Rejected:
    """An item that could not be read or scored: kept with its raw form, never dropped silently."""

    external_id: str | None
    reason: str
    raw: Any
    # What makes it the same item when it is sent again (`collectors.store.rejected_digest`);
    # None: its id and raw form. A post rejected after parsing leaves out the time it was
    # given on receipt, so a redelivery is recognised.
    identity: Any = None


@dataclass(frozen=True)
class Parsed:
    posts: list[RawPost]
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [r.reason for r in self.rejected]


class Source(Protocol):
    """What every source class provides."""

    kind: ClassVar[str]

    def __init__(self, config: SourceConfig, options: Any) -> None: ...  # options: its checked Options

    def fetch(self, cursor: str | None, now: datetime) -> Page: ...

    def parse(self, payload: Any) -> Parsed: ...


class Unauthorized(Exception):
    """A pushed delivery is not from someone holding the source's secret: refused (401), nothing
    read. The message is shown to the sender and the operator: it never holds the secret."""


class Headers(Protocol):
    """A delivery's headers as the route passes them: the web framework's own (werkzeug's
    ``request.headers``), looked up case-insensitively, a repeated header by its first value."""

    def get(self, key: str) -> str | None: ...


class PushSource(Protocol):
    """A source the outside world pushes to (the webhook): nothing to fetch, so the scheduler
    never polls it (``push`` is True). ``POST /hooks/<name>`` serves every enabled source whose
    kind is a push source, checking cheapest first: a body over ``max_body_bytes`` is refused
    (413); ``verify`` raises `Unauthorized` (401) before anything is read (or returns a warning
    for the source's health: a deprecated but still accepted signature); the body is decoded
    as JSON and ``items`` finds its list of items (ValueError: 400); then ``parse`` gets
    ``{"items": [...], "received_at": datetime}`` and the batch goes through the one ingest
    entry point (`collectors.ingest`) like a fetched page."""

    kind: ClassVar[str]
    push: ClassVar[bool]
    max_body_bytes: int

    def __init__(self, config: SourceConfig, options: Any) -> None: ...  # options: its checked Options

    def verify(self, headers: Headers, body: bytes, now: datetime) -> str | None: ...

    def items(self, decoded: Any) -> list[Any]: ...

    def parse(self, payload: Any) -> Parsed: ...
