"""The /archive page through Dash's real endpoint: compliance searches records, pages through them,
reads an item's record history (contents as JSON text, never HTML), sees restricted authors marked,
the verifications, the head and the anchored heads; every other role is refused; the item page
links compliance to the item's records."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from collectors.types import RawPost
from config.settings import Settings
from models import actions
from models.archive_seal import seal
from models.archive_tables import ArchiveVerification, ErasureRequest
from models.db import Database
from models.tables import Mention, QueueItem, utcnow
from tests.kit import store_posts
from tests.web import ACCOUNTS, dash_post, make_accounts, plain_strings, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> my card"
FIELDS = ("archive-kind", "archive-subject", "archive-author", "archive-mention", "archive-since", "archive-until",
          "archive-text")


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _seed(db: Database, settings: Settings) -> dict[str, int]:
    now = datetime.now(UTC)
    store_posts(db, settings, [RawPost("h1", "x", HOSTILE, now, None, "@eve", "Eve <b>", 5, raw={"html": HOSTILE}),
                               RawPost("r1", "x", "@AureliaBank please forget me, my card is fine", now, None,
                                       "@gone", "Gone", 5)])
    with db.read() as s:
        mentions = {m.external_id: m.id for m in s.scalars(select(Mention))}
        item = s.scalars(select(QueueItem.id).where(QueueItem.mention_id == mentions["h1"])).one()
    with db.write.begin() as s:
        actions.claim(s, item, "agent")
        seal(s, "test")
        s.add(ErasureRequest(author="x:@gone", reason="erasure", requested_by="compliance", requested_at=utcnow(),
                             status="restricted"))
    return {"hostile": mentions["h1"], "gone": mentions["r1"]}


def _search(client: Any, web: Any, button: str = "archive-search", cursor: Any = None, **fields: Any) -> Any:
    key = next(k for k in web.callback_map if k.startswith("..archive-results.children"))
    inputs = [{"id": "archive-search", "property": "n_clicks", "value": 1},
              {"id": "archive-older", "property": "n_clicks", "value": 1 if button == "archive-older" else None}]
    state = [{"id": f, "property": "value", "value": fields.get(f.removeprefix("archive-"))} for f in FIELDS]
    state.append({"id": "archive-cursor", "property": "data", "value": cursor})
    return dash_post(client, key, inputs, state, changed=f"{button}.n_clicks")


def _history(client: Any, web: Any, mention: Any) -> Any:
    key = next(k for k in web.callback_map if k.startswith("..archive-history.children"))
    inputs = [{"id": "archive-history-show", "property": "n_clicks", "value": 1},
              {"id": "archive-history-later", "property": "n_clicks", "value": None}]
    state = [{"id": "archive-history-mention", "property": "value", "value": mention},
             {"id": "archive-history-cursor", "property": "data", "value": None}]
    return dash_post(client, key, inputs, state, changed="archive-history-show.n_clicks")



def _components(node: Any, kind: str) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == kind:
            found.append(node["props"])
        for value in node.values():
            found += _components(value, kind)
    elif isinstance(node, list):
        for value in node:
            found += _components(value, kind)
    return found


def test_compliance_searches_and_sees_restricted_marked(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    seen = _seed(db, settings)
    client = _client(web, "compliance")
    response = _search(client, web, text="MY CARD")
    assert response.status_code == 200, response.data[:300]
    results = response.get_json()["response"]["archive-results"]["children"]
    rows = _components(results, "Tr")
    assert len(rows) == 3  # the header, the two posts
    texts = plain_strings(results)
    assert "sealed in segment 1" in texts and "restricted" in texts and "x:@gone" in texts
    links = [p["href"] for p in _components(results, "Link")]
    assert set(links) == {f"/archive?mention={seen['hostile']}", f"/archive?mention={seen['gone']}"}
    by_author = _search(client, web, author="x:@eve", kind="event").get_json()["response"]["archive-results"]
    shown = plain_strings(by_author)
    assert "event" in shown and "post" not in shown and "x:@gone" not in shown
    nothing = _search(client, web, since="2001-01-01", until="2001-01-02").get_json()["response"]
    assert "No record matches." in plain_strings(nothing["archive-results"]["children"])
    # junk in the fields is ignored, not an error
    junk = _search(client, web, kind="nonsense", mention="12x", since="yesterday", text="x" * 5000)
    assert junk.status_code == 200


def test_older_pages_through_the_results(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    store_posts(db, settings, [RawPost(f"m{i}", "x", f"@AureliaBank post {i}", datetime.now(UTC), None, f"@u{i}",
                                       "U", 1) for i in range(60)])
    client = _client(web, "compliance")
    first = _search(client, web, kind="post").get_json()["response"]
    cursor = first["archive-cursor"]["data"]
    assert isinstance(cursor["before"], int) and len(_components(first["archive-results"]["children"], "Tr")) == 51
    older = _search(client, web, "archive-older", cursor, kind="post").get_json()["response"]
    assert len(_components(older["archive-results"]["children"], "Tr")) == 11  # 10 more and the header
    assert older["archive-cursor"]["data"] == {"before": None}
    assert _search(client, web, "archive-older", {"before": None}, kind="post").status_code == 204


def test_history_shows_contents_as_json_text(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    seen = _seed(db, settings)
    client = _client(web, "compliance")
    answer = _history(client, web, seen["hostile"]).get_json()["response"]["archive-history"]["children"]
    pres = _components(answer, "Pre")
    assert len(pres) >= 2  # the post as received, the claim
    post = json.loads(pres[0]["children"])
    assert post["raw"] == {"html": HOSTILE} and post["mention"]["text"] == HOSTILE
    assert json.loads(pres[1]["children"])["action"] == "claim"
    assert any(t.startswith("SHA-256 ") and "sealed in segment 1, position" in t for t in plain_strings(answer))
    # the page opened at ?mention= shows the same, on its history tab
    built = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": "/archive"},
                                       {"id": "_pages_location", "property": "search",
                                        "value": f"?mention={seen['hostile']}"}]).get_json()["response"]
    content = built["_pages_content"]["children"]
    assert _components(content, "Tabs")[0]["active_tab"] == "history"
    assert [json.loads(p["children"]) for p in _components(content, "Pre")][0] == post
    # nothing of the post is HTML anywhere in the answers
    assert not _components(answer, "script") and "dangerously_allow_html" not in json.dumps(answer)
    bad = _history(client, web, "<b>").get_json()["response"]["archive-history"]["children"]
    assert "That is not a mention id." in plain_strings(bad)
    restricted = _history(client, web, seen["gone"]).get_json()["response"]["archive-history"]["children"]
    assert "restricted" in plain_strings(restricted)


def test_status_shows_verifications_head_and_anchors(web: Any, db: Database, settings: Settings,
                                                     tmp_path: Path) -> None:
    make_accounts(db, settings)
    _seed(db, settings)
    anchors = tmp_path / "heads.jsonl"
    with db.write.begin() as s:
        s.add(ArchiveVerification(at=utcnow(), by="vigie archive", ok=False, records=3, segments=1, head_hash="ab" * 32,
                                  failure="record 2: its content does not match its SHA-256"))
        segment = seal(s, "test")  # nothing new waits: None
        assert segment is None
    from models.archive_seal import head
    with db.read() as s:
        top = head(s)
        assert top is not None
        anchors.write_text(json.dumps({"seq": top.seq, "hash": top.hash}) + "\n", encoding="utf-8")
    ctx = web.server.extensions["vigie"]
    web.server.extensions["vigie"] = replace(ctx, settings=replace(
        ctx.settings, archive=replace(ctx.settings.archive, anchor_file=str(anchors))))
    try:
        key = next(k for k in web.callback_map if k.startswith("archive-status.children"))
        response = dash_post(_client(web, "compliance"), key,
                             [{"id": "archive-status-refresh", "property": "n_clicks", "value": 1}])
    finally:
        web.server.extensions["vigie"] = ctx
    texts = plain_strings(response.get_json()["response"]["archive-status"]["children"])
    assert "FAILED" in texts and "record 2: its content does not match its SHA-256" in texts
    assert any(t.startswith(f"Head: segment {top.seq} ") and top.hash in t for t in texts)
    assert "in the chain" in texts and top.hash in texts


def test_every_other_role_is_refused(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    seen = _seed(db, settings)
    for who, (role, _teams) in ACCOUNTS.items():
        if role == "compliance":
            continue
        client = _client(web, who)
        assert _search(client, web, text="card").status_code == 403, who
        assert _history(client, web, seen["gone"]).status_code == 403, who
        assert client.get("/archive").status_code == 403, who
    anonymous = web.server.test_client()
    assert _search(anonymous, web, text="card").status_code == 401
    assert _history(anonymous, web, seen["gone"]).status_code == 401


def test_the_item_page_links_compliance_to_its_records(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    seen = _seed(db, settings)
    path = f"/mention/{seen['hostile']}"
    for who, wanted in (("compliance", True), ("admin", False), ("agent", False)):
        built = dash_post(_client(web, who), ROUTER, [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": ""}]).get_json()["response"]
        links = [p for p in _components(built["_pages_content"], "A") if p.get("id") == "mention-records"]
        assert bool(links) == wanted, who
        if wanted:
            assert links[0]["href"] == f"/archive?mention={seen['hostile']}"
