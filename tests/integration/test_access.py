"""Access control: every route and every Dash callback against every role, and crafted requests.

The matrix walks what the app really registers (Flask's url_map, Dash's callback_map, the
page registry), so a new route, page or callback without a policy fails here by name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dash
import pytest
from sqlalchemy import func, select

import dashboard
from collectors.types import RawPost
from config.settings import Settings
from dashboard.auth.guard import CALLBACK, PAGE, PUBLIC, ROUTE_POLICY, callback_roles, page_roles
from dashboard.auth.policy import ALL_ROLES, KIOSK, SIGNED_IN, can_read_team, can_work_team
from dashboard.auth.policy import Principal as P
from dashboard.components.nav import nav_entry
from models import actions, replies
from models.db import Database
from models.reply_tables import Reply
from models.tables import AuditEvent, Mention, QueueItem
from models.users import create_kiosk_token
from tests.kit import seed_items, store_posts
from tests.web import ACCOUNTS, dash_post, make_accounts, sign_in, spec_inputs

ANON = "anonymous"
ROUTER = ".._pages_content.children..._pages_store.data.."
PAGES_DIR = Path(dashboard.__file__).parent / "pages"
MISSING = "999999"  # an item id that does not exist
PRINCIPALS = [*ACCOUNTS, KIOSK, ANON]  # account names; their roles are in ACCOUNTS


def _role(who: str) -> str:
    return KIOSK if who == KIOSK else ANON if who == ANON else ACCOUNTS[who][0]


def _principal(who: str) -> P | None:
    if who == ANON:
        return None
    if who == KIOSK:
        return P("kiosk:wall", KIOSK)
    role, teams = ACCOUNTS[who]
    return P(who, role, teams)


def _client(web: Any, db: Database, who: str) -> Any:
    client = web.server.test_client()
    if who == KIOSK:
        with db.write.begin() as s:
            token = create_kiosk_token(s, f"wall-{datetime.now().timestamp():.0f}".replace(".", ""))
        assert client.get(f"/wall?kiosk={token}").status_code == 200
    elif who != ANON:
        assert sign_in(client, who).status_code == 302
    return client


def _items(db: Database, settings: Settings) -> dict[str, int]:
    """One open item per team: {team: item id}."""
    texts = {"customer_service": "@AureliaBank my card got declined again at the shop",
             "legal": "@AureliaBank I will sue you, my lawyer is on it: class action",
             "marketing": "@AureliaBank love the new app design, well done"}
    posts = [RawPost(f"p-{team}", "x", text, datetime.now(UTC), None, f"@{team}", team, 10)
             for team, text in texts.items()]
    ids = seed_items(db, settings, posts)
    with db.read() as s:  # the team routing chose, as the pages will read it
        return {team: item_id for item_id, team in s.execute(select(QueueItem.id, QueueItem.team)
                                                              .where(QueueItem.id.in_(ids)))}


def _state(db: Database) -> tuple[Any, ...]:
    with db.read() as s:
        items = tuple(s.execute(select(QueueItem.id, QueueItem.status, QueueItem.assignee, QueueItem.team,
                                       QueueItem.escalated_at).order_by(QueueItem.id)))
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.queue_item_id.is_not(None)))
        replies = tuple(s.execute(select(Reply.id, Reply.status, Reply.text_sha256).order_by(Reply.id)))
    return items, events, replies


# Every route open without sign-in, and why it may be (the guard's ROUTE_POLICY must list exactly these).
PUBLIC_ROUTES: dict[str, str] = {
    "_dash_assets.static": "CSS, fonts and scripts of the sign-in page",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "Dash's own scripts",
    "/_favicon.ico": "the icon",
    "vigie_hook": "webhook deliveries: their HMAC signature is their authentication",
    "vigie_login": "the sign-in page",
    "vigie_logout": "signing out (a POST with the CSRF token)",
    "vigie_oidc_start": "single sign-on: off to the provider",
    "vigie_oidc_callback": "single sign-on: back from the provider, its answer checked",
    "vigie_healthz": "load balancers and systemd: says ok, nothing else",
    "vigie_readyz": "load balancers: ready or not and which check failed, no data",
}


def test_the_public_routes_are_exactly_the_listed_ones() -> None:
    public = {endpoint for endpoint, policy in ROUTE_POLICY.items() if policy == PUBLIC}
    assert public == set(PUBLIC_ROUTES), f"public but not listed: {sorted(public - set(PUBLIC_ROUTES))}; " \
                                         f"listed but not public: {sorted(set(PUBLIC_ROUTES) - public)}"


def test_every_route_has_a_policy(web: Any) -> None:
    endpoints = {rule.endpoint for rule in web.server.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTE_POLICY))
    assert not missing, f"routes without an access policy in dashboard/auth/guard.py ROUTE_POLICY: {missing}"


def test_every_page_and_callback_names_its_roles(web: Any) -> None:
    pages_without = [p["module"] for p in dash.page_registry.values() if page_roles(p) is None]
    assert not pages_without, f"pages without roles= in register_page: {pages_without}"
    server_callbacks = [key for key, entry in web.callback_map.items() if "callback" in entry]
    assert len(server_callbacks) >= 10, server_callbacks  # the shared app got the page callbacks
    without = [key for key in server_callbacks if callback_roles(web, key) is None]
    assert not without, f"callbacks without @guarded(...): {without}"


def _sample_path(rule: str) -> str:
    return (rule.replace("<path:path>", "sources").replace("<name>", "nosuchhook")
            .replace("<path:filename>", "vigie.css").replace("<string:package_name>", "dash")
            .replace("<path:fingerprinted_path>", "dash-renderer/build/dash_renderer.min.js"))


@pytest.mark.parametrize("who", PRINCIPALS)
def test_route_matrix(web: Any, db: Database, settings: Settings, who: str) -> None:
    make_accounts(db, settings)
    client = _client(web, db, who)
    role = _role(who)
    # Signing out last: it ends the session the other requests use.
    for rule in sorted(web.server.url_map.iter_rules(), key=lambda r: r.endpoint == "vigie_logout"):
        policy = ROUTE_POLICY[rule.endpoint]
        if policy in (PAGE, CALLBACK):
            continue  # below, per page and per callback
        path = _sample_path(rule.rule)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        response = client.open(path, method=method)
        response.get_data()  # a streamed export is read to its end
        response.close()
        if policy == PUBLIC:
            assert response.status_code not in (401, 403), (who, path, response.status_code)
        elif role == ANON:
            assert response.status_code == 401, (who, path, response.status_code)
        elif role in policy:
            assert response.status_code not in (401, 403), (who, path, response.status_code)
        else:
            assert response.status_code == 403, (who, path, response.status_code)
            assert b"vigie" not in response.data.lower().replace(b"vigie_", b""), response.data[:200]


def _walked_paths(db: Database, settings: Settings) -> list[tuple[dict[str, Any], str, str | None]]:
    """Every registered page at a concrete path: (page, path, the team whose items it shows or None).
    A path template's variables get examples here: each team for <team>, each team's item for
    <mention_id> (and one that does not exist); a page with another variable fails by name (give it
    examples below)."""
    items = _items(db, settings)
    with db.read() as s:
        mentions = {team: s.get(QueueItem, item_id).mention_id for team, item_id in items.items()}  # type: ignore[union-attr]
    examples: dict[str, dict[str, str | None]] = {  # {variable: {example value: its team}}
        "team": {team: team for team in settings.team_keys},
        "mention_id": {**{str(mention_id): team for team, mention_id in mentions.items()}, MISSING: None}}
    walked: list[tuple[dict[str, Any], str, str | None]] = []
    for page in dash.page_registry.values():
        template = page.get("path_template")
        variables = re.findall(r"<([^>]+)>", template or "")
        if not variables:
            walked.append((page, page["path"], None))
            continue
        assert len(variables) == 1 and variables[0] in examples, \
            f"page {page['module']}: no example values for {variables} in tests/integration/test_access.py"
        name = variables[0]
        walked += [(page, template.replace(f"<{name}>", value), team) for value, team in examples[name].items()]
    return walked


def _components(node: Any) -> list[tuple[str, dict[str, Any]]]:
    """(type, props) of every component of a Dash layout (its JSON), in document order."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict) and "type" in node:
            found.append((node["type"], node["props"]))
        for value in node.values():
            found += _components(value)
    elif isinstance(node, list):
        for value in node:
            found += _components(value)
    return found


@pytest.mark.parametrize("who", PRINCIPALS)
def test_page_matrix(web: Any, db: Database, settings: Settings, who: str) -> None:
    """Every page of the registry, at each example path, for every principal: what its declared
    roles and team rule say (a new page is walked here without naming it)."""
    make_accounts(db, settings)
    walked = _walked_paths(db, settings)
    client = _client(web, db, who)
    role, principal = _role(who), _principal(who)
    assert {page["module"] for page, _p, _t in walked} == set(dash.page_registry)
    assert {"/", "/sources", "/wall", "/triage", "/audit", "/summary", "/mention/1", "/approvals", "/library",
            "/outbox", "/supervision", "/archive", "/preferences", *(f"/queue/{t}" for t in settings.team_keys)} <= {
        path for _page, path, _t in walked}
    for page, path, team in walked:
        response = client.get(path)
        roles = page_roles(page) or ()
        # The guard checks a team named in the path; an item's team is checked by its page's layout.
        path_team = team if "<team>" in (page.get("path_template") or "") else None
        if role == ANON:
            assert response.status_code == 302 and "/login" in response.headers["Location"], (path, response.status)
        elif role in roles and (path_team is None or can_read_team(principal, path_team)):
            assert response.status_code == 200, (who, path, response.status_code)
        else:
            assert response.status_code == 403, (who, path, response.status_code)
            assert response.mimetype == "text/html" and b"access-denied" in response.data  # a page, for a person
        # The page's content comes through Dash's router callback, whose layout checks again.
        built = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                           {"id": "_pages_location", "property": "search", "value": ""}])
        if role == ANON:
            assert built.status_code == 401
        elif role in roles and (team is None or can_read_team(principal, team)):
            assert built.status_code == 200 and b"access-denied" not in built.data, (who, path)
            # ... and it is this page's layout: its title, and its own ids (prefixed by the page's name).
            answer = built.get_json()["response"]
            title = page["title"]() if callable(page["title"]) else page["title"]  # a title per reader: English here
            assert answer["_pages_store"]["data"]["title"] == title, (who, path)
            prefix = page["module"].rsplit(".", 1)[-1] + "-"
            if not path.endswith(f"/{MISSING}"):  # (a missing item: the page says so, with no ids of its own)
                ids = [str(props.get("id")) for _type, props in _components(answer["_pages_content"])]
                assert any(i.startswith(prefix) for i in ids), (who, path)
        else:
            assert b"access-denied" in built.data, (who, path, built.data[:300])


def test_navigation_bar_is_the_registry_pages_the_principal_may_open(web: Any, db: Database,
                                                                     settings: Settings) -> None:
    """The bar's links are the pages declaring a nav entry (one per readable team for a per-team
    page) that the principal may open, by declared order; each one opens for that principal."""
    make_accounts(db, settings)
    for who in PRINCIPALS:
        client = _client(web, db, who)
        layout = client.get("/_dash-layout")
        if who == ANON:
            assert layout.status_code == 401
            continue
        hrefs = [(props["id"], props["href"]) for kind, props in _components(layout.get_json()) if kind == "NavLink"]
        idents = [ident for ident, _h in hrefs]
        assert len(set(idents)) == len(idents) and all(i.startswith("nav-") for i in idents), idents
        role, principal = _role(who), _principal(who)
        assert principal is not None
        expected: list[tuple[int, str]] = []  # (declared order, path); a wall screen has no bar
        for page in dash.page_registry.values():
            entry = nav_entry(page)
            if entry is None or role not in (page_roles(page) or ()) or principal.is_kiosk:
                continue
            if entry.per_team:
                expected += [(entry.order, page["path_template"].replace("<team>", t)) for t in settings.team_keys
                             if can_read_team(principal, t)]
            else:
                expected.append((entry.order, page["path"]))
        assert [h for _i, h in hrefs] == [path for _o, path in sorted(expected, key=lambda e: e[0])], (who, hrefs)
        assert hrefs or role == KIOSK, who  # every person has somewhere to go
        for _ident, href in hrefs:  # nothing in the bar that this principal may not open
            assert client.get(href).status_code == 200, (who, href)
            assert b"access-denied" not in _page(client, href), (who, href)


def test_every_page_file_registers_a_page_with_roles(web: Any) -> None:
    """A file in dashboard/pages/ that registers no page (so declares no roles) would be walked by nothing."""
    files = {f.stem for f in PAGES_DIR.glob("*.py") if f.stem != "__init__"}
    modules = {module.rsplit(".", 1)[-1] for module in dash.page_registry}  # Dash names them by their folder
    assert files <= modules, f"page files without dash.register_page(..., roles=...): {sorted(files - modules)}"
    assert all(page_roles(p) for p in dash.page_registry.values())


@pytest.mark.parametrize("who", PRINCIPALS)
def test_callback_matrix_refused_callbacks_read_and_change_nothing(web: Any, db: Database, settings: Settings,
                                                                   who: str) -> None:
    make_accounts(db, settings)
    items = _items(db, settings)
    with db.write.begin() as s:  # a reply waiting on legal's item: the thread's edit and cancel aim at it
        legal = s.get(QueueItem, items["legal"])
        assert legal is not None
        target = replies.Target("reply", "x", "demo", "legal", None, "en", legal.id, legal.mention_id)
        replies.compose(s, replies.compile_rules(settings), "legal-agent", target, "We are looking into it.")
    client = _client(web, db, who)
    role = _role(who)
    for key, entry in web.callback_map.items():
        if "callback" not in entry:
            continue  # clientside: runs in the browser, never on the server
        roles = callback_roles(web, key)
        assert roles is not None, key
        before = _state(db)
        values = {"queue-state.data": {"team": "legal", "key": ["2000-01-01T00:00:00", 0], "known": [],
                                       "floor": "2000-01-01T00:00:00"},
                  "queue-grid.selectedRows": [{"id": i} for i in items.values()],
                  "mention-item.data": {"id": items["legal"], "changed": ""},
                  "queue-pending.data": "escalate", "queue-reason.value": "crafted",
                  "triage-grid.selectedRows": [{"id": i} for i in items.values()],
                  "triage-known.data": {"rows": {}, "load": ""},
                  "approvals-marker.data": "", "outbox-marker.data": "", "library-template.data": None,
                  "supervision-marker.data": "", "supervision-period.value": "week",
                  "library-retire-reason.value": "crafted", "outbox-text.value": "crafted post",
                  "outbox-network.value": "demo", "outbox-team.value": "legal",
                  # the reply panel and thread of legal's item: a reply typed, a template and one to edit
                  "compose-item.data": {"id": items["legal"]}, "compose-text.value": "crafted reply",
                  "compose-elsewhere-note.value": "crafted", "compose-elsewhere-url.value": "https://example.org/x",
                  "thread-state.data": {"item": items["legal"], "stamp": ""},
                  "thread-target.data": {"reply": 1, "mode": "cancel"}, "thread-edit-text.value": "crafted",
                  # the archive's forms: refused for want of a matter or a format (compliance writes nothing)
                  "archive-hold-matter.value": "", "archive-export-formats.value": [],
                  # preferences: a valid choice, saved on the caller's own account only
                  "preferences-language.value": "fr", "preferences-timezone.value": "Europe/Paris"}
        response = dash_post(client, key, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values))
        if role == ANON:
            assert response.status_code == 401, (who, key)
        elif role not in roles:
            assert response.status_code == 403, (who, key, response.status_code)
        else:
            assert response.status_code not in (401, 403), (who, key, response.status_code)
            if not can_work_team(_principal(who), "legal"):  # allowed to run it, not on legal's item
                assert _state(db)[2] == before[2], (who, key)
            if not can_read_team(_principal(who), "legal"):  # the text of legal's reply stays legal's
                assert b"looking into" not in response.data, (who, key)
            continue  # what each callback lets through is checked item by item below
        assert _state(db) == before, (who, key)


def test_crafted_update_without_session_or_with_wrong_team_reads_and_changes_nothing(
    web: Any, db: Database, settings: Settings
) -> None:
    make_accounts(db, settings)
    items = _items(db, settings)
    legal_state = {"team": "legal", "key": ["2000-01-01T00:00:00", 0], "known": [], "floor": "2000-01-01T00:00:00"}
    refresh = next(k for k in web.callback_map if k.startswith("..queue-grid.rowTransaction..."))
    act = next(k for k in web.callback_map if k.startswith("..queue-alert.children"))
    anonymous = web.server.test_client()
    tick = [{"id": "queue-tick", "property": "n_intervals", "value": 1}]
    state = [{"id": "queue-state", "property": "data", "value": legal_state}]
    before = _state(db)

    response = dash_post(anonymous, refresh, tick, state)
    assert response.status_code == 401 and b"lawyer" not in response.data

    # An agent of customer service asks for legal's queue: nothing comes back.
    agent = _client(web, db, "agent")
    response = dash_post(agent, refresh, tick, state)
    assert response.status_code == 204 and b"lawyer" not in response.data
    # ... and the legal agent asking the same gets the rows (the request itself was well formed).
    legal = _client(web, db, "legal-agent")
    assert b"lawyer" in dash_post(legal, refresh, tick, state).data

    # The customer-service agent claims legal's item by id: refused, nothing changes.
    entry = web.callback_map[act]
    values = {"queue-grid.selectedRows": [{"id": items["legal"]}], "queue-state.data": legal_state}
    response = dash_post(agent, act, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values),
                         changed="queue-claim.n_clicks")
    assert response.status_code == 200 and b"is not in your teams" in response.data
    assert b"lawyer" not in response.data  # nor is the refused row sent back
    # An operator (read-only) may not run the action callback at all.
    response = dash_post(_client(web, db, "operator"), act, spec_inputs(entry["inputs"], values),
                         spec_inputs(entry["state"], values), changed="queue-claim.n_clicks")
    assert response.status_code == 403
    assert _state(db) == before

    # The right agent can: the same request changes the item.
    response = dash_post(legal, act, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values),
                         changed="queue-claim.n_clicks")
    assert response.status_code == 200 and b"Claimed 1 item" in response.data
    with db.read() as s:
        assert s.get(QueueItem, items["legal"]).assignee == "legal-agent"  # type: ignore[union-attr]


def _page(client: Any, path: str, search: str = "") -> bytes:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": search}])
    assert response.status_code == 200, (path, response.status_code)
    return bytes(response.data)


def test_item_pages_and_their_updates_check_the_items_team(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    items = _items(db, settings)
    with db.read() as s:
        legal = s.get(QueueItem, items["legal"])
        assert legal is not None
        legal_mention = legal.mention_id
    # A copy of the legal post (same author, same words, another network) shows the legal item.
    copy_post = RawPost("p-legal-copy", "mastodon", "@AureliaBank I will sue you, my lawyer is on it: class action",
                        datetime.now(UTC), None, "@legal", "legal", 10)
    assert store_posts(db, settings, [copy_post]).copies == 1
    with db.read() as s:
        copy_id = s.scalars(select(Mention.id).where(Mention.external_id == "p-legal-copy")).one()
    agent, legal_agent, lead = (_client(web, db, w) for w in ("agent", "legal-agent", "lead"))
    for mention_id in (legal_mention, copy_id):
        assert b"access-denied" in _page(agent, f"/mention/{mention_id}")
        assert b"lawyer" not in _page(agent, f"/mention/{mention_id}")
        assert b"lawyer" in _page(legal_agent, f"/mention/{mention_id}")
    assert b"access-denied" in _page(agent, "/queue/customer_service", "?team=legal") or \
        b"lawyer" not in _page(agent, "/queue/customer_service", "?team=legal")
    assert _page(agent, "/queue/customer_service", "?_layout=x")  # query parameters are not the wrapper's

    tick = next(k for k in web.callback_map if k.startswith("..mention-presence.children"))
    act = next(k for k in web.callback_map if k.startswith("..mention-alert.children"))
    state = [{"id": "mention-item", "property": "data", "value": {"id": items["legal"], "changed": ""}}]
    before = _state(db)
    response = dash_post(agent, tick, [{"id": "mention-tick", "property": "n_intervals", "value": 1}], state)
    assert response.status_code == 204  # no presence written, nothing read
    clicks = [{"id": {"type": "mention-act", "action": a}, "property": "n_clicks", "value": 1 if a == "claim" else None}
              for a in ("claim", "release", "resolve", "dismiss", "escalate", "reroute", "reopen")]
    changed = '{"action":"claim","type":"mention-act"}.n_clicks'
    # An ALL pattern's input arrives as one list holding every matching button.
    act_state = state + [{"id": "mention-reason", "property": "value", "value": "x"},
                         {"id": "mention-team", "property": "value", "value": None}]
    response = dash_post(agent, act, [clicks], act_state, changed=changed)
    assert response.status_code == 200 and b"is not in your teams" in response.data, response.data[:300]
    bogus = [{**clicks[0], "id": {"type": "mention-act", "action": "bogus"}}]
    assert dash_post(legal_agent, act, [bogus], act_state, changed='{"action":"bogus","type":"mention-act"}.n_clicks'
                     ).status_code == 204
    assert _state(db) == before

    # Triage: the customer-service lead's lists hold no legal item, and its bulk actions refuse one.
    refresh = next(k for k in web.callback_map if k.startswith("..triage-grid.rowTransaction"))
    listed = dash_post(lead, refresh, [{"id": "triage-tick", "property": "n_intervals", "value": 1}],
                       [{"id": "triage-known", "property": "data", "value": {"rows": {}, "load": ""}}])
    assert listed.status_code == 200 and b"declined" in listed.data and b"lawyer" not in listed.data
    bulk = next(k for k in web.callback_map if k.startswith("..triage-alert.children"))
    entry = web.callback_map[bulk]
    values = {"triage-grid.selectedRows": [{"id": items["legal"]}, "junk", {"id": "12x"}],
              "triage-assignee.value": "agent", "triage-team.value": "marketing", "triage-reason.value": "x"}
    for button in ("triage-assign", "triage-reroute", "triage-resolve"):
        response = dash_post(lead, bulk, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values),
                             changed=f"{button}.n_clicks")
        assert response.status_code == 200 and b"is not in your teams" in response.data, (button, response.data)
    assert _state(db) == before


# The outbound pages' callbacks: exactly these roles may run them (the callback matrix above checks that
# the others are refused and change nothing).
OUTBOUND_CALLBACKS = {
    "..approvals-marker.data": ("compliance", "admin"),
    "..library-decide-alert.children": ("compliance", "admin"),
    "..library-save-alert.children": ("lead", "compliance", "admin"),
    "..library-retire-alert.children": ("lead", "compliance", "admin"),
    "library-table.children": ("agent", "lead", "compliance", "admin"),
    "..outbox-marker.data": ("agent", "lead", "compliance", "admin"),
    "..outbox-send-alert.children": ("agent", "lead", "admin"),
    "outbox-preview.children": ("agent", "lead", "admin"),
    "outbox-fields.children": ("agent", "lead", "admin"),
}


# The archive's callbacks: compliance only (it alone may read restricted authors' records).
ARCHIVE_CALLBACKS = {
    "..archive-results.children": ("compliance",),
    "..archive-history.children": ("compliance",),
    "archive-status.children": ("compliance",),
    "..archive-hold-alert.children": ("compliance",),
    "archive-export-result.children": ("compliance",),
}
# Supervision's callbacks: compliance and admins only (whoever reads every team's reviews).
SUPERVISION_CALLBACKS = {
    "..supervision-marker.data": ("compliance", "admin"),
    "supervision-coverage.children": ("compliance", "admin"),
}
# Preferences: every person saves their own (a kiosk screen has none).
PREFERENCES_CALLBACKS = {"..preferences-alert.children": SIGNED_IN}


def test_outbound_callbacks_name_exactly_their_roles(web: Any) -> None:
    for prefix, roles in {**OUTBOUND_CALLBACKS, **ARCHIVE_CALLBACKS, **SUPERVISION_CALLBACKS,
                          **PREFERENCES_CALLBACKS}.items():
        keys = [k for k in web.callback_map if k == prefix or k.startswith(prefix + ".")]
        assert len(keys) == 1, (prefix, keys)
        assert set(callback_roles(web, keys[0]) or ()) == set(roles), prefix


def test_all_roles_are_known() -> None:
    assert set(ALL_ROLES) == {r for r, _t in ACCOUNTS.values()} | {KIOSK}
    assert actions.ActionError  # the lifecycle errors the pages show


# The homes (dashboard/pages/home_*.py): each page and its tick name exactly these roles; / (home.py)
# is every person's, and builds the home of their role (tests/integration/test_homes.py).
HOMES = {
    "/home/agent": ("agent", "admin"),
    "/home/lead": ("lead", "admin"),
    "/home/compliance": ("compliance", "admin"),
    "/home/manager": ("manager", "admin"),
    "/home/admin": ("admin", "operator"),
}


def test_the_homes_and_their_ticks_name_exactly_their_roles(web: Any) -> None:
    pages = {page["path"]: page for page in dash.page_registry.values()}
    for path, roles in HOMES.items():
        assert set(page_roles(pages[path]) or ()) == set(roles), path
        tick = f"..home_{path.rsplit('/', 1)[-1]}-seen.data"
        keys = [k for k in web.callback_map if k.startswith(tick + ".")]
        assert len(keys) == 1, (path, keys)
        assert set(callback_roles(web, keys[0]) or ()) == set(roles), path
    assert set(page_roles(pages["/"]) or ()) == {r for r, _t in ACCOUNTS.values()}
