"""Values computed once per change marker and shared by every screen a worker serves.

A live page's tick first reads a cheap marker (the newest change, a clock step); what it shows
for that marker is the same for every reader with the same scope, so the first tick to see a
new marker computes it and the others of this process reuse it. A new marker is a new
computation: a change shows on the next tick. Values are kept per name (a scope: the wall's
panels, a lead's teams), one marker each, so the cache stays as small as the scopes in use.
Callers keep what they hand out unchanged (copy before adding a reader's words).

The markers themselves are shared for a moment (`FreshFor`): every wall screen of a worker asks the
same five questions of the database each tick; the first to ask in a second answers them for the
others of that second (one computation at a time: the others wait for it rather than ask again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class _SingleFlight:
    """Values per name, each computed by one caller at a time: callers arriving while it is computed
    wait for that computation, and fail with it when it fails (rather than each try again in turn).
    What a stored value is current for is the caller's rule (``current`` of its stamp)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[Any, Any]] = {}  # name: (stamp, value)
        self._failed: dict[str, tuple[Any, Exception, float]] = {}  # name: (key, error, when)
        self._locks: dict[str, threading.RLock] = {}
        self._lock = threading.Lock()

    def get(self, name: str, key: Any, current: Callable[[Any], bool], stamp: Callable[[], Any],
            compute: Callable[[], T]) -> T:
        with self._lock:
            hit = self._values.get(name)
            lock = self._locks.setdefault(name, threading.RLock())
        if hit is not None and current(hit[0]):
            return hit[1]  # type: ignore[no-any-return]
        waited_since = time.monotonic()
        with lock:
            with self._lock:
                hit = self._values.get(name)
                failed = self._failed.get(name)
            if hit is not None and current(hit[0]):  # computed while this caller waited
                return hit[1]  # type: ignore[no-any-return]
            if failed is not None and failed[0] == key and failed[2] >= waited_since:
                raise failed[1]  # the computation this caller waited for failed
            try:
                value = compute()
            except Exception as error:
                with self._lock:
                    self._failed[name] = (key, error, time.monotonic())
                raise
            with self._lock:
                self._values[name] = (stamp(), value)
                self._failed.pop(name, None)
            return value

    def forget(self, prefix: str = "") -> None:
        with self._lock:
            for table in (self._values, self._failed):
                for name in [n for n in table if n.startswith(prefix)]:
                    del table[name]


class MarkerCache:
    def __init__(self) -> None:
        self._flights = _SingleFlight()

    def get(self, name: str, marker: str, compute: Callable[[], T]) -> T:
        """The value computed for ``marker`` under ``name``; computed now when the marker moved, once:
        the screens asking for the same name meanwhile wait for that computation (a worker's screens
        all reloading at once, after a restart, do not each compute the same panels). When it fails,
        those that waited for it fail with it rather than each try again in turn."""
        return self._flights.get(name, marker, lambda stored: bool(stored == marker), lambda: marker, compute)

    def forget(self, prefix: str = "") -> None:
        """Forget the values whose names start with ``prefix`` (all by default): benchmarks and tests."""
        self._flights.forget(prefix)


class FreshFor:
    """A value computed at most once every ``seconds`` per name for this process (single flight, as
    `MarkerCache`). A caller may thus see a value up to ``seconds`` old: the live pages' markers, read
    again by every screen's tick."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._flights = _SingleFlight()

    def get(self, name: str, compute: Callable[[], T]) -> T:
        return self._flights.get(name, None, lambda stored: bool(time.monotonic() - stored < self.seconds),
                                 time.monotonic, compute)

    def forget(self) -> None:
        """Forget every value (benchmarks and tests: the next caller computes)."""
        self._flights.forget()
