"""Integration tests: the shared app comes first."""

import pytest


@pytest.fixture(autouse=True)
def _shared_app_first(request: pytest.FixtureRequest) -> None:
    """The shared app (`web_app`, tests/conftest.py) is built and served once before any test here
    runs, whatever the order: a test that builds an app of its own (`tests.web.app_server`) and ran
    first took Dash's page callbacks, and the shared app's tests after it found none (test_summary,
    then test_corrections)."""
    request.getfixturevalue("web_app")
