"""Real Chromium against a real `vigie serve` on a temporary database.

Agents sign in through the login page. A post goes through the pipeline into the
database; the open queue page shows it without a reload; the agent claims and resolves
it; both audit events are on the item. A second agent's claim of the same item fails
with a clear message; a lead bulk-reroutes from the triage page and sees an SLA breach
appear there without a reload; the wall is opened with a kiosk link.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from collectors.runner import sync_sources
from collectors.types import RawPost
from models import queries
from models.db import Database
from models.tables import AuditEvent, Mention, QueueItem, utcnow
from models.users import add_user, create_kiosk_token, set_preferences
from tests.chrome import ARTIFACTS, chromium, prepare_site, wait_until
from tests.kit import poll, store_posts
from tests.support import VIGIE, free_port, wait_for_http
from tests.web import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("browser")
    env, db, settings = prepare_site(tmp, sources={"sources": [
        {"name": "demo", "kind": "demo", "interval_seconds": 5, "enabled": False},
        # Enabled, never polled by this server (no collector runs): the test polls it, and it fails.
        {"name": "partner-feed", "kind": "rss", "interval_seconds": 300, "url": f"http://127.0.0.1:{free_port()}/f",
         "retries": 0}]})
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


def _chromium(tmp_path_factory: pytest.TempPathFactory) -> WebDriver:
    return chromium(tmp_path_factory.mktemp("chromium-profile"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = _chromium(tmp_path_factory)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def browser2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """A second browser (its own cookies): a second person at another desk."""
    driver = _chromium(tmp_path_factory)
    yield driver
    driver.quit()


def sign_in_as(browser: WebDriver, base: str, name: str, then: str, timeout: float = 10.0) -> None:
    """Through the login page, as a person would; lands on ``then`` (within ``timeout`` seconds)."""
    browser.delete_all_cookies()
    browser.get(f"{base}{then}")
    wait_until(lambda: "/login" in browser.current_url, what="the redirect to the login page")
    browser.find_element(By.ID, "login-name").send_keys(name)
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait_until(lambda: browser.current_url == f"{base}{then}", timeout=timeout, what=f"{name} signed in on {then}")
    wait_until(lambda: browser.find_element(By.ID, "vigie-user").text == name, what="the signed-in name")


def inject(db: Database, settings: Any, text: str) -> tuple[int, int]:
    """Send one post through the real pipeline into the database; returns (mention id, item id)."""
    post = RawPost(f"b-{uuid.uuid4().hex[:12]}", "x", text, datetime.now(UTC), "https://x.example/p/1",
                   "@browser_test", "Browser Test", 321)
    store_posts(db, settings, [post])
    with db.read() as s:
        mention = s.scalars(select(Mention).where(Mention.external_id == post.external_id)).one()
        item = s.scalars(select(QueueItem).where(QueueItem.mention_id == mention.id)).one()
        return mention.id, item.id


def test_new_post_appears_live_and_is_claimed_and_resolved(server: dict[str, Any], browser: WebDriver) -> None:
    db, settings = server["db"], server["settings"]
    inject(db, settings, "@AureliaBank the app is down again, can't log in to pay my rent")
    sign_in_as(browser, server["base"], "agent", "/queue/customer_service")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".ag-row"), what="the grid's first rows")
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
    assert browser.find_element(By.CSS_SELECTOR, f"{row_css} [col-id='assignee']").text == "agent"
    browser.find_element(By.ID, "queue-resolve").click()
    wait_until(lambda: "Resolved 1 item" in browser.find_element(By.ID, "queue-alert").text, what="resolve message")
    wait_until(lambda: not browser.find_elements(By.CSS_SELECTOR, row_css), what="resolved row to leave the queue")

    with db.read() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.queue_item_id == item_id).order_by(AuditEvent.id))
        assert [(e.actor, e.action) for e in events] == [("agent", "claim"), ("agent", "resolve")]

    browser.get(f"{server['base']}/mention/{mention_id}")
    history = wait_until(lambda: browser.find_element(By.ID, "mention-history"), what="history table")
    actions = [c.text for c in history.find_elements(By.CSS_SELECTOR, "td.audit-action")]
    assert actions == ["claim", "resolve"]
    assert "agent" in history.text
    assert "card_issue" in browser.find_element(By.ID, "mention-explanation").text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "mention.png"))


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
TWO_HOURS_AGO = re.compile(r"il y a 2 h( 0\d)?")


def test_a_french_reader_works_the_queue_and_item_in_french(server: dict[str, Any], browser: WebDriver) -> None:
    """An agent whose account says French and Paris: the queue, its grid's times (relative, no ISO),
    an action's answer and the item page are in French."""
    db, settings, base = server["db"], server["settings"], server["base"]
    with db.write.begin() as s:
        add_user(s, "agent-fr", "agent", ("customer_service",), PASSWORD, settings.team_keys, actor="test")
        set_preferences(s, "agent-fr", "fr", "Europe/Paris", actor="test")
    post = RawPost(f"b-{uuid.uuid4().hex[:12]}", "x", "@AureliaHelp my card got blocked again at the till, ref fr1",
                   datetime.now(UTC) - timedelta(hours=2), "https://x.example/p/2", "@client_fr", "Client", 12)
    store_posts(db, settings, [post])
    with db.read() as s:
        mention = s.scalars(select(Mention).where(Mention.external_id == post.external_id)).one()
        item_id = s.scalars(select(QueueItem.id).where(QueueItem.mention_id == mention.id)).one()
    sign_in_as(browser, base, "agent-fr", "/queue/customer_service")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    row_css = f".ag-center-cols-container .ag-row[row-id='{item_id}']"
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, row_css), what="the item's row")

    def cell(col: str) -> str:
        found = browser.find_element(By.CSS_SELECTOR, f"{row_css} [col-id='{col}']")
        return str(found.get_attribute("textContent")).strip()  # (a column scrolled out of view has no .text)

    assert TWO_HOURS_AGO.fullmatch(cell("created_at")), cell("created_at")
    assert re.fullmatch(r"dans .+|en retard de .+|échéance maintenant", cell("due_at")), cell("due_at")
    assert cell("status") == "nouveau" and cell("priority") in ("critique", "haute", "moyenne", "basse")
    assert cell("flags") == "Problème de carte, Demande de service"  # flags by their French names, filtered so
    shown = "return dash_ag_grid.getApi('queue-grid').getDisplayedRowCount();"
    for words, rows in (("problème de carte", lambda n: n >= 1), ("card_issue", lambda n: n == 0)):
        browser.execute_script("dash_ag_grid.getApi('queue-grid').setFilterModel("
                               "{flags: {filterType: 'text', type: 'contains', filter: arguments[0]}});", words)
        assert rows(browser.execute_script(shown)), (words, browser.execute_script(shown))
    browser.execute_script("dash_ag_grid.getApi('queue-grid').setFilterModel(null);")
    headers = browser.find_element(By.CSS_SELECTOR, "#queue-grid .ag-header").text
    assert "Priorité" in headers and "Publié" in headers and "Échéance" in headers
    assert browser.find_element(By.ID, "queue-claim").text == "Prendre en charge"
    assert re.fullmatch(r"[\d\u202f]+ ouverts?", browser.find_element(By.ID, "queue-count-open").text)
    browser.find_element(By.CSS_SELECTOR, f".ag-row[row-id='{item_id}'] .ag-selection-checkbox input").click()
    browser.find_element(By.ID, "queue-claim").click()
    wait_until(lambda: "1 élément pris en charge." in browser.find_element(By.ID, "queue-alert").text,
               what="the claim's answer in French")
    wait_until(lambda: cell("status") == "pris en charge", what="the status in French")
    assert not ISO_TIME.search(browser.find_element(By.TAG_NAME, "body").text)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "queue-fr.png"))

    browser.get(f"{base}/mention/{mention.id}")
    wait_until(lambda: browser.find_element(By.ID, "mention-history"), what="the item page")
    page = browser.find_element(By.TAG_NAME, "body").text
    assert f"Mention {mention.id}" in page and "Pourquoi il est ici" in page and "Historique" in page
    assert TWO_HOURS_AGO.fullmatch(browser.find_element(By.ID, "mention-posted").text)
    assert re.match(r"Échéance : (dans|en retard de) ", browser.find_element(By.ID, "mention-sla").text)
    assert "pris en charge" in browser.find_element(By.ID, "mention-status").text
    actions = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#mention-history td.audit-action")]
    assert actions == ["prise en charge"]
    assert browser.find_element(By.ID, "mention-explanation").text.startswith(
        "Règle « service-problem » (Problème de service (panne, carte, frais, accès au compte)) : signal de risque "
        "Problème de carte (card got blocked)")
    assert not ISO_TIME.search(page), ISO_TIME.search(page)
    browser.save_screenshot(str(ARTIFACTS / "mention-fr.png"))


def test_untrusted_text_is_shown_as_text(server: dict[str, Any], browser: WebDriver) -> None:
    payload = "<img src=x onerror=\"window.__pwned=1\"><b>bold</b> @AureliaBank fees are a rip-off"
    mention_id, item_id = inject(server["db"], server["settings"], payload)
    sign_in_as(browser, server["base"], "agent", f"/mention/{mention_id}")
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
    browser.delete_all_cookies()
    with db.write.begin() as s:
        token = create_kiosk_token(s, "browser-wall")
    browser.get(f"{server['base']}/wall?kiosk={token}")  # a wall screen: no account, read-only
    with db.read() as s:
        counts = queries.team_counts(s, settings.team_keys)
    for team, c in counts.items():
        wait_until(lambda t=team, n=c["open"]: browser.find_element(By.ID, f"wall-open-{t}").text == f"{n:,}",
                   what=f"open count of {team}")
    ticker = browser.find_element(By.ID, "wall-ticker").text
    assert "class action" in ticker
    before = counts["legal"]["open"]
    inject(db, settings, "Aurelia Bank: I filed a complaint with the CFPB today, fraud on my account")
    wait_until(lambda: browser.find_element(By.ID, "wall-open-legal").text == f"{before + 1:,}", timeout=10,
               what="the wall to count the new legal item")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "wall-1920x1080.png"))


def test_failing_source_shows_on_sources_page_and_wall_strip(server: dict[str, Any], browser: WebDriver) -> None:
    db, settings = server["db"], server["settings"]
    browser.set_window_size(1920, 1080)
    sign_in_as(browser, server["base"], "operator", "/sources")
    browser.get(server["base"] + "/wall")  # (the wall hides the navigation bar)
    wait_until(lambda: browser.find_element(By.ID, "wall-kpis"), what="wall")
    strip = browser.find_element(By.ID, "wall-strip").text
    assert "partner-feed · not run yet" in strip and "SOURCE DOWN" not in strip
    cfg = next(c for c in settings.sources if c.name == "partner-feed")
    report = poll(db, settings, cfg)  # a real poll of a closed port
    assert report.error and "ConnectError" in report.error
    strip = wait_until(lambda: browser.find_element(By.ID, "wall-strip") if "SOURCE DOWN · partner-feed" in
                       browser.find_element(By.ID, "wall-strip").text else None, timeout=10,
                       what="the wall's source strip")
    assert "SOURCE DOWN" in strip.text and "ConnectError" in strip.text and "partner-feed · failing" in strip.text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "wall-source-down.png"))
    browser.get(server["base"] + "/sources")
    row = wait_until(lambda: browser.find_element(By.ID, "sources-row-partner-feed"), what="sources row")
    assert "failing" in row.text and "1 failed poll in a row" in row.text and "ConnectError" in row.text
    demo = browser.find_element(By.ID, "sources-row-demo")
    assert "disabled" in demo.text
    browser.save_screenshot(str(ARTIFACTS / "sources.png"))


def test_second_agents_claim_fails_with_a_clear_message(server: dict[str, Any], browser: WebDriver,
                                                        browser2: WebDriver) -> None:
    db, settings, base = server["db"], server["settings"], server["base"]
    mention_id, item_id = inject(db, settings, "@AureliaBank charged twice for the same card payment, ref dbl")
    row_css = f".ag-center-cols-container .ag-row[row-id='{item_id}']"
    pinned = f".ag-row[row-id='{item_id}'] .ag-selection-checkbox input"
    for driver, name in ((browser, "agent"), (browser2, "agent2")):
        sign_in_as(driver, base, name, "/queue/customer_service")
        wait_until(lambda d=driver: d.find_element(By.CSS_SELECTOR, row_css), what=f"the row for {name}")
        driver.find_element(By.CSS_SELECTOR, pinned).click()  # both have it selected
    browser.find_element(By.ID, "queue-claim").click()
    wait_until(lambda: "Claimed 1 item" in browser.find_element(By.ID, "queue-alert").text, what="first claim")
    browser2.find_element(By.ID, "queue-claim").click()
    alert = wait_until(lambda: browser2.find_element(By.ID, "queue-alert").text, what="second claim's answer")
    assert f"item {item_id} is already claimed by agent" in alert
    ARTIFACTS.mkdir(exist_ok=True)
    browser2.save_screenshot(str(ARTIFACTS / "second-claim-refused.png"))
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None and item.assignee == "agent"
        claims = s.scalars(select(AuditEvent).where(AuditEvent.queue_item_id == item_id)).all()
        assert [(e.actor, e.action) for e in claims] == [("agent", "claim")]

    # Both open the item: each sees the other there.
    browser.get(f"{base}/mention/{mention_id}")
    browser2.get(f"{base}/mention/{mention_id}")
    wait_until(lambda: "Also viewing: agent" in browser2.find_element(By.ID, "mention-presence").text, timeout=12,
               what="agent2 to see agent on the item")
    wait_until(lambda: "Also viewing: agent2" in browser.find_element(By.ID, "mention-presence").text, timeout=12,
               what="agent to see agent2 on the item")


def test_lead_bulk_reroutes_and_sees_a_breach_without_reload(server: dict[str, Any], browser: WebDriver) -> None:
    db, settings, base = server["db"], server["settings"], server["base"]
    ids = [inject(db, settings, f"@AureliaBank my card got declined at the shop again, ref bulk{n}")[1]
           for n in range(3)]
    sign_in_as(browser, base, "lead", "/triage")
    for item_id in ids:
        wait_until(lambda i=item_id: browser.find_element(By.CSS_SELECTOR, f".ag-row[row-id='{i}']"),
                   what=f"unassigned item {item_id} on triage")
        browser.find_element(By.CSS_SELECTOR, f".ag-row[row-id='{item_id}'] .ag-selection-checkbox input").click()
    # The pickers say what they are for before anything is picked (they showed blank: dbc.Select's own
    # hidden option came first).
    assert Select(browser.find_element(By.ID, "triage-assignee")).first_selected_option.text == "Assign to…"
    assert Select(browser.find_element(By.ID, "triage-team")).first_selected_option.text == "Reroute to team…"
    Select(browser.find_element(By.ID, "triage-team")).select_by_visible_text("Legal & compliance")
    browser.find_element(By.ID, "triage-reason").send_keys("card disputes go to legal this quarter")
    browser.find_element(By.ID, "triage-reroute").click()
    wait_until(lambda: "Rerouted 3 items" in browser.find_element(By.ID, "triage-alert").text, what="bulk reroute")
    for item_id in ids:  # they leave this lead's triage (legal is not its team)
        wait_until(lambda i=item_id: not browser.find_elements(By.CSS_SELECTOR, f".ag-row[row-id='{i}']"),
                   what=f"item {item_id} to leave triage")
    with db.read() as s:
        moved = s.scalars(select(QueueItem).where(QueueItem.id.in_(ids))).all()
        reasons = s.scalars(select(AuditEvent.reason).where(AuditEvent.queue_item_id.in_(ids),
                                                            AuditEvent.action == "reroute")).all()
    assert {i.team for i in moved} == {"legal"} and len(reasons) == 3
    assert set(reasons) == {"card disputes go to legal this quarter"}

    # An item of the lead's team falls past its SLA while the page is open.
    browser.execute_script("window.__vigieNoReload = 'still here';")
    _mention, late = inject(db, settings, "@AureliaBank my card got declined and still no refund, ref breach")
    row_css = f".ag-row[row-id='{late}'] [col-id='why']"
    wait_until(lambda: "breached" not in browser.find_element(By.CSS_SELECTOR, row_css).text, what="the new item")
    with db.write.begin() as s:
        item = s.get(QueueItem, late)
        assert item is not None
        item.due_at = utcnow() + timedelta(seconds=3)
        item.at_risk_at = utcnow()
    wait_until(lambda: "breached" in browser.find_element(By.CSS_SELECTOR, row_css).text, timeout=15,
               what="the breach on the lead's page")
    assert browser.execute_script("return window.__vigieNoReload;") == "still here", "the page reloaded"
    assert "breached" in browser.find_element(By.ID, "triage-counts").text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "triage-breach.png"))
