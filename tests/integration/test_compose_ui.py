"""The item page's Reply panel and thread through Dash's real endpoint, signed in: composing from a
template and in free text, refusals (another team, a missing value, a source Vigie cannot post
to), editing and cancelling from the thread, and untrusted text kept as text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from collectors.types import RawPost
from config.settings import Settings, SourceConfig
from dashboard.components.compose import prefill, text_of, values_of
from dashboard.components.thread import status_label
from dashboard.context import AppContext
from models import library, replies
from models.db import Database
from models.reply_tables import Reply
from models.tables import QueueItem
from tests.kit import seed_items
from tests.web import dash_post, make_accounts, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
GREETING = "Hello {{first_name}} ({{handle}}), we are sorry about your card: please send us a direct message."
DISCLOSURE = "Aurelia Bank SA, regulated by the ACPR"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _key(web: Any, prefix: str) -> str:
    return next(k for k in web.callback_map if k.startswith(prefix))


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _template(db: Database, settings: Settings, key: str, body: str, teams: tuple[str, ...] = ("customer_service",),
              title: str = "Card declined") -> int:
    """A reply template drafted by a lead and approved by compliance (four eyes): its version id."""
    with db.write.begin() as s:
        version = library.create(s, "lead", key, "en", "reply", library.Draft(title, "Cards", body, teams),
                                  settings.team_keys)
        library.decide(s, "compliance", version.id, True)
        return int(version.id)


@pytest.fixture
def item(web: Any, db: Database, settings: Settings) -> dict[str, int]:
    """A customer-service item whose post and author carry markup: {item, mention}."""
    make_accounts(db, settings)
    post = RawPost("p-cs", "x", f"@AureliaBank my card got declined again at the shop {SCRIPT} {IMG}",
                   datetime.now(UTC), None, "@zoe_m", f"{IMG} Martin", 10)
    (item_id,) = seed_items(db, settings, [post])
    with db.read() as s:
        found = s.get(QueueItem, item_id)
        assert found is not None and found.team == "customer_service"
        return {"item": item_id, "mention": found.mention_id}


def _values(values: dict[str, str]) -> list[Any]:
    ids = [{"name": n, "type": "compose-value"} for n in values]
    return [[{"id": i, "property": "value", "value": v} for i, v in zip(ids, values.values(), strict=True)],
            [{"id": i, "property": "id", "value": i} for i in ids]]


def _send(web: Any, client: Any, item_id: int, text: str | None, version: int | None = None,
          values: dict[str, str] | None = None, resolve: bool = False) -> Any:
    state = [{"id": "compose-text", "property": "value", "value": text},
             {"id": "compose-template", "property": "value", "value": version},
             *_values(values or {}),
             {"id": "compose-resolve", "property": "value", "value": resolve},
             {"id": "compose-item", "property": "data", "value": {"id": item_id}}]
    return dash_post(client, _key(web, "..compose-alert.children"),
                     [{"id": "compose-send", "property": "n_clicks", "value": 1}], state)


def _preview(web: Any, client: Any, item_id: int, text: str | None, version: int | None = None,
             values: dict[str, str] | None = None) -> Any:
    vals, ids = _values(values or {})
    inputs = [{"id": "compose-text", "property": "value", "value": text},
              {"id": "compose-template", "property": "value", "value": version}, vals]
    return dash_post(client, _key(web, "..compose-preview.children"), inputs,
                     [ids, {"id": "compose-item", "property": "data", "value": {"id": item_id}}],
                     changed="compose-text.value")


def _choose(web: Any, client: Any, item_id: int, version: int) -> Any:
    return dash_post(client, _key(web, "..compose-text.value...compose-values.children"),
                     [{"id": "compose-template", "property": "value", "value": version}],
                     [{"id": "compose-item", "property": "data", "value": {"id": item_id}}])


def _page(client: Any, mention_id: int) -> dict[str, Any]:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname",
                                           "value": f"/mention/{mention_id}"},
                                          {"id": "_pages_location", "property": "search", "value": ""}])
    assert response.status_code == 200
    return dict(response.get_json()["response"]["_pages_content"])


def _replies(db: Database) -> list[Reply]:
    with db.read() as s:
        found = list(s.scalars(select(Reply).order_by(Reply.id)))
        s.expunge_all()
        return found


def _ids(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict) and isinstance(node["props"].get("id"), str):
            found.add(node["props"]["id"])
        for value in node.values():
            found |= _ids(value)
    elif isinstance(node, list):
        for value in node:
            found |= _ids(value)
    return found


def _markup_only_as_text(node: Any, parent_key: str = "") -> list[str]:
    """Where strings holding markup sit in a layout's JSON: each must be a text child, an input's
    value or a dropdown label; never under a component that renders HTML (Markdown, raw HTML)."""
    where: list[str] = []
    if isinstance(node, dict):
        kind = node.get("type")
        assert kind not in ("Markdown", "DangerouslySetInnerHTML"), node
        props = node.get("props")
        if isinstance(props, dict):
            assert "dangerously_allow_html" not in props, props
        for key, value in node.items():
            where += _markup_only_as_text(value, key if key != "props" else parent_key)
    elif isinstance(node, list):
        for value in node:
            where += _markup_only_as_text(value, parent_key)
    elif isinstance(node, str) and ("<script" in node or "<img" in node):
        assert parent_key in ("children", "value", "label"), (parent_key, node)
        where.append(parent_key)
    return where


def test_an_agent_composes_from_a_template_and_it_is_queued(web: Any, db: Database, settings: Settings,
                                                            item: dict[str, int]) -> None:
    version = _template(db, settings, "card-declined", GREETING)
    agent = _client(web, "agent")
    page = _page(agent, item["mention"])
    assert {"reply", "compose-text", "compose-template", "thread-list"} <= _ids(page)
    assert "Cards · Card declined (EN)" in _dump(page)

    chosen = _choose(web, agent, item["item"], version).get_json()["response"]
    assert chosen["compose-text"]["value"] == GREETING
    inputs = _dump(chosen["compose-values"]["children"])
    assert '"value": "<img"' in inputs  # the first word of the author's name, as a value (text)
    assert '"value": "@zoe_m"' in inputs

    values = {"first_name": "Zoé", "handle": "@zoe_m"}
    shown = _preview(web, agent, item["item"], GREETING, version, values).get_json()["response"]
    preview = _dump(shown["compose-preview"]["children"])
    assert "Hello Zoé (@zoe_m)" in preview and DISCLOSURE in preview
    assert "Goes out at once (policy template_only, approved template)" in preview
    assert " / 280 as x counts" in preview
    assert shown["compose-send"]["disabled"] is False

    answer = _send(web, agent, item["item"], GREETING, version, values).get_json()["response"]
    assert "is queued" in _dump(answer["compose-alert"])
    (reply,) = _replies(db)
    assert reply.status == "queued" and reply.author == "agent" and reply.template_version_id == version
    assert reply.text.startswith("Hello Zoé (@zoe_m), we are sorry") and reply.text.endswith(DISCLOSURE)
    assert reply.source_name == "demo" and reply.queue_item_id == item["item"]
    thread = _dump(answer["thread-list"]["children"])
    assert "queued" in thread and "template card-declined v1" in thread and "Hello Zoé" in thread


def test_free_text_waits_for_compliance_and_edited_templates_too(web: Any, db: Database, settings: Settings,
                                                                 item: dict[str, int]) -> None:
    version = _template(db, settings, "card-declined", GREETING)
    agent = _client(web, "agent")
    shown = _dump(_preview(web, agent, item["item"], "We will call you today.").get_json()["response"])
    assert "Waits for compliance: free text (policy template_only)" in shown
    answer = _send(web, agent, item["item"], "We will call you today.").get_json()["response"]
    assert "waits for compliance" in _dump(answer["compose-alert"])

    edited = GREETING.replace("please send", "kindly send")
    values = {"first_name": "Zoé", "handle": "@zoe_m"}
    shown = _dump(_preview(web, agent, item["item"], edited, version, values).get_json()["response"])
    assert "Waits for compliance: the template's fixed text was edited" in shown
    _send(web, agent, item["item"], edited, version, values)
    free, from_edit = _replies(db)
    assert (free.status, free.template_version_id, free.needs_approval) == ("pending", None, True)
    assert from_edit.status == "pending" and "kindly send" in from_edit.text


def test_a_missing_placeholder_is_refused_with_its_name(web: Any, db: Database, settings: Settings,
                                                        item: dict[str, int]) -> None:
    body = "Hello {{first_name}}, your {{card_type}} card is blocked for your safety."
    version = _template(db, settings, "card-blocked", body)
    agent = _client(web, "agent")
    shown = _preview(web, agent, item["item"], body, version, {"first_name": "Zoé", "card_type": ""})
    preview = shown.get_json()["response"]
    assert "Cannot be sent: fill {{card_type}} before sending" in _dump(preview["compose-preview"])
    assert "Missing: {{card_type}}" in _dump(preview["compose-preview"])
    assert preview["compose-send"]["disabled"] is True
    answer = _send(web, agent, item["item"], body, version, {"first_name": "Zoé", "card_type": ""})
    assert "Not sent: fill {{card_type}} before sending" in _dump(answer.get_json()["response"])
    assert _replies(db) == []


def test_another_team_or_compliance_cannot_compose_and_nothing_is_stored(web: Any, db: Database, settings: Settings,
                                                                         item: dict[str, int]) -> None:
    version = _template(db, settings, "card-declined", GREETING, teams=("customer_service", "legal"))
    legal = _client(web, "legal-agent")
    assert _send(web, legal, item["item"], "Crafted free text").status_code == 204
    assert _send(web, legal, item["item"], GREETING, version, {"first_name": "A", "handle": "b"}).status_code == 204
    assert _preview(web, legal, item["item"], "Crafted").status_code == 204
    assert _choose(web, legal, item["item"], version).status_code == 204
    compliance = _client(web, "compliance")
    assert _send(web, compliance, item["item"], "Crafted free text").status_code == 403
    page = _page(compliance, item["mention"])
    assert "thread-list" in _ids(page) and "compose-text" not in _ids(page) and "reply" not in _ids(page)
    assert _replies(db) == []


def test_untrusted_text_in_the_post_and_in_values_stays_text(web: Any, db: Database, settings: Settings,
                                                             item: dict[str, int]) -> None:
    version = _template(db, settings, "card-declined", GREETING)
    agent = _client(web, "agent")
    values = {"first_name": SCRIPT, "handle": IMG}
    preview = _preview(web, agent, item["item"], GREETING, version, values).get_json()["response"]
    assert _markup_only_as_text(preview)
    _send(web, agent, item["item"], GREETING, version, values)
    (reply,) = _replies(db)
    assert SCRIPT in reply.text
    page = _page(agent, item["mention"])
    where = _markup_only_as_text(page)
    assert where.count("children") >= 2  # the post and the reply in the thread, as text children
    assert SCRIPT in _dump(page)


def _open(web: Any, client: Any, mode: str, reply_id: int) -> Any:
    ident = {"reply": reply_id, "type": f"thread-{mode}"}
    inputs = [[{"id": ident, "property": "n_clicks", "value": 1}] if mode == "edit" else [],
              [{"id": ident, "property": "n_clicks", "value": 1}] if mode == "cancel" else []]
    return dash_post(client, _key(web, "..thread-modal.is_open...thread-modal-title"), inputs,
                     changed=json.dumps(ident, separators=(",", ":"), sort_keys=True) + ".n_clicks")


def _save(web: Any, client: Any, mode: str, reply_id: int, text: str | None = None) -> Any:
    state: list[dict[str, Any]] = [{"id": "thread-target", "property": "data",
                                    "value": {"reply": reply_id, "mode": mode}},
                                   {"id": "thread-edit-text", "property": "value", "value": text},
                                   {"id": "thread-cancel-reason", "property": "value", "value": "sent by mistake"}]
    return dash_post(client, _key(web, "..thread-alert.children"),
                     [{"id": "thread-modal-save", "property": "n_clicks", "value": 1}], state)


def test_the_thread_edits_cancels_and_refreshes_only_on_change(web: Any, db: Database, settings: Settings,
                                                               item: dict[str, int]) -> None:
    agent = _client(web, "agent")
    _send(web, agent, item["item"], "We will call you today.")
    (reply,) = _replies(db)
    with db.write.begin() as s:
        replies.approve(s, reply.id, "compliance")
    refresh = _key(web, "..thread-list.children...thread-state.data..")
    tick = [{"id": "mention-tick", "property": "n_intervals", "value": 1}]
    page = _page(agent, item["mention"])
    stamp = _dump(page)
    assert "approved by compliance" in stamp  # the page was built after the approval

    opened = _open(web, agent, "edit", reply.id).get_json()["response"]
    assert "sends it back to compliance" in _dump(opened["thread-modal-warning"])
    assert opened["thread-edit-text"]["value"].startswith("We will call you today.")
    assert _open(web, _client(web, "legal-agent"), "edit", reply.id).status_code == 204
    assert _save(web, _client(web, "legal-agent"), "cancel", reply.id).get_json()["response"]["thread-alert"][
        "children"].startswith("Not saved")

    saved = _save(web, agent, "edit", reply.id, "We will call you tomorrow morning.").get_json()["response"]
    assert "waits for compliance" in saved["thread-alert"]["children"]
    (reply,) = _replies(db)
    assert reply.status == "pending" and reply.approved_by is None and "tomorrow" in reply.text
    state = saved["thread-state"]["data"]
    same = dash_post(agent, refresh, tick, [{"id": "thread-state", "property": "data", "value": state}])
    assert same.status_code == 204, same.get_data(as_text=True)[:500]  # nothing changed since: nothing sent
    _save(web, agent, "cancel", reply.id)
    moved = dash_post(agent, refresh, tick, [{"id": "thread-state", "property": "data", "value": state}])
    assert moved.status_code == 200 and "cancelled" in _dump(moved.get_json()["response"]["thread-list"])
    assert _replies(db)[0].status == "cancelled"
    # compliance reads the thread, with no button to change it
    read = dash_post(_client(web, "compliance"), refresh, tick,
                     [{"id": "thread-state", "property": "data", "value": {"item": item["item"], "stamp": ""}}])
    assert "cancelled" in _dump(read.get_json()) and "thread-edit" not in _dump(read.get_json())


def test_a_source_vigie_cannot_post_to_offers_only_answered_elsewhere(web: Any, db: Database, settings: Settings,
                                                                      item: dict[str, int]) -> None:
    feed = SourceConfig("feed", "rss", 600, True, {"url": "http://127.0.0.1:9/feed.xml"})
    with_feed = replace(web.server.extensions["vigie"].settings, sources=(*settings.sources, feed))
    web.server.extensions["vigie"] = AppContext(settings=with_feed, db=db)
    post = RawPost("p-feed", "rss", "@AureliaBank my card got declined again at the shop, says a blog",
                   datetime.now(UTC))
    (item_id,) = seed_items(db, with_feed, [post], source="feed")
    with db.read() as s:
        found = s.get(QueueItem, item_id)
        assert found is not None and found.team == "customer_service"
        mention_id = found.mention_id
    agent = _client(web, "agent")
    page = _page(agent, mention_id)
    assert "compose-elsewhere-note" in _ids(page) and "compose-text" not in _ids(page)
    assert "cannot be answered through Vigie" in _dump(page)
    refused = _send(web, agent, item_id, "Crafted anyway").get_json()["response"]
    assert "cannot be answered through Vigie" in _dump(refused["compose-alert"])

    save = _key(web, "..compose-elsewhere-alert.children")

    def record(url: str, note: str) -> Any:
        return dash_post(agent, save, [{"id": "compose-elsewhere-save", "property": "n_clicks", "value": 1}],
                         [{"id": "compose-elsewhere-url", "property": "value", "value": url},
                          {"id": "compose-elsewhere-note", "property": "value", "value": note},
                          {"id": "compose-item", "property": "data", "value": {"id": item_id}}]).get_json()["response"]

    assert "http(s) address" in _dump(record("javascript:alert(1)", "commented on the blog"))
    done = record("https://blog.example/post#comment-3", "commented on the blog")
    assert "Recorded" in done["compose-elsewhere-alert"]["children"]
    thread = _dump(done["thread-list"]["children"])
    assert "answered elsewhere" in thread and '"href": "https://blog.example/post#comment-3"' in thread
    (reply,) = _replies(db)
    assert (reply.status, reply.queue_item_id, reply.note) == ("elsewhere", item_id, "commented on the blog")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Reply).where(Reply.status != "elsewhere")) == 0


def test_pure_helpers() -> None:
    assert prefill(("first_name", "handle", "branch"), "  Zoé Martin ", "@zoe") == \
        {"first_name": "Zoé", "handle": "@zoe", "branch": ""}
    assert prefill(("first_name",), None, None) == {"first_name": ""}
    good = {"name": "first_name", "type": "compose-value"}
    assert values_of([good, {"name": "Bad Name"}, "junk"], ["  Zoé   M ", "x", "y"]) == {"first_name": "Zoé M"}
    assert values_of(1, 1) == {} and values_of([good], [5]) == {"first_name": ""}
    assert text_of("Hi {{first_name}} {{other}}", {"first_name": "Zoé"}) == "Hi Zoé {{other}}"
    assert text_of(None, {}) == ""

    class R:
        status, decided_by, decision_reason, send_after, attempts = "rejected", "c", "tone", None, 0
        last_error: str | None = None

    assert status_label(R(), datetime(2026, 1, 1)) == ("rejected", "danger", "by c: tone")
    R.status, R.last_error = "unknown", "timeout"
    assert status_label(R(), datetime(2026, 1, 1))[0] == "outcome unknown — check"
