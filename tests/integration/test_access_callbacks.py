"""Access control, the callbacks: every Dash callback against every role (a refused one reads and
changes nothing), crafted updates without a session or for another team, and the item pages' team
check. Routes and pages: test_access.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from collectors.types import RawPost
from config.settings import Settings
from dashboard.auth.guard import callback_roles
from dashboard.auth.policy import can_read_team, can_work_team
from models import replies
from models.db import Database
from models.tables import Mention, QueueItem
from tests.access import (
    ANON,
    PRINCIPALS,
    client_for,
    items_by_team,
    principal_of,
    rendered,
    role_of,
    snapshot,
)
from tests.kit import store_posts
from tests.web import dash_post, make_accounts, spec_inputs


@pytest.mark.parametrize("who", PRINCIPALS)
def test_callback_matrix_refused_callbacks_read_and_change_nothing(web: Any, db: Database, settings: Settings,
                                                                   who: str) -> None:
    make_accounts(db, settings)
    items = items_by_team(db, settings)
    with db.write.begin() as s:  # a reply waiting on legal's item: the thread's edit and cancel aim at it
        legal = s.get(QueueItem, items["legal"])
        assert legal is not None
        target = replies.Target("reply", "x", "demo", "legal", None, "en", legal.id, legal.mention_id)
        replies.compose(s, replies.compile_rules(settings), "legal-agent", target, "We are looking into it.")
    client = client_for(web, db, who)
    role = role_of(who)
    for key, entry in web.callback_map.items():
        if "callback" not in entry:
            continue  # clientside: runs in the browser, never on the server
        roles = callback_roles(web, key)
        assert roles is not None, key
        before = snapshot(db)
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
            if not can_work_team(principal_of(who), "legal"):  # allowed to run it, not on legal's item
                assert snapshot(db)[2] == before[2], (who, key)
            if not can_read_team(principal_of(who), "legal"):  # the text of legal's reply stays legal's
                assert b"looking into" not in response.data, (who, key)
            continue  # what each callback lets through is checked item by item below
        assert snapshot(db) == before, (who, key)


def test_crafted_update_without_session_or_with_wrong_team_reads_and_changes_nothing(
    web: Any, db: Database, settings: Settings
) -> None:
    make_accounts(db, settings)
    items = items_by_team(db, settings)
    legal_state = {"team": "legal", "key": ["2000-01-01T00:00:00", 0], "known": [], "floor": "2000-01-01T00:00:00"}
    refresh = next(k for k in web.callback_map if k.startswith("..queue-grid.rowTransaction..."))
    act = next(k for k in web.callback_map if k.startswith("..queue-alert.children"))
    anonymous = web.server.test_client()
    tick = [{"id": "queue-tick", "property": "n_intervals", "value": 1}]
    state = [{"id": "queue-state", "property": "data", "value": legal_state}]
    before = snapshot(db)

    response = dash_post(anonymous, refresh, tick, state)
    assert response.status_code == 401 and b"lawyer" not in response.data

    # An agent of customer service asks for legal's queue: nothing comes back.
    agent = client_for(web, db, "agent")
    response = dash_post(agent, refresh, tick, state)
    assert response.status_code == 204 and b"lawyer" not in response.data
    # ... and the legal agent asking the same gets the rows (the request itself was well formed).
    legal = client_for(web, db, "legal-agent")
    assert b"lawyer" in dash_post(legal, refresh, tick, state).data

    # The customer-service agent claims legal's item by id: refused, nothing changes.
    entry = web.callback_map[act]
    values = {"queue-grid.selectedRows": [{"id": items["legal"]}], "queue-state.data": legal_state}
    response = dash_post(agent, act, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values),
                         changed="queue-claim.n_clicks")
    assert response.status_code == 200 and b"is not in your teams" in response.data
    assert b"lawyer" not in response.data  # nor is the refused row sent back
    # An operator (read-only) may not run the action callback at all.
    response = dash_post(client_for(web, db, "operator"), act, spec_inputs(entry["inputs"], values),
                         spec_inputs(entry["state"], values), changed="queue-claim.n_clicks")
    assert response.status_code == 403
    assert snapshot(db) == before

    # The right agent can: the same request changes the item.
    response = dash_post(legal, act, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values),
                         changed="queue-claim.n_clicks")
    assert response.status_code == 200 and b"Claimed 1 item" in response.data
    with db.read() as s:
        assert s.get(QueueItem, items["legal"]).assignee == "legal-agent"  # type: ignore[union-attr]


def test_item_pages_and_their_updates_check_the_items_team(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    items = items_by_team(db, settings)
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
    agent, legal_agent, lead = (client_for(web, db, w) for w in ("agent", "legal-agent", "lead"))
    for mention_id in (legal_mention, copy_id):
        assert b"access-denied" in rendered(agent, f"/mention/{mention_id}")
        assert b"lawyer" not in rendered(agent, f"/mention/{mention_id}")
        assert b"lawyer" in rendered(legal_agent, f"/mention/{mention_id}")
    assert b"access-denied" in rendered(agent, "/queue/customer_service", "?team=legal") or \
        b"lawyer" not in rendered(agent, "/queue/customer_service", "?team=legal")
    assert rendered(agent, "/queue/customer_service", "?_layout=x")  # query parameters are not the wrapper's

    tick = next(k for k in web.callback_map if k.startswith("..mention-presence.children"))
    act = next(k for k in web.callback_map if k.startswith("..mention-alert.children"))
    state = [{"id": "mention-item", "property": "data", "value": {"id": items["legal"], "changed": ""}}]
    before = snapshot(db)
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
    assert snapshot(db) == before

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
    assert snapshot(db) == before
