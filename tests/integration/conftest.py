"""Integration tests: the shared app comes first; the daily summary's seeded days."""

import pytest

from config.settings import Settings
from models.db import Database
from tests.summary_days import seed_days


@pytest.fixture(autouse=True)
def _shared_app_first(request: pytest.FixtureRequest) -> None:
    """The shared app (`web_app`, tests/conftest.py) is built and served once before any test here
    runs, whatever the order: a test that builds an app of its own (`tests.web.app_server`) and ran
    first took Dash's page callbacks, and the shared app's tests after it found none (test_summary,
    then test_corrections)."""
    request.getfixturevalue("web_app")


@pytest.fixture
def seeded(db: Database, settings: Settings) -> Settings:
    """The daily summary's test days seeded into this test's database (tests/summary_days.py), the
    settings in their time zone (test_summary*.py, test_summary_counts.py, test_wall_rollup.py)."""
    return seed_days(db, settings)
