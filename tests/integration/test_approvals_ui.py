"""The compliance pages through Dash's real endpoint: approving and rejecting replies (four eyes,
reasons, roles), drafting and approving templates, and untrusted text kept as plain strings."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from config.settings import Settings
from models import library, replies
from models.compose import text_sha256
from models.db import Database
from models.reply_tables import Reply, TemplateVersion
from models.tables import AuditEvent, Mention, QueueItem
from models.users import add_user
from tests.kit import seed_items
from tests.web import PASSWORD, dash_post, make_accounts, plain_strings, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)>"


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _item(db: Database, settings: Settings, text: str = "@AureliaBank my card was blocked at the shop") -> Any:
    item_id = seed_items(db, settings, [text])[0]
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        mention = s.get(Mention, item.mention_id)
        assert mention is not None
        return replies.Target("reply", mention.network, "demo", item.team, mention.brand, mention.language or "en",
                              item.id, mention.id)


def _compose(db: Database, settings: Settings, actor: str, text: str, target: replies.Target | None = None) -> int:
    target = target or _item(db, settings)
    with db.write.begin() as s:
        reply = replies.compose(s, replies.compile_rules(settings), actor, target, text)
        assert reply.status == "pending"  # free text waits under template_only
        return reply.id


def _reply(db: Database, reply_id: int) -> Reply:
    with db.read() as s:
        found = s.get(Reply, reply_id)
        assert found is not None
        s.expunge(found)
        return found


def _decide(client: Any, web: Any, action: str, reply_id: int, reason: str | None,
            shown_sha256: str | None = None) -> Any:
    """Click Approve or Reject on a reply's card; ``shown_sha256`` is the hash of the text the card
    showed (what its store holds)."""
    key = next(k for k in web.callback_map if k.startswith("..approvals-marker.data"))
    button = {"type": f"approvals-{action}", "reply": reply_id}
    other = {"type": "approvals-reject" if action == "approve" else "approvals-approve", "reply": reply_id}
    clicks = {"action": [{"id": button, "property": "n_clicks", "value": 1}],
              "other": [{"id": other, "property": "n_clicks", "value": None}]}
    inputs = [{"id": "approvals-tick", "property": "n_intervals", "value": None},
              clicks["action"] if action == "approve" else clicks["other"],
              clicks["other"] if action == "approve" else clicks["action"]]
    state = [[{"id": {"type": "approvals-reason", "reply": reply_id}, "property": "value", "value": reason}],
             [{"id": {"type": "approvals-sha", "reply": reply_id}, "property": "data", "value": shown_sha256}],
             {"id": "approvals-marker", "property": "data", "value": ""}]
    changed = json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    return dash_post(client, key, inputs, state, changed=changed)


def test_compliance_approves_a_waiting_reply(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    reply_id = _compose(db, settings, "agent", "We are sorry: please call us so we can unblock it.")
    response = _decide(_client(web, "compliance"), web, "approve", reply_id, None, _reply(db, reply_id).text_sha256)
    assert response.status_code == 200 and b"approved: queued for sending" in response.data, response.data[:400]
    reply = _reply(db, reply_id)
    assert reply.status == "queued" and reply.approved_by == "compliance"
    assert reply.approved_sha256 == text_sha256(reply.text) == reply.text_sha256
    with db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"reply:{reply_id}",
                                                                 AuditEvent.actor == "compliance")))
    assert actions == ["reply.approve"]


def test_a_text_edited_after_it_was_shown_is_not_approved(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    reply_id = _compose(db, settings, "agent", "We are sorry: please call us so we can unblock it.")
    shown = _reply(db, reply_id).text_sha256  # what the card showed compliance
    with db.write.begin() as s:
        replies.edit(s, replies.compile_rules(settings), reply_id, "agent", "Call 0800 and give them your PIN.")
    response = _decide(_client(web, "compliance"), web, "approve", reply_id, None, shown)
    assert b"changed since you opened it" in response.data, response.data[:400]
    missing = _decide(_client(web, "compliance"), web, "approve", reply_id, None, None)
    assert b"reload the page" in missing.data, missing.data[:400]
    assert _reply(db, reply_id).status == "pending"


def test_the_writer_cannot_approve_their_own_reply(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    reply_id = _compose(db, settings, "admin", "Written by the admin, who may also approve others' replies.")
    response = _decide(_client(web, "admin"), web, "approve", reply_id, None, _reply(db, reply_id).text_sha256)
    assert response.status_code == 200 and b"four eyes" in response.data
    assert _reply(db, reply_id).status == "pending" and _reply(db, reply_id).approved_by is None


def test_an_agent_cannot_run_the_approval_callback(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    reply_id = _compose(db, settings, "agent2", "Please call us so we can help.")
    for who in ("agent", "lead", "operator", "manager"):
        response = _decide(_client(web, who), web, "approve", reply_id, None, _reply(db, reply_id).text_sha256)
        assert response.status_code == 403, who
    anonymous = _decide(web.server.test_client(), web, "approve", reply_id, None, _reply(db, reply_id).text_sha256)
    assert anonymous.status_code == 401
    reply = _reply(db, reply_id)
    assert reply.status == "pending" and reply.approved_by is None


def test_a_rejection_needs_a_reason(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    reply_id = _compose(db, settings, "agent", "Please call us so we can help.")
    compliance = _client(web, "compliance")
    for empty in (None, "", "   "):
        response = _decide(compliance, web, "reject", reply_id, empty)
        assert response.status_code == 200 and b"a reason is required" in response.data
        assert _reply(db, reply_id).status == "pending"
    response = _decide(compliance, web, "reject", reply_id, "Do not ask customers to call: give the number.")
    assert b"rejected" in response.data
    reply = _reply(db, reply_id)
    assert reply.status == "rejected" and reply.decided_by == "compliance"
    assert reply.decision_reason == "Do not ask customers to call: give the number."


def _save_template(client: Any, web: Any, body: str, key: str = "welcome-post") -> Any:
    entry = next(k for k in web.callback_map if k.startswith("..library-save-alert.children"))
    values = {"library-template": None, "library-key": key, "library-language": "en", "library-kind": "post",
              "library-category": "marketing", "library-title": "Welcome", "library-body": body,
              "library-teams": ["marketing"], "library-networks": [], "library-expires": None}
    state = [{"id": ident, "property": "data" if ident == "library-template" else "value", "value": value}
             for ident, value in values.items()]
    return dash_post(client, entry, [{"id": "library-save", "property": "n_clicks", "value": 1}], state)


def _decide_version(client: Any, web: Any, version_id: int) -> Any:
    key = next(k for k in web.callback_map if k.startswith("..library-decide-alert.children"))
    button = {"type": "library-approve", "version": version_id}
    inputs = [[{"id": button, "property": "n_clicks", "value": 1}],
              [{"id": {"type": "library-reject", "version": version_id}, "property": "n_clicks", "value": None}]]
    state = [[{"id": {"type": "library-reason", "version": version_id}, "property": "value", "value": None}]]
    return dash_post(client, key, inputs, state,
                     changed=json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks")


def test_a_template_drafted_by_one_compliance_officer_is_approved_by_another(web: Any, db: Database,
                                                                              settings: Settings) -> None:
    make_accounts(db, settings)
    with db.write.begin() as s:
        add_user(s, "compliance-b", "compliance", (), PASSWORD, settings.team_keys, actor="test")
    author, other = _client(web, "compliance"), _client(web, "compliance-b")
    response = _save_template(author, web, "Welcome to {{city}}'s new branch!")
    assert response.status_code == 200 and b"Saved as draft version 1" in response.data, response.data[:300]
    with db.read() as s:
        version_id = s.scalars(select(TemplateVersion.id)).one()
    assert b"four eyes" in _decide_version(author, web, version_id).data
    with db.read() as s:
        assert s.get(TemplateVersion, version_id).status == "draft"  # type: ignore[union-attr]
    agent = _decide_version(_client(web, "agent"), web, version_id)
    assert agent.status_code == 403
    assert _save_template(_client(web, "agent"), web, "An agent's template", "agent-post").status_code == 403
    assert b"approved" in _decide_version(other, web, version_id).data
    with db.read() as s:
        version = s.get(TemplateVersion, version_id)
        assert version is not None and version.status == "approved" and version.decided_by == "compliance-b"
        assert library.usable_version(s, version.template_id) is not None


def _page(client: Any, path: str, search: str = "") -> Any:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": search}])
    assert response.status_code == 200, (path, response.status_code)
    return response.get_json()["response"]["_pages_content"]



def test_untrusted_text_is_shown_as_plain_strings(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    target = _item(db, settings, f"@AureliaBank {HOSTILE} my card")
    reply_id = _compose(db, settings, "agent", f"Reply {HOSTILE}", target)
    post = replies.Target("post", "demo", "demo", "marketing", None, "en")
    with db.write.begin() as s:
        replies.compose(s, replies.compile_rules(settings), "agent", post, f"Post {HOSTILE}")
        version = library.create(s, "lead", "hostile", "en", "reply",
                                 library.Draft(f"Title {HOSTILE}", "cat", f"Body {HOSTILE}", ("customer_service",)),
                                 settings.team_keys)
        template_id = version.template_id
    compliance = _client(web, "compliance")
    approvals = plain_strings(_page(compliance, "/approvals"))
    assert any(HOSTILE in s and s.startswith("Reply") for s in approvals)
    assert any(HOSTILE in s for s in approvals if not s.startswith("Reply"))  # the post it answers
    outbox = plain_strings(_page(compliance, "/outbox"))
    assert any(s.startswith("Post") and HOSTILE in s for s in outbox)
    library_page = plain_strings(_page(compliance, "/library", f"?template={template_id}"))
    assert f"Body {HOSTILE}" in library_page
    assert reply_id
