"""Real Chromium against a real `vigie serve` on a temporary database.

A post goes through the pipeline into the database; the open queue page shows it
without a reload; the agent claims and resolves it; both audit events are on the item.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from collectors.pipeline import Enricher
from collectors.runner import poll_source, sync_sources
from collectors.store import store_batch
from collectors.types import RawPost
from config.settings import load_settings
from models import queries
from models.db import Database, open_database
from models.migrate import upgrade
from models.tables import AuditEvent, Mention, QueueItem, SourceRow, utcnow
from tests.support import REPO, VIGIE, free_port, wait_for_http

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("browser")
    cfg = tmp / "config"
    shutil.copytree(REPO / "config", cfg, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (cfg / "sources.yaml").write_text(yaml.safe_dump({"sources": [
        {"name": "demo", "kind": "demo", "interval_seconds": 5, "enabled": False},
        # Enabled, never polled by this server (no collector runs): the test polls it, and it fails.
        {"name": "partner-feed", "kind": "rss", "interval_seconds": 300, "url": f"http://127.0.0.1:{free_port()}/f",
         "retries": 0}]}))
    url = f"sqlite:///{tmp / 'vigie.db'}"
    env = {**os.environ, "DATABASE_URL": url, "VIGIE_CONFIG": str(cfg), "VIGIE_REFRESH_MS": "1000"}
    db = open_database(url)
    upgrade(db.engine)
    settings = load_settings(env=env)
    sync_sources(db, settings)
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield {"base": f"http://127.0.0.1:{port}", "db": db, "settings": settings, "log": tmp / "serve.log"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("chromium and chromedriver are needed: `make test` installs them (apt-get install "
                    "chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--window-size=1600,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception:  # element not there yet, stale after a grid update
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def inject(db: Database, settings: Any, text: str) -> tuple[int, int]:
    """Send one post through the real pipeline into the database; returns (mention id, item id)."""
    post = RawPost(f"b-{uuid.uuid4().hex[:12]}", "x", text, datetime.now(UTC), "https://x.example/p/1",
                   "@browser_test", "Browser Test", 321)
    with db.write.begin() as s:
        sid = s.scalars(select(SourceRow.id).where(SourceRow.name == "demo")).one()
        store_batch(s, sid, [Enricher(settings).enrich(post, utcnow())], None)
    with db.read() as s:
        mention = s.scalars(select(Mention).where(Mention.external_id == post.external_id)).one()
        item = s.scalars(select(QueueItem).where(QueueItem.mention_id == mention.id)).one()
        return mention.id, item.id


def test_new_post_appears_live_and_is_claimed_and_resolved(server: dict[str, Any], browser: WebDriver) -> None:
    db, settings = server["db"], server["settings"]
    inject(db, settings, "@AureliaBank the app is down again, can't log in to pay my rent")
    browser.get(server["base"] + "/queue/customer_service")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".ag-row"), what="the grid's first rows")
    name = browser.find_element(By.ID, "actor-name")
    name.clear()
    name.send_keys("Alice Agent", Keys.TAB)
    browser.execute_script("window.__vigieNoReload = 'still here';")

    marker = uuid.uuid4().hex[:6]
    mention_id, item_id = inject(db, settings, f"@AureliaHelp my card got blocked again at the till, ref {marker}")
    row_css = f".ag-center-cols-container .ag-row[row-id='{item_id}']"
    # Within 5 s of being stored, without a reload (the page asks every second here).
    row = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, row_css), timeout=5, what="the new row")
    assert marker in row.text
    assert browser.execute_script("return window.__vigieNoReload;") == "still here", "the page reloaded"

    pinned = f".ag-row[row-id='{item_id}'] .ag-selection-checkbox input"
    browser.find_element(By.CSS_SELECTOR, pinned).click()
    browser.find_element(By.ID, "queue-claim").click()
    wait_until(lambda: "Claimed 1 item" in browser.find_element(By.ID, "queue-alert").text, what="claim message")
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, f"{row_css} [col-id='status']").text == "claimed",
               what="status claimed")
    assert browser.find_element(By.CSS_SELECTOR, f"{row_css} [col-id='assignee']").text == "Alice Agent"
    browser.find_element(By.ID, "queue-resolve").click()
    wait_until(lambda: "Resolved 1 item" in browser.find_element(By.ID, "queue-alert").text, what="resolve message")
    wait_until(lambda: not browser.find_elements(By.CSS_SELECTOR, row_css), what="resolved row to leave the queue")

    with db.read() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.queue_item_id == item_id).order_by(AuditEvent.id))
        assert [(e.actor, e.action) for e in events] == [("Alice Agent", "claim"), ("Alice Agent", "resolve")]

    browser.get(f"{server['base']}/mention/{mention_id}")
    history = wait_until(lambda: browser.find_element(By.ID, "mention-history"), what="history table")
    actions = [c.text for c in history.find_elements(By.CSS_SELECTOR, "td.audit-action")]
    assert actions == ["claim", "resolve"]
    assert "Alice Agent" in history.text
    assert "card_issue" in browser.find_element(By.ID, "mention-explanation").text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "mention.png"))


def test_untrusted_text_is_shown_as_text(server: dict[str, Any], browser: WebDriver) -> None:
    payload = "<img src=x onerror=\"window.__pwned=1\"><b>bold</b> @AureliaBank fees are a rip-off"
    mention_id, item_id = inject(server["db"], server["settings"], payload)
    browser.get(f"{server['base']}/mention/{mention_id}")
    text = wait_until(lambda: browser.find_element(By.ID, "mention-text"), what="mention text")
    assert text.text == payload
    assert browser.execute_script("return window.__pwned === undefined;")
    assert not text.find_elements(By.TAG_NAME, "img")
    browser.get(server["base"] + "/queue/customer_service")
    row = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, f".ag-row[row-id='{item_id}'] [col-id='text']"),
                     what="row with markup")
    assert "<b>bold</b>" in row.text and not row.find_elements(By.TAG_NAME, "img")
    assert browser.execute_script("return window.__pwned === undefined;")


def test_wall_shows_what_the_database_holds(server: dict[str, Any], browser: WebDriver) -> None:
    db, settings = server["db"], server["settings"]
    inject(db, settings, "I reported Aurelia Bank to the CFPB, my lawyer is preparing a class action")
    browser.set_window_size(1920, 1080)
    browser.get(server["base"] + "/wall")
    with db.read() as s:
        counts = queries.team_counts(s, settings.team_keys)
    for team, c in counts.items():
        wait_until(lambda t=team, n=c["open"]: browser.find_element(By.ID, f"wall-open-{t}").text == str(n),
                   what=f"open count of {team}")
    ticker = browser.find_element(By.ID, "wall-ticker").text
    assert "class action" in ticker
    before = counts["legal"]["open"]
    inject(db, settings, "Aurelia Bank: I filed a complaint with the CFPB today, fraud on my account")
    wait_until(lambda: browser.find_element(By.ID, "wall-open-legal").text == str(before + 1), timeout=10,
               what="the wall to count the new legal item")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "wall-1920x1080.png"))


def test_failing_source_shows_on_sources_page_and_wall_strip(server: dict[str, Any], browser: WebDriver) -> None:
    db, settings = server["db"], server["settings"]
    browser.set_window_size(1920, 1080)
    browser.get(server["base"] + "/wall")
    wait_until(lambda: browser.find_element(By.ID, "wall-kpis"), what="wall")
    assert browser.find_element(By.ID, "wall-strip").text == ""
    cfg = next(c for c in settings.sources if c.name == "partner-feed")
    report = poll_source(db, settings, Enricher(settings), cfg)  # a real poll of a closed port
    assert report.error and "ConnectError" in report.error
    strip = wait_until(lambda: browser.find_element(By.ID, "wall-strip") if "partner-feed" in
                       browser.find_element(By.ID, "wall-strip").text else None, timeout=10,
                       what="the wall's source strip")
    assert "SOURCE DOWN" in strip.text and "ConnectError" in strip.text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "wall-source-down.png"))
    browser.get(server["base"] + "/sources")
    row = wait_until(lambda: browser.find_element(By.ID, "sources-row-partner-feed"), what="sources row")
    assert "failing" in row.text and "1 failed poll(s) in a row" in row.text and "ConnectError" in row.text
    demo = browser.find_element(By.ID, "sources-row-demo")
    assert "disabled" in demo.text
    browser.save_screenshot(str(ARTIFACTS / "sources.png"))
