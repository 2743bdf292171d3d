"""Real Chromium for the browser tests (Debian's chromium and chromedriver; nothing downloaded)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from tests.support import REPO

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def chromium(profile: Path, language: str | None = None) -> WebDriver:
    """A headless Chromium; ``language`` (e.g. ``"fr"``) sets the interface language and the
    Accept-Language it sends (by default, the machine's)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("chromium and chromedriver are needed: `make test` installs them (apt-get install "
                    "chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--window-size=1600,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    if language:
        options.add_argument(f"--lang={language}")
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for CSP reports
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def viewport(driver: WebDriver, width: int, height: int) -> None:
    """The page's own size, exactly (a window size would include the browser's frame)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # type: ignore[attr-defined]
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception:  # element not there yet, stale after an update
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def prepare_site(tmp: Path, **files: Any) -> tuple[dict[str, str], Any, Any]:
    """A configuration folder (the shipped one, with ``files`` written over it as YAML: see
    `tests.kit.config_dir`), a migrated SQLite database and the test accounts: the environment for
    `vigie serve` / `vigie collect`, the database and the settings, as a browser test's server starts from."""
    from config.settings import load_settings
    from models.db import open_database
    from models.migrate import upgrade
    from tests.conftest import TEST_SECRET
    from tests.kit import config_dir, vigie_env
    from tests.web import make_accounts

    env = vigie_env(tmp / "vigie.db", config=config_dir(tmp, **files), refresh_ms=1000, secret_key=TEST_SECRET)
    db = open_database(env["DATABASE_URL"])
    upgrade(db.engine)
    settings = load_settings(env=env)
    make_accounts(db, settings)
    return env, db, settings
