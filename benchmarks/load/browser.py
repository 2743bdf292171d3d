"""A real Chromium on a team's queue page, noting when each new row first shows in the grid.

A script in the page looks at the grid's rows every 100 ms and keeps the browser-clock time
(epoch ms) at which each row id first appears; the harness collects those times at the end and
compares them with each item's mention's stored time (`collected_at`). The rows of the first
load are left out: only rows that arrived through the live updates count. A row counts as shown
once it is in the grid's row model (sorted and filtered in; AG Grid renders the visible ones).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

WATCH = """
window.__vigieSeen = window.__vigieSeen || {};
window.__vigieFirst = window.__vigieFirst || null;
if (!window.__vigieWatch) {
  window.__vigieWatch = setInterval(function () {
    var api; try { api = dash_ag_grid.getApi('queue-grid'); } catch (e) { return; }
    if (!api) { return; }
    var now = Date.now(), first = window.__vigieFirst === null;
    if (first) { window.__vigieFirst = {}; }
    api.forEachNode(function (node) {
      var id = node.data && node.data.id;
      if (id === undefined) { return; }
      if (first) { window.__vigieFirst[id] = true; }
      else if (!(id in window.__vigieSeen) && !(id in window.__vigieFirst)) { window.__vigieSeen[id] = now; }
    });
  }, 100);
}
return true;
"""


def open_queue(base_url: str, name: str, password: str, team: str, profile: Path) -> Any:
    """Chromium signed in as ``name`` on ``/queue/<team>``, the watcher running."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1600,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    driver.set_page_load_timeout(60)
    driver.get(f"{base_url}/login")
    driver.find_element("name", "name").send_keys(name)
    driver.find_element("name", "password").send_keys(password)
    driver.find_element("name", "password").submit()
    _wait(lambda: "/login" not in driver.current_url, "sign-in")
    driver.get(f"{base_url}/queue/{team}")
    _wait(lambda: driver.execute_script("try { return !!dash_ag_grid.getApi('queue-grid'); } "
                                        "catch (e) { return false; }"), "the queue grid")
    driver.execute_script(WATCH)
    _wait(lambda: driver.execute_script("return window.__vigieFirst !== null;"), "the first rows")
    return driver


def seen(driver: Any) -> dict[int, float]:
    """Row id -> epoch seconds it first showed (rows of the first load left out)."""
    raw = driver.execute_script("return window.__vigieSeen || {};")
    return {int(k): float(v) / 1000 for k, v in raw.items() if re.fullmatch(r"\d+", str(k))}


def _wait(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # the page between two loads
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Chromium: timed out waiting for {what}")
