"""The page walk of tests/browser/test_every_page_browser.py: the cases (every page each role may
open, in each language, from `dash.page_registry`), one browser per role and language (`Walker`), and
one visit per case read once for both of that module's tests (`Visit`: the text, axe-core's findings,
the keyboard's faults).

``VIGIE_SCREENSHOTS=<dir>`` saves each visited page as ``<lang>-<role>-<page>.png`` (1400 px wide,
the whole page's height).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import dash
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.auth.policy import KIOSK, Principal, can_read_team
from models.users import set_preferences
from tests.chrome import chromium, viewport, wait_until
from tests.support import REPO
from tests.web import ACCOUNTS, PASSWORD

AXE = REPO / "tests" / "vendor" / "axe-core" / "axe.min.js"
LANGUAGES = ("en", "fr")
# Who walks: the account of each role (tests/web.py ACCOUNTS), and the wall screen.
WALKERS: dict[str, str | None] = {"operator": "operator", "agent": "agent", "lead": "lead",
                                  "compliance": "compliance", "manager": "manager", "admin": "admin", KIOSK: None}
LOAD = 40.0  # seconds: a page's first build in a fresh server is slow on a loaded machine
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
SERIOUS = ("serious", "critical")
SHOT_WIDTH = 1400
SHOTS = os.environ.get("VIGIE_SCREENSHOTS")  # a folder: save each page visited there
SETTLE = 2.0  # seconds, at most, for a page's callbacks to finish and its text to stop changing


# --- the cases, from the page registry ------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    role: str
    language: str
    page: str  # the page's name in test ids and screenshots: its module, and the team for a per-team page
    template: str  # the page's path, <team> and <mention_id> still to fill
    team: str | None = None

    @property
    def ident(self) -> str:
        return f"{self.language}-{self.role}-{self.page}"


@cache
def _registry() -> tuple[dict[str, Any], ...]:
    """The registered pages (made by creating the app once in this process, as the other web tests do)."""
    if not dash.page_registry:
        from config.settings import load_settings
        from dashboard.app import create_app
        from models.db import open_database
        from tests.conftest import web_settings

        create_app(web_settings(load_settings(env={})), open_database("sqlite://"))
    return tuple(dash.page_registry.values())


@cache
def _team_keys() -> tuple[str, ...]:
    from config.settings import load_settings

    return tuple(load_settings(env={}).team_keys)


def _principal(role: str) -> Principal:
    name = WALKERS[role]
    teams = ACCOUNTS[name][1] if name else ()
    return Principal(name or "wall", role, tuple(teams))


def cases() -> list[Case]:
    """Every (role, language, page) to walk, ordered so that each role and language signs in once."""
    found: list[Case] = []
    for role in WALKERS:
        principal = _principal(role)
        for language in LANGUAGES:
            for page in sorted(_registry(), key=lambda p: p["module"]):
                if role not in (page.get("roles") or ()):
                    continue
                name = page["module"].rsplit(".", 1)[-1]
                template = page.get("path_template") or page["path"]
                variables = re.findall(r"<([^>]+)>", template)
                assert set(variables) <= {"team", "mention_id"}, \
                    f"page {name}: give {variables} example values in tests/page_walk.py"
                if not variables:
                    found.append(Case(role, language, name, template))
                    continue
                found += [Case(role, language, f"{name}-{team}", template, team) for team in _team_keys()
                          if can_read_team(principal, team)]
    return found


CASES = cases()


# --- the walkers: one browser per role and language -------------------------------------------------------

@dataclass
class Walker:
    site: dict[str, Any]
    who: tuple[str, str] | None = None
    driver: WebDriver | None = None
    seen: dict[str, Visit] = field(default_factory=dict)

    def browser_for(self, role: str, language: str) -> WebDriver:
        if self.who == (role, language) and self.driver is not None:
            return self.driver
        self.close()
        driver = chromium(self.site["tmp"] / f"chromium-{role}-{language}")
        driver.set_script_timeout(60)
        self.driver, self.who = driver, (role, language)
        name = WALKERS[role]
        if name is None:  # the wall screen: its browser's language, its kiosk link
            agent = driver.execute_script("return navigator.userAgent;")
            driver.execute_cdp_cmd("Network.setUserAgentOverride",  # type: ignore[attr-defined]
                                   {"userAgent": agent, "acceptLanguage": "fr-FR,fr" if language == "fr" else "en"})
            driver.get(f"{self.site['base']}/wall?kiosk={self.site['token']}")
            wait_until(lambda: driver.find_element(By.ID, "wall-kpis"), timeout=LOAD, what="the wall (kiosk)")
            return driver
        with self.site["db"].write.begin() as s:
            set_preferences(s, name, language, "Europe/Paris" if language == "fr" else None, actor="test")
        driver.get(f"{self.site['base']}/login")
        driver.find_element(By.ID, "login-name").send_keys(name)
        driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login-submit").click()
        wait_until(lambda: driver.find_element(By.ID, "vigie-user").text == name, timeout=LOAD,
                   what=f"{name} signed in")
        return driver

    def close(self) -> None:
        if self.driver is not None:
            self.driver.quit()
        self.driver, self.who = None, None


# --- one visit: what the page shows, read once for both tests ---------------------------------------------

@dataclass(frozen=True)
class Visit:
    lang: str
    text: str
    text_nodes: list[str]
    violations: list[dict[str, Any]]
    keyboard: list[str]


RENDERED = """return document.querySelectorAll(arguments[0]).length > 0
  && !document.getElementById('access-denied')
  && !document.querySelector('.ag-overlay-loading-wrapper, .ag-overlay-loading-center')
  && Array.from(document.querySelectorAll('.dash-graph'))
       .every(function (g) { return g.querySelector('.main-svg'); });"""
QUIET = """return document.querySelector('[data-dash-is-loading="true"]') ? null
  : document.body.innerText + document.querySelectorAll('.ag-row').length;"""
AXE_RUN = """const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(function (result) {
  done(JSON.stringify(result.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {
      return {impact: n.impact, target: n.target, html: n.html, summary: n.failureSummary};
    })};
  })));
}).catch(function (e) { done(JSON.stringify({error: String(e)})); });"""
TEXT_NODES = """const out = [];
const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
let node;
while ((node = walk.nextNode())) {
  const text = node.nodeValue.trim();
  const parent = node.parentElement;
  if (!text || !parent || parent.closest('[translate="no"], script, style, noscript, template')) continue;
  if (!parent.getClientRects().length || getComputedStyle(parent).visibility === 'hidden') continue;
  out.push(text);
}
return out;"""
# (e) Keyboard: what a person using only the keyboard could not reach. The grid manages the focus of its
# own cells and controls (roving tabindex, arrow keys): inside it, only a positive tabindex is a fault.
KEYBOARD = """const faults = [];
const FOCUSABLE = 'a[href], button, input, select, textarea, summary, label, [tabindex], [contenteditable="true"]';
function shown(e) {
  return e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden' && !e.closest('[inert]');
}
function name(e) {
  return e.outerHTML.slice(0, 160);
}
document.querySelectorAll('[tabindex]').forEach(function (e) {
  if (e.tabIndex > 0) faults.push('positive tabindex: ' + name(e));
});
document.querySelectorAll('a[href], button, input:not([type="hidden"]), select, textarea').forEach(function (e) {
  if (!shown(e) || e.disabled || e.closest('.ag-root-wrapper, .js-plotly-plot')) return;
  if (e.tabIndex < 0) faults.push('taken out of the tab order: ' + name(e));
});
document.querySelectorAll('body *').forEach(function (e) {
  if (!shown(e) || e.closest('.ag-root-wrapper, .js-plotly-plot, ' + FOCUSABLE)) return;
  if (getComputedStyle(e).cursor === 'pointer' || e.getAttribute('role') === 'button' || e.hasAttribute('onclick'))
    faults.push('looks clickable, cannot be focused: ' + name(e));
});
return faults;"""


def _path(site: dict[str, Any], case: Case) -> str:
    path = case.template
    if case.team is not None:
        path = path.replace("<team>", case.team).replace("<mention_id>", str(site["mentions"][case.team]))
    return path


def _settled(driver: WebDriver, prefix: str) -> None:
    """The page's own content is there, then (for at most SETTLE seconds) no callback is running and the
    text has stopped changing; a live page whose text changes at every tick is taken as it is then."""
    selector = f'#_pages_content [id^="{prefix}"]'
    wait_until(lambda: driver.execute_script(RENDERED, selector), timeout=LOAD, what=f"{prefix}* rendered")
    last, deadline = None, time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        now = driver.execute_script(QUIET)
        if now is not None and now == last:
            return
        last = now
        time.sleep(0.25)


def _screenshot(driver: WebDriver, case: Case) -> None:
    folder = SHOTS
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    viewport(driver, SHOT_WIDTH, 900)
    height = int(driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);"))
    viewport(driver, SHOT_WIDTH, max(900, min(height, 8000)))
    driver.save_screenshot(str(Path(folder) / f"{case.ident}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def visit(walker: Walker, case: Case) -> Visit:
    if case.ident in walker.seen:
        return walker.seen[case.ident]
    driver = walker.browser_for(case.role, case.language)
    driver.get(walker.site["base"] + _path(walker.site, case))
    _settled(driver, case.page.split("-")[0] + "-")
    _screenshot(driver, case)
    driver.execute_script(_axe_source())
    answer = json.loads(driver.execute_async_script(AXE_RUN))
    assert not isinstance(answer, dict), f"axe-core failed: {answer}"
    seen = Visit(lang=driver.execute_script("return document.documentElement.lang;"),
                 text=driver.execute_script("return document.body.innerText;"),
                 text_nodes=driver.execute_script(TEXT_NODES), violations=answer,
                 keyboard=driver.execute_script(KEYBOARD))
    walker.seen[case.ident] = seen
    return seen


# --- the checks -------------------------------------------------------------------------------------------

def serious(violations: list[dict[str, Any]]) -> list[str]:
    """One line per serious or critical violation's node: rule id, impact, target, html."""
    return [f"{v['id']} ({n.get('impact') or v['impact']}) {v['help']}\n    target: {n['target']}\n"
            f"    html: {n['html'][:300]}"
            for v in violations for n in v["nodes"] if (n.get("impact") or v["impact"]) in SERIOUS]


@cache
def english_msgids() -> frozenset[str]:
    """Msgids (without placeholders) whose French differs: seen in a French page, they were not translated."""
    from i18n import read_catalogue

    found = set()
    for message in read_catalogue("fr"):
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for msgid, french in zip(ids, strings, strict=False):
            if msgid and "{" not in msgid and french and french.strip().lower() != msgid.strip().lower():
                found.add(msgid.strip())
    return frozenset(found)
