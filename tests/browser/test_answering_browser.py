"""Real Chromium against a real `vigie serve`: the whole answering loop.

An agent answers one customer from an approved template (placeholders filled in the panel),
another agent writes free text for a second customer, which waits; compliance approves it on
/approvals; the sender job (as `vigie collect` runs it) posts both to a local server speaking
Mastodon's write API, each exactly once, and both show as sent in the items' threads.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from collectors.jobs.send_replies import run_send_replies
from collectors.runner import sync_sources
from collectors.types import RawPost
from models import library, replies
from models.library import Draft
from models.reply_tables import Reply
from models.tables import Mention, QueueItem
from models.users import set_preferences
from tests.browser.test_queue_browser import sign_in_as
from tests.chrome import ARTIFACTS, chromium, prepare_site, wait_until
from tests.kit import store_posts
from tests.platform_writes import FakeMastodon
from tests.support import VIGIE, free_port, wait_for_http

pytestmark = pytest.mark.browser
TOKEN = "masto-write-token"
SIGN_IN = 40.0  # seconds: a page's first build in a fresh server is slow on a loaded CI machine
CARD = "Hello {{first_name}}, we are sorry your card was blocked. Your case is {{case_ref}}; we call you today."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("answering")
    fake = FakeMastodon(token=TOKEN, statuses=("111", "112"))
    token_file = tmp / "masto-write-token"
    token_file.write_text(TOKEN)
    env, db, settings = prepare_site(tmp, sources={"sources": [
        {"name": "demo", "kind": "demo", "interval_seconds": 5, "enabled": False},
        # Enabled so it can be answered; no collector polls it here (nothing would answer the reads).
        {"name": "masto", "kind": "mastodon", "interval_seconds": 300, "instance": fake.url,
         "hashtags": ["aurelia"], "timeout_seconds": 2, "retries": 0, "write_token_file": str(token_file)}]})
    sync_sources(db, settings)
    now = datetime.now(UTC)
    store_posts(db, settings, [
        RawPost("111", "mastodon", "@AureliaBank my card was blocked at the till again", now,
                "https://social.example/@ana/111", "@ana@social.example", "Ana Martin", 120),
        RawPost("112", "mastodon", "@AureliaBank my card was blocked, third time this month", now,
                "https://social.example/@bob/112", "@bob@social.example", "Bob Stone", 80),
    ], source="masto")
    with db.write.begin() as s:
        version = library.create(s, "lead", "blocked-card", "en", "reply",
                                 Draft("Blocked card", "cards", CARD, ("customer_service",)), settings.team_keys)
        library.decide(s, "compliance", version.id, approve=True)
    with db.read() as s:
        mentions = {m.external_id: m.id for m in s.scalars(select(Mention))}
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield {"base": f"http://127.0.0.1:{port}", "db": db, "settings": settings, "fake": fake,
               "mentions": mentions}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()
        fake.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-answering"))
    yield driver
    driver.quit()


def _pick_template(browser: WebDriver, label: str, placeholder: str) -> None:
    """Choose an option of the template dropdown as a person does: open it, click the option whose
    label holds ``label``; again (menu closed first) if the dropdown's code was still loading, the
    menu did not open or no input for ``placeholder`` came (a busy machine)."""
    def option() -> Any:
        for element in browser.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
            if label in element.text and element.is_displayed():
                return element
        return None

    def attempt() -> bool:
        if browser.find_elements(By.CSS_SELECTOR, f"input[id*='{placeholder}']"):
            return True
        if option() is None:
            browser.find_element(By.ID, "compose-template").click()
        try:
            wait_until(option, timeout=5, what=f"the option {label!r} in the open menu").click()
        except AssertionError:
            browser.switch_to.active_element.send_keys(Keys.ESCAPE)
            return False
        try:
            wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, f"input[id*='{placeholder}']"),
                       timeout=5, what="the placeholders' inputs")
        except AssertionError:
            return False
        return True

    wait_until(attempt, timeout=SIGN_IN, what=f"the template {label!r} chosen and its inputs shown")


def _click(browser: WebDriver, css: str) -> None:
    """Find the element again, scroll it to the middle of the window, as a person would, and click
    it; again while the live preview is still moving the page under it or a callback has just
    redrawn it (the element found a moment ago is then stale)."""
    def attempt() -> bool:
        element = browser.find_element(By.CSS_SELECTOR, css)
        # at once: Bootstrap smooth-scrolls the page, and a click while it glides lands below the window
        browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
        try:
            element.click()
        except (ElementClickInterceptedException, StaleElementReferenceException):
            return False
        return True

    wait_until(attempt, timeout=SIGN_IN, what=f"a click that lands on {css}")


def _send_enabled(browser: WebDriver) -> bool:
    return browser.find_element(By.ID, "compose-send").is_enabled()


def test_template_and_free_text_replies_reach_the_network_once(site: dict[str, Any], browser: WebDriver) -> None:
    base, db, settings, fake = site["base"], site["db"], site["settings"], site["fake"]
    first, second = site["mentions"]["111"], site["mentions"]["112"]

    # 1. An agent answers Ana from the approved template; her first name is filled from her name.
    sign_in_as(browser, base, "agent", f"/mention/{first}", timeout=SIGN_IN)
    _pick_template(browser, "Blocked card", "case_ref")
    case = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "input[id*='case_ref']"), what="case ref input")
    first_name = browser.find_element(By.CSS_SELECTOR, "input[id*='first_name']")
    assert first_name.get_attribute("value") == "Ana"
    assert not _send_enabled(browser)  # {{case_ref}} is still empty
    case.send_keys("AUR-204518")
    wait_until(lambda: "AUR-204518" in browser.find_element(By.ID, "compose-final").text, what="the preview")
    wait_until(lambda: _send_enabled(browser), what="Send enabled once every placeholder is filled")
    assert "at once" in browser.find_element(By.ID, "compose-outcome").text
    _click(browser, "#compose-send")
    wait_until(lambda: browser.find_element(By.ID, "compose-alert").text, what="the send message")

    # 2. Another agent writes free text to Bob: it waits for compliance.
    sign_in_as(browser, base, "agent2", f"/mention/{second}", timeout=SIGN_IN)
    text = wait_until(lambda: browser.find_element(By.ID, "compose-text"), what="the reply box")
    text.send_keys("Hi Bob, sorry for the trouble; please send us a private message so we can look at it.")
    wait_until(lambda: "waits for compliance" in browser.find_element(By.ID, "compose-outcome").text.lower(),
               what="the outcome line saying it waits")
    wait_until(lambda: _send_enabled(browser), what="Send enabled")
    _click(browser, "#compose-send")
    wait_until(lambda: browser.find_element(By.ID, "compose-alert").text, what="the send message")
    with db.read() as s:
        states = {r.mention_id: r.status for r in s.scalars(select(Reply))}
    assert states == {first: "queued", second: "pending"}

    # 3. Compliance approves it on /approvals.
    sign_in_as(browser, base, "compliance", "/approvals", timeout=SIGN_IN)
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "button[id*='approvals-approve']"),
               what="the approve button")
    assert "private message" in browser.find_element(By.ID, "approvals-waiting").text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "approvals.png"))
    _click(browser, "button[id*='approvals-approve']")
    wait_until(lambda: "pproved" in browser.find_element(By.ID, "approvals-alert").text, what="approved message")

    # 4. The sender posts both, once each, as the collector's replies:send job does.
    report = run_send_replies(db, settings)
    assert report.sent == 2, report
    assert run_send_replies(db, settings).sent == 0  # nothing left: never twice
    posts = fake.writes("/api/v1/statuses")
    assert len(posts) == 2
    bodies = [json.loads(r.body) for r in posts]
    assert sorted(str(b.get("in_reply_to_id")) for b in bodies) == ["111", "112"]
    assert any("AUR-204518" in b["status"] and b["status"].startswith("Hello Ana,") for b in bodies)
    assert len({r.headers.get("idempotency-key") for r in posts}) == 2
    assert len(fake.posts) == 2

    # 5. Both show as sent in their items' threads, with the platform's link.
    for mention_id in (first, second):
        browser.get(f"{base}/mention/{mention_id}")
        wait_until(lambda: "sent" in browser.find_element(By.ID, "thread-list").text.lower(),
                   what="a sent reply in the thread")
    assert "private message" in browser.find_element(By.ID, "thread-list").text
    browser.save_screenshot(str(ARTIFACTS / "thread.png"))


ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def test_a_french_reader_sees_approvals_and_the_reply_panel_in_french(site: dict[str, Any],
                                                                      browser: WebDriver) -> None:
    base, db, settings = site["base"], site["db"], site["settings"]
    mention_id = site["mentions"]["112"]
    with db.write.begin() as s:
        set_preferences(s, "compliance", "fr", "Europe/Paris")
        set_preferences(s, "agent2", "fr", "Europe/Paris")
        item = s.scalars(select(QueueItem).where(QueueItem.mention_id == mention_id)).one()
        mention = s.get(Mention, mention_id)
        assert mention is not None
        target = replies.Target("reply", mention.network, "masto", item.team, mention.brand, mention.language or "en",
                                item.id, mention.id)
        replies.compose(s, replies.compile_rules(settings), "agent2", target, "Bonjour Bob, écrivez-nous en privé.")

    sign_in_as(browser, base, "compliance", "/approvals", timeout=SIGN_IN)
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "button[id*='approvals-approve']"),
               what="the approve button")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Approbations" in body and "En attente d’approbation" in body and "Approuver" in body, body[:500]
    assert "Waiting for approval" not in body and not ISO.search(body), ISO.search(body)
    assert browser.title == "Approbations · Vigie"
    assert browser.find_element(By.TAG_NAME, "time").get_attribute("title").endswith("UTC+01:00")
    browser.save_screenshot(str(ARTIFACTS / "approvals-fr.png"))

    sign_in_as(browser, base, "agent2", f"/mention/{mention_id}", timeout=SIGN_IN)
    panel = wait_until(lambda: browser.find_element(By.ID, "reply"), what="the reply panel")
    wait_until(lambda: "Répondre" in panel.text, what="the panel in French")
    assert browser.find_element(By.ID, "compose-send").text == "Envoyer"
    assert "Send" not in panel.text and not ISO.search(panel.text)
    text = browser.find_element(By.ID, "compose-text")
    assert text.get_attribute("placeholder") == "Rédigez une réponse, ou choisissez un modèle ci-dessus"
    text.send_keys("Bonjour Bob, nous regardons votre carte.")
    wait_until(lambda: "Attend la conformité" in browser.find_element(By.ID, "compose-outcome").text,
               what="the outcome line in French")
