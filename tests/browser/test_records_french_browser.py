"""Real Chromium against a real `vigie serve`: a compliance officer whose account says French and
Europe/Paris reads /audit, /sources and /archive in French, every time in her zone (UTC+01:00 in
December; the audit's rows in full, the sources' runs relative) and no raw ISO time anywhere in
the visible text."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select, update

from collectors.runner import sync_sources
from collectors.types import RawPost
from models import actions, holds, users
from models.archive_seal import seal
from models.tables import Mention, QueueItem, SourceRow, utcnow
from tests.browser.test_queue_browser import sign_in_as
from tests.chrome import ARTIFACTS, chromium, prepare_site, wait_until
from tests.kit import store_posts
from tests.support import VIGIE, free_port, wait_for_http

pytestmark = pytest.mark.browser
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
PARIS = re.compile(r"UTC\+0[12]:00")  # Paris: +01:00 in winter, +02:00 in summer
SIGN_IN = 40.0  # seconds: a page's first build in a fresh server is slow on a loaded machine


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("records-fr")
    env, db, settings = prepare_site(tmp, sources={"sources": [
        {"name": "demo", "kind": "demo", "interval_seconds": 5, "enabled": False}]})
    sync_sources(db, settings)
    store_posts(db, settings, [RawPost("f1", "x", "@AureliaBank ma carte est bloquée", datetime.now(UTC), None,
                                       "@claire", "Claire", 12)])
    now = utcnow()
    with db.read() as s:
        mention = s.scalars(select(Mention.id).where(Mention.external_id == "f1")).one()
        item = s.scalars(select(QueueItem.id).where(QueueItem.mention_id == mention)).one()
    with db.write.begin() as s:
        actions.claim(s, item, "agent")
        holds.place_hold(s, "compliance", "Dupont c. Banque Aurelia", "réclamation",
                         holds.HoldScope(mention_ids=(mention,), since=now - timedelta(days=2)))
        seal(s, "test")
        s.execute(update(SourceRow).where(SourceRow.name == "demo").values(
            last_ok_at=now - timedelta(minutes=3), last_run_at=now - timedelta(minutes=3), items_last_run=1234))
        users.set_preferences(s, "compliance", "fr", "Europe/Paris")
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield {"base": f"http://127.0.0.1:{port}"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-records-fr"))
    yield driver
    driver.quit()


def _text(browser: WebDriver, ident: str = "_pages_content") -> str:
    return str(browser.find_element(By.ID, ident).text)


def _screenshot(browser: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / name))


def _no_iso(text: str) -> None:
    assert not ISO.search(text), ISO.findall(text)


def test_audit_in_french_with_local_times(site: dict[str, Any], browser: WebDriver) -> None:
    sign_in_as(browser, site["base"], "compliance", "/audit", timeout=SIGN_IN)
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#audit-events tbody tr"), timeout=20,
               what="the audit events")
    text = _text(browser)
    assert "Journal d’audit" in text and "Quand" in text and "Exporter en CSV" in text, text
    assert "Du (date UTC)" in text  # the filters stay UTC days, and say so
    first = browser.find_element(By.CSS_SELECTOR, "#audit-events tbody tr td time")
    assert PARIS.search(first.text), first.text  # the full local time, with its offset
    assert first.get_attribute("datetime")  # the instant, for machines
    _no_iso(browser.find_element(By.TAG_NAME, "body").text)
    assert browser.title.startswith("Journal d’audit")
    _screenshot(browser, "audit-fr.png")


def test_sources_in_french_with_relative_times(site: dict[str, Any], browser: WebDriver) -> None:
    browser.get(f"{site['base']}/sources")
    wait_until(lambda: browser.find_elements(By.ID, "sources-state-demo"), timeout=20, what="the sources table")
    text = _text(browser)
    assert "État" in text and "Dernier succès" in text and "Notifications" in text, text
    assert browser.find_element(By.ID, "sources-state-demo").text == "désactivée"
    row = browser.find_element(By.ID, "sources-row-demo")
    assert "il y a 3 min" in row.text and "1\u202f234" in row.text, row.text  # French thousands: U+202F
    assert PARIS.search(row.find_element(By.TAG_NAME, "time").get_attribute("title") or "")
    _no_iso(browser.find_element(By.TAG_NAME, "body").text)
    _screenshot(browser, "sources-fr.png")


def test_archive_in_french_with_local_times(site: dict[str, Any], browser: WebDriver) -> None:
    browser.get(f"{site['base']}/archive")
    wait_until(lambda: browser.find_elements(By.ID, "archive-search"), timeout=20, what="the archive page")
    assert "Rechercher des enregistrements" in _text(browser) and "Du (date UTC)" in _text(browser)
    browser.find_element(By.ID, "archive-search").click()
    wait_until(lambda: browser.find_elements(By.ID, "archive-results-table"), timeout=20, what="the results")
    results = browser.find_element(By.ID, "archive-results-table").text
    assert "Quand" in results and "scellé dans le segment 1" in results and PARIS.search(results), results
    assert "enregistrements, du plus récent au plus ancien" in _text(browser, "archive-results-note")
    _no_iso(browser.find_element(By.TAG_NAME, "body").text)
    _screenshot(browser, "archive-search-fr.png")
    for tab, wanted, shot in (("Conservations légales", "en vigueur", "archive-holds-fr.png"),
                              ("Vérifications et ancres", "Tête : segment 1", "archive-status-fr.png")):
        browser.find_element(By.LINK_TEXT, tab).click()
        wait_until(lambda wanted=wanted: wanted in _text(browser), timeout=10, what=f"the tab {tab}")
        text = _text(browser)
        assert PARIS.search(text), text
        _no_iso(browser.find_element(By.TAG_NAME, "body").text)
        _screenshot(browser, shot)
