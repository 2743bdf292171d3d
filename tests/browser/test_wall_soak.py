"""The wall left open on the demo stream: its JavaScript heap must stay flat.

`vigie demo` runs as a user starts it (database, demo stream at 90 posts a minute, collector,
dashboard) and Chromium keeps the wall open at 1920x1080 through the printed kiosk link. After
a one-minute warm-up the heap is measured (after a forced garbage collection) every 30 s;
the last reading must be less than 20 % above the first. `make test-all` soaks for
`VIGIE_SOAK_MINUTES` (default 3), `make soak` for 30 minutes; the readings are written to
tests/artifacts/wall-soak.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.chrome import ARTIFACTS, chromium, viewport, wait_until
from tests.conftest import TEST_SECRET
from tests.kit import vigie_env
from tests.support import VIGIE, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WARM_UP = 60
EVERY = 30


def _heap(browser: object) -> int:
    browser.execute_cdp_cmd("HeapProfiler.collectGarbage", {})  # type: ignore[attr-defined]
    return int(browser.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"])  # type: ignore[attr-defined]


def test_wall_heap_stays_flat_on_the_demo_stream(tmp_path: Path) -> None:
    minutes = float(os.environ.get("VIGIE_SOAK_MINUTES", "3"))
    port = free_port()
    env = vigie_env(tmp_path / "demo.db", secret_key=TEST_SECRET, port=port)
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen([VIGIE, "demo"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    browser = chromium(tmp_path / "profile")
    try:
        link = wait_until(lambda: re.search(r"http://\S+/wall\?kiosk=\S+", (tmp_path / "demo.log").read_text()),
                          timeout=120, what="the kiosk link printed by vigie demo").group(0)
        viewport(browser, 1920, 1080)
        time.sleep(3)  # the dashboard starts after printing the links
        browser.get(link)
        wait_until(lambda: browser.find_element("id", "wall-kpis"), timeout=30, what="the wall")
        time.sleep(WARM_UP)
        readings = [(0.0, _heap(browser))]
        start = time.monotonic()
        first = browser.execute_script("return [window.__vigieWall.ok, window.__vigieWall.loadedAt];")
        while time.monotonic() - start < minutes * 60 - WARM_UP:
            time.sleep(EVERY)
            readings.append((round(time.monotonic() - start, 1), _heap(browser)))
        last = browser.execute_script("return [window.__vigieWall.ok, window.__vigieWall.loadedAt,"
                                      " window.__vigieWall.failed];")
        # The page stayed the same page (a reload would reset the heap unseen) and kept updating:
        # at least one successful update every 10 s of the soak (the ticks are every 2 s).
        assert last[1] == first[1], "the wall reloaded itself during the soak"
        assert last[0] - first[0] >= (time.monotonic() - start) / 10, (first, last)
        assert last[2] == 0, f"{last[2]} updates failed"
        assert browser.find_element("id", "wall-connection").text == "● live"
        assert demo.poll() is None, "vigie demo stopped during the soak"
    finally:
        browser.quit()
        demo.terminate()
        demo.wait(timeout=30)
    first, last = readings[0][1], readings[-1][1]
    growth = last / first - 1
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "wall-soak.json").write_text(json.dumps(
        {"minutes": minutes, "warm_up_seconds": WARM_UP, "growth": round(growth, 4),
         "readings": [{"seconds": s, "used_heap_bytes": b} for s, b in readings]}, indent=1))
    print(f"wall soak: {minutes:g} min, JS heap {first / 1e6:.2f} MB -> {last / 1e6:.2f} MB ({growth:+.1%})")
    assert len(readings) >= 2
    assert growth < 0.20, f"the wall's JS heap grew {growth:.1%} in {minutes:g} minutes"
