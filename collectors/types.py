"""The collector contract: what a source hands to the pipeline.

A source is one file under `collectors/sources/` with a class registered in
`collectors.sources.REGISTRY`. It keeps network and parsing apart:

* ``fetch(cursor)`` asks the outside world for the next page after ``cursor`` and
  returns a `Page` holding the raw payload (bytes or decoded JSON) and the cursor to
  store once the page's items are safely written;
* ``parse(payload)`` turns that payload into `RawPost` items and a list of problems
  (one string per item that could not be read; the rest of the page goes on).

The runner stores each page in one transaction together with ``next_cursor``, so a
crash between pages loses nothing and a page replayed after a crash duplicates
nothing (mentions are unique per source and external id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from config.settings import SourceConfig


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


@dataclass(frozen=True)
class Page:
    """One fetched page: the raw payload and the cursor that follows it."""

    payload: Any
    next_cursor: str | None
    has_more: bool = False


@dataclass(frozen=True)
class Rejected:
    """An item that could not be read or scored: kept with its raw form, never dropped silently."""

    external_id: str | None
    reason: str
    raw: Any


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

    def __init__(self, config: SourceConfig) -> None: ...

    def fetch(self, cursor: str | None, now: datetime) -> Page: ...

    def parse(self, payload: Any) -> Parsed: ...


class PushSource(Protocol):
    """A source the outside world pushes to (the webhook): nothing to fetch, so the scheduler
    never polls it (``push`` is True); what arrives goes through ``parse`` like a fetched page."""

    kind: ClassVar[str]
    push: ClassVar[bool]

    def __init__(self, config: SourceConfig) -> None: ...

    def parse(self, payload: Any) -> Parsed: ...
