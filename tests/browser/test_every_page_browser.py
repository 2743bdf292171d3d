"""Every page, for every role, in English and in French, in real Chromium against a real `vigie serve`.

The pages are those of `dash.page_registry` that each role may open (the roles its `register_page`
names; a page per readable team for `<team>`, an item of each readable team for `<mention_id>`), and
the wall as a kiosk screen. Each (page, role, language) is visited once, by one browser per role and
language (the account's language set with `models.users.set_preferences`; the kiosk's by its
browser's Accept-Language), and judged by two tests, so that a failure says which side failed:

- `test_page_is_accessible`: (a) axe-core (tests/vendor/axe-core, injected into the page) finds no
  serious or critical violation; (b) ``<html lang>`` is the reader's language; (e) the keyboard
  reaches every control (no positive tabindex, no button, link or field taken out of the tab order,
  nothing that looks clickable and cannot be focused).
- `test_page_speaks_the_readers_language`: (c) no raw ISO timestamp is visible; (d) in French, no
  visible text is an English msgid of the catalogue whose French differs.

The walk (276 cases with the role homes, 138 page visits) takes 3 to 6 minutes: marked slow. The
keyboard tests at the end (claiming from the queue grid and from the item page with the keyboard only)
are not.

``VIGIE_SCREENSHOTS=<dir>`` saves each visited page as ``<lang>-<role>-<page>.png`` (1400 px wide,
the whole page's height).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import dash
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from collectors.runner import sync_sources
from collectors.types import RawPost
from dashboard.auth.policy import KIOSK, Principal, can_read_team
from models import actions, library, replies
from models.archive_seal import seal
from models.library import Draft
from models.tables import QueueItem
from models.users import create_kiosk_token, set_preferences
from tests.chrome import chromium, prepare_site, viewport, wait_until
from tests.kit import store_posts
from tests.support import REPO, VIGIE, free_port, wait_for_http
from tests.web import ACCOUNTS, PASSWORD

pytestmark = pytest.mark.browser
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

TEXTS = {  # one post per team at least (routing.yaml), a legal threat (supervised after the fact)
    "cs1": "@AureliaBank my card got declined again at the shop, third time this week",
    "cs2": "Aurelia Bank app down again, can't log in to pay my rent",
    "legal": "I'm going to sue Aurelia Bank, my lawyer is filing a complaint with the CFPB",
    "marketing": "Love the new Aurelia Bank app design, great job",
}


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
                    f"page {name}: give {variables} example values in tests/browser/test_every_page_browser.py"
                if not variables:
                    found.append(Case(role, language, name, template))
                    continue
                found += [Case(role, language, f"{name}-{team}", template, team) for team in _team_keys()
                          if can_read_team(principal, team)]
    return found


CASES = cases()


# --- the site and its data ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server on a database where every page has something to show: open items in each team, a claimed
    one, a free-form reply waiting for approval, approved and draft templates, an audit trail, sealed
    archive records, a source, a supervision review (the legal threat), a kiosk token."""
    tmp = tmp_path_factory.mktemp("every-page")
    with pytest.MonkeyPatch.context() as patch:  # VIGIE_SCREENSHOTS is this test's: the server refuses it as unknown
        patch.delenv("VIGIE_SCREENSHOTS", raising=False)
        env, db, settings = prepare_site(tmp, sources={"sources": [
            {"name": "demo", "kind": "demo", "interval_seconds": 5, "enabled": False}]})
    env["VIGIE_REFRESH_MS"] = "15000"  # live pages tick rarely here: each settles at once (nothing is added live)
    sync_sources(db, settings)
    now = datetime.now(UTC)
    store_posts(db, settings, [RawPost(key, "x", text, now, f"https://x.example/p/{key}", f"@{key}_author",
                                       f"Author {key}", 120) for key, text in TEXTS.items()])
    with db.read() as s:
        items = list(s.scalars(select(QueueItem).order_by(QueueItem.id)))
        by_team: dict[str, QueueItem] = {}
        for item in items:
            by_team.setdefault(item.team, item)
        mentions = {team: item.mention_id for team, item in by_team.items()}
        cs_items = [i.id for i in items if i.team == "customer_service"]
        first = {team: (item.id, item.mention_id) for team, item in by_team.items()}
    assert set(mentions) == set(settings.team_keys), f"a team without items: {sorted(mentions)}"
    rules = replies.compile_rules(settings)
    with db.write.begin() as s:
        actions.claim(s, cs_items[0], "agent")
        item_id, mention_id = first["legal"]
        replies.compose(s, rules, "legal-agent", replies.Target("reply", "x", "demo", "legal", None, "en",
                                                                item_id, mention_id),
                        "We are looking into it and will call you today.")
        teams = tuple(settings.team_keys)
        version = library.create(s, "lead", "blocked-card", "en", "reply",
                                 Draft("Blocked card", "cards", "Hello, we are sorry your card was blocked.",
                                       ("customer_service",)), teams)
        library.decide(s, "compliance", version.id, approve=True)
        library.create(s, "lead", "app-down", "en", "reply",
                       Draft("App down", "app", "Our app is back, sorry for the wait.", ("customer_service",)),
                       teams)  # a draft waiting for approval
        seal(s, "test")
        token = create_kiosk_token(s, "every-page-wall")
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/login")
        yield {"base": f"http://127.0.0.1:{port}", "db": db, "settings": settings, "token": token, "mentions": mentions,
               "tmp": tmp}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()


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


@pytest.fixture(scope="module")
def walker(site: dict[str, Any]) -> Iterator[Walker]:
    walking = Walker(site)
    yield walking
    walking.close()


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


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.ident for c in CASES])
def test_page_is_accessible(walker: Walker, case: Case) -> None:
    seen = visit(walker, case)
    faults = [f"(a) axe: {line}" for line in serious(seen.violations)]
    if seen.lang.split("-")[0] != case.language:
        faults.append(f"(b) <html lang={seen.lang!r}>, expected {case.language!r}")
    faults += [f"(e) keyboard: {fault}" for fault in seen.keyboard]
    assert not faults, f"{case.ident}:\n" + "\n".join(faults)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.ident for c in CASES])
def test_page_speaks_the_readers_language(walker: Walker, case: Case) -> None:
    seen = visit(walker, case)
    faults = [f"(c) raw ISO timestamp shown: {m.group(0)}…" for m in ISO_TIME.finditer(seen.text)][:5]
    if case.language == "fr":
        english = english_msgids() - set(ACCOUNTS)  # the accounts' names ("lead", "compliance") are data
        faults += sorted({f"(d) English text: {text!r}" for text in seen.text_nodes if text in english})
    assert not faults, f"{case.ident}:\n" + "\n".join(faults)


# --- the keyboard: claiming without a mouse, and the grid's cells --------------------------------------------

ACTIVE = """const e = document.activeElement;
const cell = e && e.closest('.ag-cell, .ag-header-cell');
const row = e && e.closest('.ag-row');
return {id: e ? e.id : '', text: e ? (e.innerText || '').trim() : '', cell: !!cell,
        header: !!(e && e.closest('.ag-header-cell')), row: row ? row.getAttribute('row-id') : null};"""


def _active(driver: WebDriver) -> dict[str, Any]:
    return dict(driver.execute_script(ACTIVE))


def _press(driver: WebDriver, *keys: str) -> dict[str, Any]:
    """Keys typed into the focused element together (a modifier holds until the end: Shift+Tab)."""
    driver.switch_to.active_element.send_keys(*keys)
    return _active(driver)


def _press_until(driver: WebDriver, keys: tuple[str, ...], wanted: Any, limit: int, what: str) -> dict[str, Any]:
    """Press ``keys`` until the focused element is ``wanted`` (a test of `_active`'s answer)."""
    for _ in range(limit):
        now = _press(driver, *keys)
        if wanted(now):
            return now
    raise AssertionError(f"{what}: not reached in {limit} presses of {keys!r} (focus on {_active(driver)})")


def _new_item(site: dict[str, Any], text: str) -> tuple[int, int]:
    """A new customer-service item (through the real pipeline): (item id, mention id)."""
    from models.tables import Mention

    external = f"kb-{datetime.now(UTC).timestamp()}"
    store_posts(site["db"], site["settings"], [RawPost(external, "x", text, datetime.now(UTC), None, "@kb", "KB", 5)])
    with site["db"].read() as s:
        mention = s.scalars(select(Mention).where(Mention.external_id == external)).one()
        item = s.scalars(select(QueueItem).where(QueueItem.mention_id == mention.id)).one()
        assert item.team == "customer_service", item.team
        return item.id, mention.id


def _assignee(site: dict[str, Any], item_id: int) -> str | None:
    with site["db"].read() as s:
        item = s.get(QueueItem, item_id)
        return item.assignee if item else None


@pytest.fixture
def agent(walker: Walker) -> WebDriver:
    return walker.browser_for("agent", "en")


def test_keyboard_selects_a_row_in_the_grid_and_claims_it(site: dict[str, Any], agent: WebDriver) -> None:
    """Tab reaches the grid's cells, the arrows move between rows, Space selects one; Shift+Tab leaves the
    grid for the actions above it, and Enter on Claim claims the selected item."""
    item_id, _m = _new_item(site, "@AureliaBank my card got declined at the bakery, ref keyboard-queue")
    agent.get(site["base"] + "/queue/customer_service")
    wait_until(lambda: agent.find_element(By.CSS_SELECTOR, f".ag-row[row-id='{item_id}']"), timeout=LOAD,
               what="the new row")
    _press_until(agent, (Keys.TAB,), lambda a: a["cell"], 80, "the grid's cells")
    if _active(agent)["header"]:
        _press(agent, Keys.ARROW_DOWN)
    _press(agent, Keys.CONTROL, Keys.HOME)  # the first row: the arrows walk down to the new one
    now = _active(agent)
    if now["row"] != str(item_id):
        now = _press_until(agent, (Keys.ARROW_DOWN,), lambda a: a["row"] == str(item_id), 40, "the new row")
    assert now["cell"]
    _press(agent, Keys.SPACE)
    wait_until(lambda: "ag-row-selected" in (agent.find_element(
        By.CSS_SELECTOR, f".ag-center-cols-container .ag-row[row-id='{item_id}']").get_attribute("class") or ""),
        what="the row selected with Space")
    _press(agent, Keys.CONTROL, Keys.HOME)
    _press(agent, Keys.ARROW_UP)  # the header row; Shift+Tab from there leaves the grid
    _press_until(agent, (Keys.SHIFT, Keys.TAB), lambda a: a["id"] == "queue-claim", 40, "the Claim button")
    _press(agent, Keys.ENTER)
    wait_until(lambda: "Claimed 1 item" in agent.find_element(By.ID, "queue-alert").text, what="the claim message")
    assert _assignee(site, item_id) == "agent"


def test_keyboard_claims_from_the_item_page(site: dict[str, Any], agent: WebDriver) -> None:
    _item, mention_id = _new_item(site, "@AureliaBank app down again, can't see my balance, ref keyboard-item")
    agent.get(f"{site['base']}/mention/{mention_id}")
    wait_until(lambda: agent.find_element(By.ID, "mention-text"), timeout=LOAD, what="the item page")
    # The team dropdown (Dash's, made reachable by assets/vigie-a11y.js) opens from the keyboard.
    _press_until(agent, (Keys.TAB,), lambda a: a["id"] == "mention-team", 80, "the team dropdown")
    _press(agent, Keys.ENTER)
    wait_until(lambda: [o for o in agent.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option") if o.is_displayed()],
               what="the dropdown's options")
    _press(agent, Keys.ESCAPE)
    wait_until(lambda: not [o for o in agent.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
                            if o.is_displayed()], what="the dropdown closed")
    claim = '"action":"claim"'
    _press_until(agent, (Keys.TAB,), lambda a: claim in a["id"], 80, "the item's Claim button")
    _press(agent, Keys.ENTER)
    wait_until(lambda: _assignee(site, _item) == "agent", what="the item claimed")
    wait_until(lambda: "Claimed 1 item" in agent.find_element(By.ID, "mention-alert").text, what="the claim message")
