"""The /supervision page through Dash's real endpoint: compliance decides a review (four eyes, a
comment for a follow-up, once), other roles are refused, the coverage table follows the period
chosen, and untrusted text stays plain strings."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from config.archive import Supervision
from config.settings import Settings
from models import outbox, replies
from models.archive_tables import Review
from models.db import Database
from models.tables import Mention, QueueItem
from tests.kit import seed_items
from tests.web import dash_post, make_accounts, plain_strings, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)>"


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _free_form_review(db: Database, settings: Settings, writer: str, text: str,
                      post: str = "@AureliaBank my card was blocked at the shop") -> int:
    """A free-form reply by ``writer`` sent under policy none: its review's id."""
    db.write.kw["info"] = {**db.write.kw["info"], "supervision": Supervision(flags=(), sample_percent=0.0)}
    item_id = seed_items(db, settings, [post], prefix=f"p{writer}")[0]
    rules = replies.compile_rules(replace(settings, outbound=replace(settings.outbound, default_policy="none")))
    with db.write.begin() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        mention = s.get(Mention, item.mention_id)
        assert mention is not None
        target = replies.Target("reply", mention.network, "demo", item.team, mention.brand, "en", item.id, mention.id)
        reply_id = replies.compose(s, rules, writer, target, text).id
    with db.write.begin() as s:
        outbox.claim(s, reply_id, "w1")
    with db.write.begin() as s:
        outbox.record_sent(s, reply_id, f"p{reply_id}", None)
    with db.read() as s:
        return int(s.scalars(select(Review.id).where(Review.reply_id == reply_id)).one())


def _review(db: Database, review_id: int) -> Review:
    with db.read() as s:
        found = s.get(Review, review_id)
        assert found is not None
        s.expunge(found)
        return found


def _decide(client: Any, web: Any, review_id: int, decision: str, comment: str | None) -> Any:
    key = next(k for k in web.callback_map if k.startswith("..supervision-marker.data"))
    button = {"type": "supervision-decide", "review": review_id}
    inputs = [{"id": "supervision-tick", "property": "n_intervals", "value": None},
              [{"id": button, "property": "n_clicks", "value": 1}]]
    state: list[Any] = [
        [{"id": {"type": "supervision-decision", "review": review_id}, "property": "value", "value": decision}],
        [{"id": {"type": "supervision-comment", "review": review_id}, "property": "value", "value": comment}],
        {"id": "supervision-marker", "property": "data", "value": ""}]
    changed = json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    return dash_post(client, key, inputs, state, changed=changed)


def test_compliance_decides_a_review_once(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    review_id = _free_form_review(db, settings, "agent", "Send me your card number in a message.")
    compliance = _client(web, "compliance")
    response = _decide(compliance, web, review_id, "follow_up", "  ")
    assert response.status_code == 200 and b"comment is required" in response.data, response.data[:300]
    assert _review(db, review_id).reviewed_at is None
    response = _decide(compliance, web, review_id, "follow_up", "Never ask for a card number.")
    assert response.status_code == 200 and b"Follow-up recorded" in response.data, response.data[:300]
    review = _review(db, review_id)
    assert (review.reviewer, review.decision, review.comment) == ("compliance", "follow_up",
                                                                  "Never ask for a card number.")
    again = _decide(_client(web, "admin"), web, review_id, "no_issue", None)
    assert b"decided already" in again.data
    assert _review(db, review_id).decision == "follow_up"


def test_the_writer_cannot_review_their_own_reply(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    review_id = _free_form_review(db, settings, "admin", "The admin answered this one directly.")
    response = _decide(_client(web, "admin"), web, review_id, "no_issue", None)
    assert response.status_code == 200 and b"four eyes" in response.data
    assert _review(db, review_id).reviewed_at is None


def test_other_roles_cannot_run_the_review_callbacks(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    review_id = _free_form_review(db, settings, "agent2", "Please call us.")
    for who in ("agent", "lead", "operator", "manager", "legal-agent"):
        assert _decide(_client(web, who), web, review_id, "no_issue", None).status_code == 403, who
    assert _decide(web.server.test_client(), web, review_id, "no_issue", None).status_code == 401
    coverage = next(k for k in web.callback_map if k.startswith("supervision-coverage.children"))
    inputs = [{"id": "supervision-period", "property": "value", "value": "week"},
              {"id": "supervision-marker", "property": "data", "value": ""}]
    assert dash_post(_client(web, "manager"), coverage, inputs).status_code == 403
    assert _review(db, review_id).reviewed_at is None


def _page(client: Any, path: str) -> Any:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": ""}])
    assert response.status_code == 200, (path, response.status_code)
    return response.get_json()["response"]["_pages_content"]



def test_the_queue_shows_untrusted_text_as_plain_strings_and_the_coverage(web: Any, db: Database,
                                                                         settings: Settings) -> None:
    make_accounts(db, settings)
    _free_form_review(db, settings, "agent", f"Reply {HOSTILE}", post=f"@AureliaBank {HOSTILE} my card")
    page = plain_strings(_page(_client(web, "compliance"), "/supervision"))
    assert any(s.startswith("Reply") and HOSTILE in s for s in page)
    assert any(HOSTILE in s for s in page if not s.startswith("Reply"))  # the post it answers
    assert "free-form reply" in " ".join(page) and "all reviews" in page
    coverage = next(k for k in web.callback_map if k.startswith("supervision-coverage.children"))
    inputs = [{"id": "supervision-period", "property": "value", "value": "week"},
              {"id": "supervision-marker", "property": "data", "value": ""}]
    weekly = dash_post(_client(web, "compliance"), coverage, inputs)
    assert weekly.status_code == 200 and b"Week of" in weekly.data, weekly.data[:300]
