"""The Content-Security-Policy breaks no page (dashboard/security.py), in real Chromium against a real
`vigie serve`: every registered page, opened by a role that may open it (the wall as a kiosk screen
too), and the sign-in page; each renders its own content and the browser reports no violation.

Violations are caught two ways: a ``securitypolicyviolation`` listener installed before any page
script runs (through the DevTools protocol, which the policy does not cover), and the browser's log.
"""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from typing import Any

import dash
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from models.tables import QueueItem
from models.users import create_kiosk_token
from tests.chrome import chromium, prepare_site, wait_until
from tests.kit import seed_items
from tests.support import VIGIE, free_port, wait_for_http
from tests.web import ACCOUNTS, PASSWORD

pytestmark = pytest.mark.browser
ROLE_ORDER = ("admin", "compliance", "operator", "manager", "lead", "agent")  # who opens a page
LISTENER = """window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("csp")
    env, db, settings = prepare_site(tmp)
    items = seed_items(db, settings, ["@AureliaBank my card got declined again at the shop",
                                      "@AureliaBank I will sue you, my lawyer is on it: class action"])
    with db.read() as s:
        mention_id = s.get(QueueItem, items[0]).mention_id  # type: ignore[union-attr]
        teams = set(s.scalars(select(QueueItem.team)))
    with db.write.begin() as s:
        token = create_kiosk_token(s, "csp-wall")
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/login")
        yield {"base": f"http://127.0.0.1:{port}", "db": db, "settings": settings, "token": token,
               "mention": mention_id, "teams": teams}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTENER})  # type: ignore[attr-defined]
    yield driver
    driver.quit()


def _violations(browser: WebDriver) -> list[str]:
    found = [str(v) for v in browser.execute_script("return window.__csp || [];")]
    try:
        log = browser.get_log("browser")  # type: ignore[attr-defined]
    except Exception:  # a driver without the log: the listener still reports
        log = []
    return found + [e["message"] for e in log if "Content Security Policy" in e.get("message", "")]


def _sign_in(browser: WebDriver, base: str, name: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/login")
    assert browser.find_element(By.ID, "login-submit")  # the sign-in page rendered
    assert _violations(browser) == [], "the sign-in page"
    browser.find_element(By.ID, "login-name").send_keys(name)
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait_until(lambda: browser.find_element(By.ID, "vigie-user").text == name, what=f"{name} signed in")


def _pages(site: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(who, path, the id prefix of the page's own content) for every registered page."""
    from dashboard.app import create_app
    from tests.conftest import web_settings

    if not dash.page_registry:
        create_app(web_settings(site["settings"]), site["db"])
    out = []
    for page in dash.page_registry.values():
        roles = page.get("roles") or ()
        who = next(name for role in ROLE_ORDER for name, (r, _t) in ACCOUNTS.items() if r == role and role in roles)
        template = page.get("path_template") or page["path"]
        path = template.replace("<team>", sorted(site["teams"])[0]).replace("<mention_id>", str(site["mention"]))
        out.append((who, path, page["module"].rsplit(".", 1)[-1] + "-"))
    return out


def _rendered(browser: WebDriver, prefix: str) -> bool:
    return bool(browser.execute_script(
        "return document.querySelectorAll(arguments[0]).length > 0 && !document.getElementById('access-denied');",
        f'#_pages_content [id^="{prefix}"]'))


def test_no_page_breaks_under_the_policy(site: dict[str, Any], browser: WebDriver) -> None:
    with urllib.request.urlopen(f"{site['base']}/login", timeout=10) as answer:  # the policy is in force
        assert "script-src 'self' 'sha256-" in answer.headers["Content-Security-Policy"]
    pages = _pages(site)
    assert {path for _w, path, _p in pages} >= {"/", "/wall", "/archive", "/sources", f"/mention/{site['mention']}"}
    signed_in_as = None
    for who, path, prefix in sorted(pages):
        if who != signed_in_as:
            _sign_in(browser, site["base"], who)
            signed_in_as = who
        browser.get(f"{site['base']}{path}")
        wait_until(lambda prefix=prefix: _rendered(browser, prefix), timeout=20, what=f"{path} rendered for {who}")
        assert _violations(browser) == [], (who, path)
    # The wall as its screen shows it: signed in by its kiosk link.
    browser.delete_all_cookies()
    browser.get(f"{site['base']}/wall?kiosk={site['token']}")
    wait_until(lambda: _rendered(browser, "wall-"), timeout=20, what="the wall for a kiosk screen")
    assert _violations(browser) == [], "the wall (kiosk)"
