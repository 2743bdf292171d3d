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

The walk itself (cases, browsers, visits, ``VIGIE_SCREENSHOTS``): tests/page_walk.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from collectors.runner import sync_sources
from collectors.types import RawPost
from models import actions, library, replies
from models.archive_seal import seal
from models.library import Draft
from models.tables import QueueItem
from models.users import create_kiosk_token
from tests.chrome import prepare_site, wait_until
from tests.kit import store_posts
from tests.page_walk import CASES, ISO_TIME, LOAD, Case, Walker, english_msgids, serious, visit
from tests.support import VIGIE, free_port, wait_for_http
from tests.web import ACCOUNTS

pytestmark = pytest.mark.browser

TEXTS = {  # one post per team at least (routing.yaml), a legal threat (supervised after the fact)
    "cs1": "@AureliaBank my card got declined again at the shop, third time this week",
    "cs2": "Aurelia Bank app down again, can't log in to pay my rent",
    "legal": "I'm going to sue Aurelia Bank, my lawyer is filing a complaint with the CFPB",
    "marketing": "Love the new Aurelia Bank app design, great job",
}


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


@pytest.fixture(scope="module")
def walker(site: dict[str, Any]) -> Iterator[Walker]:
    walking = Walker(site)
    yield walking
    walking.close()


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
