"""`/sources` in real Chromium while a real `vigie collect` runs, then after it is killed with
SIGKILL: the source turns from "ok" to "stale", in red, without a reload (the page's own tick).
A screenshot goes to tests/artifacts/sources-stale.png."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser.test_queue_browser import sign_in_as
from tests.chrome import ARTIFACTS, chromium, prepare_site, wait_until
from tests.support import VIGIE, free_port, wait_for_http

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SOURCE = {"name": "demo", "kind": "demo", "interval_seconds": 1, "enabled": True, "seed": 5, "rate_per_minute": 60,
          "backfill_hours": 0.05, "page_size": 50}


def test_a_killed_collector_shows_its_source_stale_in_red_on_the_sources_page(tmp_path: Path) -> None:
    env, db, _settings = prepare_site(tmp_path, sources={"sources": [SOURCE]})
    env.update(VIGIE_HEARTBEAT_SECONDS="1", VIGIE_WORKER_ID="collector-1")
    port = free_port()
    log = (tmp_path / "processes.log").open("a")
    serve = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    collect = subprocess.Popen([VIGIE, "collect"], env=env, stdout=log, stderr=subprocess.STDOUT)
    browser = chromium(tmp_path / "profile")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/login")
        sign_in_as(browser, base, "operator", "/sources")

        def badge() -> tuple[str, str]:
            element = browser.find_element(By.ID, "sources-state-demo")
            return element.text, element.value_of_css_property("background-color")

        wait_until(lambda: badge()[0] == "ok", timeout=30, what="the demo source ok while its collector runs")
        collect.send_signal(signal.SIGKILL)
        collect.wait(timeout=10)
        # No reload: the page's tick (every 5 s) brings the change within three 1 s heartbeats and a tick.
        wait_until(lambda: badge()[0] == "stale", timeout=30, what="the demo source stale after the SIGKILL")
        assert badge()[1] in ("rgba(220, 53, 69, 1)", "rgb(220, 53, 69)")  # Bootstrap's danger red
        detail = browser.find_element(By.ID, "sources-row-demo").text
        assert "collector collector-1 silent since" in detail
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "sources-stale.png"))
    finally:
        browser.quit()
        for proc in (collect, serve):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=15)
        log.close()
        db.engine.dispose()
