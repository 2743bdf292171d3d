"""Real Chromium against a real `vigie serve`: compliance signs in, searches the archive for a post's
words, opens the item's record history from the results and reads the post as received (raw and
normalised) and its claim, as JSON text; the hostile text in the post stays text."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from collectors.runner import sync_sources
from collectors.types import RawPost
from models import actions
from models.archive_seal import seal
from models.tables import Mention, QueueItem
from tests.browser.test_queue_browser import sign_in_as
from tests.chrome import ARTIFACTS, chromium, prepare_site, wait_until
from tests.kit import store_posts
from tests.support import VIGIE, free_port, wait_for_http

pytestmark = pytest.mark.browser
SIGN_IN = 40.0  # seconds: a page's first build in a fresh server is slow on a loaded machine
TEXT = "@AureliaBank my card was swallowed by the machine <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("archive")
    env, db, settings = prepare_site(tmp, sources={"sources": [
        {"name": "demo", "kind": "demo", "interval_seconds": 5, "enabled": False}]})
    sync_sources(db, settings)
    store_posts(db, settings, [
        RawPost("s1", "x", TEXT, datetime.now(UTC), None, "@swallowed", "Sam", 12, raw={"id": "s1", "text": TEXT}),
        RawPost("s2", "x", "@AureliaBank what are your opening hours", datetime.now(UTC), None, "@other", "O", 3)])
    with db.read() as s:
        mention = s.scalars(select(Mention.id).where(Mention.external_id == "s1")).one()
        item = s.scalars(select(QueueItem.id).where(QueueItem.mention_id == mention)).one()
    with db.write.begin() as s:
        actions.claim(s, item, "agent")
        seal(s, "test")
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield {"base": f"http://127.0.0.1:{port}", "mention": mention}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-archive"))
    yield driver
    driver.quit()


def test_compliance_searches_and_opens_an_items_history(site: dict[str, Any], browser: WebDriver) -> None:
    base, mention = site["base"], site["mention"]
    sign_in_as(browser, base, "compliance", "/archive", timeout=SIGN_IN)
    wait_until(lambda: browser.find_element(By.ID, "archive-text"), timeout=SIGN_IN, what="the search form")
    browser.find_element(By.ID, "archive-text").send_keys("SWALLOWED")
    browser.find_element(By.ID, "archive-search").click()
    wait_until(lambda: browser.find_element(By.ID, "archive-results-table"), timeout=SIGN_IN, what="the results")
    table = browser.find_element(By.ID, "archive-results-table").text
    assert "post" in table and "sealed in segment 1" in table and "opening hours" not in table
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "archive-search.png"))

    link = wait_until(lambda: browser.find_element(By.LINK_TEXT, f"mention {mention}"), what="the item's link")
    link.click()
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#archive-history-records pre"), timeout=SIGN_IN,
               what="the item's records")
    assert browser.current_url == f"{base}/archive?mention={mention}"
    # textContent: the whole JSON, also the part scrolled out of the box
    blocks = [json.loads(pre.get_attribute("textContent") or "")
              for pre in browser.find_elements(By.CSS_SELECTOR, "#archive-history-records pre")]
    assert blocks[0]["raw"] == {"id": "s1", "text": TEXT} and blocks[0]["mention"]["text"] == TEXT
    assert [b.get("action") for b in blocks[1:]][:1] == ["claim"]
    assert not browser.find_elements(By.CSS_SELECTOR, "#archive-history-records img")  # the post's tag is text
    assert "SHA-256" in browser.find_element(By.ID, "archive-history-records").text
    browser.save_screenshot(str(ARTIFACTS / "archive-history.png"))
