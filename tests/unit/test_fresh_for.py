"""dashboard.components.worker_cache.FreshFor: the wall's markers read once a second per worker."""

from __future__ import annotations

import threading
import time

from dashboard.components.worker_cache import FreshFor


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
    first = threading.Thread(target=lambda: results.append(cache.get("wall", slow)))
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=lambda: results.append(cache.get("wall", slow))) for _ in range(3)]
    for t in others:
        t.start()
    time.sleep(0.1)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert results == ["markers"] * 4 and len(calls) == 1
