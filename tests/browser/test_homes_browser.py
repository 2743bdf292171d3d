"""Real Chromium against a real `vigie serve`: each role signs in through the login page, lands on
/ and sees its own home with the rows seeded for it (the agent's claimed item, the lead's breach,
compliance's waiting draft, the manager's week, the operator's sources); the agent's home shows a
claim made elsewhere without a reload; an account set to French reads its home in French."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import update

from collectors.runner import sync_sources
from collectors.types import RawPost
from models import actions, replies
from models.tables import QueueItem, utcnow
from models.users import set_preferences
from tests.browser.test_queue_browser import sign_in_as
from tests.chrome import chromium, prepare_site, wait_until
from tests.kit import seed_items
from tests.support import VIGIE, free_port, wait_for_http

pytestmark = pytest.mark.browser
CARD = "@AureliaBank my card got declined again at the shop"  # customer_service
LAWSUIT = "@AureliaBank I will sue you, my lawyer is on it: class action"  # legal


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("homes")
    env, db, settings = prepare_site(tmp, sources={"sources": [
        {"name": "demo", "kind": "demo", "interval_seconds": 5, "enabled": False}]})
    sync_sources(db, settings)
    now = datetime.now(UTC)
    posts = [RawPost(f"h{i}", "x", f"{CARD} ({i})", now, None, f"@h{i}", f"H{i}", 10) for i in range(4)]
    posts.append(RawPost("h-legal", "x", LAWSUIT, now, None, "@hl", "HL", 10))
    held, late, spare, later, legal = seed_items(db, settings, posts)
    with db.write.begin() as s:
        actions.claim(s, held, "agent")
        s.execute(update(QueueItem).where(QueueItem.id == late).values(due_at=utcnow() - timedelta(minutes=20)))
        item = s.get(QueueItem, legal)
        assert item is not None
        target = replies.Target("reply", "x", "demo", "legal", None, "en", item.id, item.mention_id)
        draft = replies.compose(s, replies.compile_rules(settings), "legal-agent", target, "We are on it.").id
        set_preferences(s, "agent2", "fr", "Europe/Paris")
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield {"base": f"http://127.0.0.1:{port}", "db": db, "settings": settings, "held": held, "late": late,
               "spare": spare, "later": later, "draft": draft}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def _row(browser: WebDriver, ident: str) -> Any:
    return wait_until(lambda: browser.find_element(By.ID, ident), what=ident)


def _headings(browser: WebDriver) -> list[str]:
    return [h.tag_name for h in browser.find_elements(By.CSS_SELECTOR, "#home-page h2, #home-page h3")]


def test_each_role_lands_on_its_own_home(site: dict[str, Any], browser: WebDriver) -> None:
    base = site["base"]
    sign_in_as(browser, base, "agent", "/")
    row = _row(browser, f"home_agent-held-{site['held']}")
    assert "declined" in row.text and row.find_element(By.TAG_NAME, "a").get_attribute("href").startswith(
        f"{base}/mention/")
    assert row.find_element(By.TAG_NAME, "time").text  # "in 1 h 50" style, never an ISO time
    assert "T" not in row.find_element(By.TAG_NAME, "time").text
    assert _row(browser, f"home_agent-urgent-{site['late']}")
    assert "lawyer" not in browser.find_element(By.ID, "home-page").text  # legal's: not this agent's team
    assert _headings(browser)[0] == "h2" and "h3" in _headings(browser)

    # Live: a claim made elsewhere shows on the agent's home at the next tick, without a reload.
    browser.execute_script("window.__vigieNoReload = 'still here';")
    with site["db"].write.begin() as s:
        actions.claim(s, site["later"], "agent")
    _row_live = wait_until(lambda: browser.find_element(By.ID, f"home_agent-held-{site['later']}"), timeout=25,
                           what="the new claim on the agent's home")
    assert _row_live and browser.execute_script("return window.__vigieNoReload;") == "still here"

    sign_in_as(browser, base, "lead", "/")
    assert "declined" in _row(browser, f"home_lead-breaches-{site['late']}").text
    assert browser.find_element(By.ID, "home_lead-count-unassigned").text

    sign_in_as(browser, base, "compliance", "/")
    draft = _row(browser, f"home_compliance-drafts-{site['draft']}")
    assert "We are on it." in draft.text and "on time" in draft.text

    sign_in_as(browser, base, "manager", "/")
    trend = _row(browser, "home_manager-trend")
    assert len(trend.find_elements(By.CSS_SELECTOR, "tbody tr")) == 7
    assert trend.find_elements(By.CSS_SELECTOR, "thead th")

    sign_in_as(browser, base, "operator", "/")
    assert _row(browser, "home-state-demo").text == "disabled"
    assert _row(browser, "home_admin-rag-collectors").text == "Failing"  # no collector runs here


def test_a_french_account_reads_its_home_in_french(site: dict[str, Any], browser: WebDriver) -> None:
    sign_in_as(browser, site["base"], "agent2", "/")
    page = _row(browser, "home-page")
    wait_until(lambda: "Mon travail" in page.text, what="the French heading")
    assert "Les éléments que je détiens" in page.text and "Éléments non pris en charge les plus urgents" in page.text
    assert "Items I hold" not in page.text
    assert "Élément" in browser.find_element(By.ID, f"home_agent-urgent-{site['late']}").text
    assert "en retard de" in browser.find_element(By.ID, f"home_agent-urgent-{site['late']}").text
