"""One-click corrections (issue 18, item 5): an agent marks an item's sentiment, a flag or its team
wrong on the item page; the correction is stored and audited, refused for another team's item,
listed for leads on the triage page; the item page explains its judgements. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from config.settings import Settings
from models import corrections
from models.actions import ActionError
from models.audit import check_chain
from models.db import Database
from models.judgement_tables import Correction
from models.tables import AuditEvent, QueueItem
from models.users import set_preferences
from tests.kit import seed_items
from tests.web import dash_post, make_accounts, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _page(client: Any, path: str) -> str:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": ""}])
    assert response.status_code == 200
    return json.dumps(response.get_json()["response"]["_pages_content"], ensure_ascii=False)


def _click(web: Any, client: Any, item_id: int, kind: str, value: str) -> Any:
    key = next(k for k in web.callback_map if k.startswith("correct-result.children"))
    button = {"type": "correct", "kind": kind, "value": value}
    changed = json.dumps(dict(sorted(button.items())), separators=(",", ":")) + ".n_clicks"
    response = dash_post(client, key, [[{"id": button, "property": "n_clicks", "value": 1}]],
                         [{"id": "mention-item", "property": "data", "value": {"id": item_id, "changed": ""}}],
                         changed=changed)
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.get_json(), ensure_ascii=False)


def _tick(web: Any, client: Any, item_id: int, changed: str) -> dict[str, Any]:
    """The item page's tick, as its interval fires: what it redraws (an empty dict: nothing)."""
    key = next(k for k in web.callback_map if "mention-history-box.children" in k)
    response = dash_post(client, key, [{"id": "mention-tick", "property": "n_intervals", "value": 1}],
                         [{"id": "mention-item", "property": "data", "value": {"id": item_id, "changed": changed}}])
    assert response.status_code in (200, 204), response.data[:300]
    return response.get_json()["response"] if response.status_code == 200 else {}


@pytest.fixture
def item(db: Database, settings: Settings) -> dict[str, int]:
    # Negative, flagged card_issue, in customer service: "my card got blocked again, useless"
    (item_id,) = seed_items(db, settings, ["@AureliaBank my card got blocked again, useless bank"])
    with db.read() as s:
        row = s.get(QueueItem, item_id)
        assert row is not None and row.team == "customer_service"
        return {"item": item_id, "mention": row.mention_id}


def test_an_agent_marks_judgements_wrong_with_one_click(web: Any, db: Database, settings: Settings,
                                                        item: dict[str, int]) -> None:
    make_accounts(db, settings)
    agent = _client(web, "agent")
    page = _page(agent, f"/mention/{item['mention']}")
    # The explanations: the words that moved the sentiment, the words that fired each flag.
    assert "Words that moved it: " in page and "blocked" in page
    assert "Card issue: fired by card got blocked" in page  # the flag by its name (lexicons.yaml)
    # The buttons: the other two sentiments, each flag, each other team.
    for text in ("Sentiment is neutral", "Sentiment is positive", "Not “Card issue”", "Belongs to Legal & compliance"):
        assert text in page, text

    shown = _tick(web, agent, item["item"], "")["mention-item"]["data"]["changed"]  # as the page holds it
    assert "mention-history-box" not in _tick(web, agent, item["item"], shown)  # nothing new: nothing redrawn
    said = _click(web, agent, item["item"], "sentiment", "neutral")
    assert "Recorded: sentiment negative, should be neutral" in said
    # the open page's history shows the correction at its next tick (the item itself is unchanged)
    redrawn = _tick(web, agent, item["item"], shown)
    # (stored in English as the audit's reason; the history says it in the reader's words)
    assert "sentiment negative, should be neutral" in json.dumps(redrawn.get("mention-history-box"))
    assert "already" in _click(web, agent, item["item"], "sentiment", "neutral")  # once per person
    assert "Recorded: flag “Card issue” should not have fired" in _click(web, agent, item["item"], "flag", "card_issue")
    assert "Recorded: team Customer service, should be Legal" in _click(web, agent, item["item"], "team", "legal")
    # Not the item's judgement (a flag it has not, an unknown team, the label it has): refused, nothing stored.
    for kind, value in (("flag", "fraud"), ("team", "sales"), ("sentiment", "negative"), ("kind", "x")):
        assert "Recorded" not in _click(web, agent, item["item"], kind, value)

    with db.read() as s:
        rows = s.scalars(select(Correction).order_by(Correction.id)).all()
        assert [(r.kind, r.wrong, r.right, r.actor, r.team) for r in rows] == [
            ("sentiment", "negative", "neutral", "agent", "customer_service"),
            ("flag", "card_issue", None, "agent", "customer_service"),
            ("team", "customer_service", "legal", "agent", "customer_service")]
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "correct")).all()
        assert [e.reason for e in events] == ["sentiment negative is wrong: neutral",
                                              "risk flag card_issue should not have fired",
                                              "team customer_service is wrong: legal"]
        assert check_chain(s, item["item"]) == []  # a correction leaves the item as it was
        assert s.get(QueueItem, item["item"]).team == "customer_service"  # type: ignore[union-attr]

    lead = _client(web, "lead")  # customer service's lead sees them; legal's lead does not
    listed = _page(lead, "/triage")
    assert "Corrections by the team" in listed and "sentiment negative, should be neutral" in listed
    assert "my card got blocked again" in listed
    assert "sentiment negative, should be neutral" not in _page(_client(web, "legal-lead"), "/triage")

    with db.write.begin() as s:  # the same history, read in French: the corrections in French words
        set_preferences(s, "agent", "fr", "Europe/Paris", actor="test")
    history = json.dumps(_tick(web, agent, item["item"], "")["mention-history-box"], ensure_ascii=False)
    assert "le signal « Problème de carte » n’aurait pas dû se déclencher" in history
    assert "sentiment négatif, devrait être neutre" in history and "is wrong" not in history


def test_another_teams_agent_cannot_correct(web: Any, db: Database, settings: Settings, item: dict[str, int]) -> None:
    make_accounts(db, settings)
    legal_agent = _client(web, "legal-agent")
    said = _click(web, legal_agent, item["item"], "sentiment", "neutral")
    assert "a team you do not work for" in said
    assert "Judgement wrong?" not in _page(legal_agent, f"/mention/{item['mention']}")
    with db.read() as s:
        assert s.scalars(select(Correction)).all() == []


def test_sentiment_examples_keep_the_newest_word_per_post(db: Database, settings: Settings,
                                                         item: dict[str, int]) -> None:
    teams = settings.team_keys
    with db.write.begin() as s:
        corrections.correct(s, item["item"], "agent", "sentiment", "neutral", teams)
        corrections.correct(s, item["item"], "lead", "sentiment", "positive", teams)
        with pytest.raises(ActionError):
            corrections.correct(s, item["item"], "agent", "flag", "no-such-flag", teams)
    with db.read() as s:
        assert corrections.sentiment_examples(s) == [
            ("@AureliaBank my card got blocked again, useless bank", "en", "positive")]
        assert [r.actor for r in corrections.recent(s, ("customer_service",))] == ["lead", "agent"]
        assert corrections.recent(s, ("legal",)) == []


def test_the_item_history_shows_its_newest_events(db: Database, item: dict[str, int]) -> None:
    from models.audit_log import record_event
    from models.queries import item_events, item_mark

    with db.write.begin() as s:
        for n in range(205):
            record_event(s, "agent", "correct", item_id=item["item"], reason=f"note {n}")
    with db.read() as s:
        row = s.get(QueueItem, item["item"])
        assert row is not None
        before = item_mark(s, row)
        shown = [e.reason for e in item_events(s, item["item"], limit=200)]
        assert shown == [f"note {n}" for n in range(5, 205)]  # the newest 200, oldest first
    with db.write.begin() as s:
        record_event(s, "agent", "correct", item_id=item["item"], reason="note 205")
    with db.read() as s:
        row = s.get(QueueItem, item["item"])
        assert row is not None and item_mark(s, row) != before
        assert item_events(s, item["item"], limit=200)[-1].reason == "note 205"


def test_a_corrections_audit_reason_reads_back_and_nothing_else_does() -> None:
    for kind, wrong, right in (("sentiment", "negative", "neutral"), ("flag", "card_issue", None),
                               ("team", "customer_service", "legal")):
        assert corrections.described(corrections.describe(kind, wrong, right)) == (kind, wrong, right)
    for other in ("customer asked twice", "", None, "risk flag card_issue should not have fired, really"):
        assert corrections.described(other) is None
