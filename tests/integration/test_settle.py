"""dashboard.app.settle: a server process's app is set up by one request before it serves anyone, and
what was built then is kept out of the garbage collector's full passes (`gc.freeze`); plotly's validators
are loaded then, not in the first wall screen's request."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dashboard.app import settle


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session collects as before


def test_settling_answers_a_first_request_and_freezes_what_was_built(web_app, unfrozen: None) -> None:  # type: ignore[no-untyped-def]
    assert gc.get_freeze_count() == 0
    settle(web_app)
    assert gc.get_freeze_count() > 50_000  # the app, Dash's and plotly's objects
    assert web_app.server.test_client().get("/healthz").status_code == 200


@pytest.fixture
def plotly_unloaded() -> Iterator[None]:
    """Plotly as in a new process: validators not yet loaded (other tests of this session drew charts)."""
    ValidatorCache = pytest.importorskip("plotly.validator_cache").ValidatorCache  # plotly's own, not public
    saved = (ValidatorCache._json_cache, dict(ValidatorCache._cache))
    ValidatorCache._json_cache, ValidatorCache._cache = None, {}
    yield
    ValidatorCache._json_cache = saved[0]
    ValidatorCache._cache.update(saved[1])


def test_settling_loads_the_charts_validators_before_anyone_asks(web_app, unfrozen: None,  # type: ignore[no-untyped-def]
                                                                 plotly_unloaded: None) -> None:
    settle(web_app)
    ValidatorCache = pytest.importorskip("plotly.validator_cache").ValidatorCache
    assert ValidatorCache._json_cache is not None
    loaded = set(ValidatorCache._cache)
    # the wall's timeline: stacked bars per network, the net-sentiment line on a second axis
    assert {("bar", "marker"), ("scatter", "line"), ("layout", "yaxis2"), ("layout", "xaxis")} <= loaded
