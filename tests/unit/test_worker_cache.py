"""dashboard.components.worker_cache: the wall's markers read once a second per worker (FreshFor), what
a marker shows computed once per worker (MarkerCache), by one caller at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from dashboard.components.worker_cache import FreshFor, MarkerCache


def _ask_while_the_first_computes(ask: Callable[[], None], started: threading.Event, release: threading.Event,
                                  callers: int = 4) -> None:
    """``callers`` threads run ``ask``: the first starts computing (``started``), the others arrive
    while it does, then the computation is let go (``release``) and all are waited for."""
    threads = [threading.Thread(target=ask) for _ in range(callers)]
    threads[0].start()
    assert started.wait(5)
    for t in threads[1:]:
        t.start()
    time.sleep(0.1)
    release.set()
    for t in threads:
        t.join(5)


def test_a_value_is_computed_once_within_its_seconds_and_again_after() -> None:
    calls: list[int] = []
    cache = FreshFor(0.2)

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert [cache.get("wall", compute) for _ in range(5)] == [1] * 5
    time.sleep(0.25)
    assert cache.get("wall", compute) == 2
    assert cache.get("other", compute) == 3  # each name its own
    cache.forget()
    assert cache.get("wall", compute) == 4


def test_callers_arriving_during_a_computation_wait_for_it_rather_than_compute_again() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    cache = FreshFor(60)

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        return "markers"

    results: list[str] = []
    _ask_while_the_first_computes(lambda: results.append(cache.get("wall", slow)), started, release)
    assert results == ["markers"] * 4 and len(calls) == 1


def test_a_marker_value_is_computed_once_by_one_of_the_callers_asking_at_once() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []
    cache = MarkerCache()

    def slow() -> str:
        calls.append("m1")
        started.set()
        release.wait(5)
        return "panels for m1"

    results: list[str] = []
    _ask_while_the_first_computes(lambda: results.append(cache.get("slow", "m1", slow)), started, release)
    assert results == ["panels for m1"] * 4 and calls == ["m1"]
    assert cache.get("slow", "m2", lambda: "panels for m2") == "panels for m2"  # a new marker: computed


def _ask_marker(cache: MarkerCache | FreshFor, compute: Callable[[], str]) -> str:
    return cache.get("slow", "m1", compute) if isinstance(cache, MarkerCache) else cache.get("wall", compute)


@pytest.mark.parametrize("cache", [MarkerCache(), FreshFor(60)], ids=["MarkerCache", "FreshFor"])
def test_callers_waiting_for_a_computation_that_fails_fail_with_it_and_later_callers_try_again(
        cache: MarkerCache | FreshFor) -> None:
    """A database down: the screens waiting for the one computing fail at once with its error rather
    than each wait for their own attempt in turn."""
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def failing() -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        raise ConnectionError("database unreachable")

    errors: list[str] = []

    def ask() -> None:
        try:
            _ask_marker(cache, failing)
        except ConnectionError as error:
            errors.append(str(error))

    _ask_while_the_first_computes(ask, started, release)
    assert errors == ["database unreachable"] * 4 and len(calls) == 1
    assert _ask_marker(cache, lambda: "back") == "back"  # a caller after the failure computes again
