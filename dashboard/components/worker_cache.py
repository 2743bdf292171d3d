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


class MarkerCache:
    def __init__(self) -> None:
        self._values: dict[str, tuple[str, Any]] = {}
        self._failed: dict[str, tuple[str, Exception, float]] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._lock = threading.Lock()

    def get(self, name: str, marker: str, compute: Callable[[], T]) -> T:
        """The value computed for ``marker`` under ``name``; computed now when the marker moved, once:
        the screens asking for the same name meanwhile wait for that computation (a worker's screens
        all reloading at once, after a restart, do not each compute the same panels). When it fails,
        those that waited for it fail with it rather than each try again in turn."""
        with self._lock:
            hit = self._values.get(name)
            lock = self._locks.setdefault(name, threading.RLock())
        if hit is not None and hit[0] == marker:
            return hit[1]  # type: ignore[no-any-return]
        waited_since = time.monotonic()
        with lock:
            with self._lock:
                hit = self._values.get(name)
                failed = self._failed.get(name)
            if hit is not None and hit[0] == marker:  # computed while this caller waited
                return hit[1]  # type: ignore[no-any-return]
            if failed is not None and failed[0] == marker and failed[2] >= waited_since:
                raise failed[1]  # the computation this caller waited for failed
            try:
                value = compute()
            except Exception as error:
                with self._lock:
                    self._failed[name] = (marker, error, time.monotonic())
                raise
            with self._lock:
                self._values[name] = (marker, value)
                self._failed.pop(name, None)
            return value

    def forget(self, prefix: str = "") -> None:
        """Forget the values whose names start with ``prefix`` (all by default): benchmarks and tests."""
        with self._lock:
            for name in [n for n in self._values if n.startswith(prefix)]:
                del self._values[name]


class FreshFor:
    """A value computed at most once every ``seconds`` per name for this process (single flight:
    callers arriving while it is computed wait for that computation, and fail with it when it fails).
    A caller may thus see a value up to ``seconds`` old: the live pages' markers, read again by every
    screen's tick."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[str, tuple[float, Any]] = {}
        self._failed: dict[str, tuple[Exception, float]] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._lock = threading.Lock()

    def get(self, name: str, compute: Callable[[], T]) -> T:
        with self._lock:
            lock = self._locks.setdefault(name, threading.RLock())
        waited_since = time.monotonic()
        with lock:
            hit = self._values.get(name)
            now = time.monotonic()
            if hit is not None and now - hit[0] < self.seconds:
                return hit[1]  # type: ignore[no-any-return]
            failed = self._failed.get(name)
            if failed is not None and failed[1] >= waited_since:
                raise failed[0]  # the computation this caller waited for failed
            try:
                value = compute()
            except Exception as error:
                self._failed[name] = (error, time.monotonic())
                raise
            self._values[name] = (time.monotonic(), value)
            return value

    def forget(self) -> None:
        """Forget every value (benchmarks and tests: the next caller computes)."""
        with self._lock:
            self._values.clear()
