"""dashboard.app.settle: a server process's app is set up by one request before it serves anyone, and
what was built then is kept out of the garbage collector's full passes (`gc.freeze`)."""

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
