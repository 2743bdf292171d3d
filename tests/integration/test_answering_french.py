"""A French reader of the answering pages: /approvals, the reply panel and its live preview, and a
post scheduled from /outbox, for an account whose language is French and whose zone is Paris.
The words are the catalogue's, times are relative or local (never a raw ISO timestamp), and a
time typed in the form is read in the reader's zone and stored in UTC."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from config.settings import Settings
from models import replies
from models.db import Database
from models.reply_tables import Reply
from models.tables import Mention, QueueItem, utcnow
from models.users import set_preferences
from tests.kit import seed_items
from tests.web import dash_post, find_id, make_accounts, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
SHOWN = ("children", "label", "placeholder", "title")  # props a person reads (not dateTime, ids, data)


def _visible(node: Any) -> list[str]:
    """The strings of a Dash component tree that a person reads: children, labels, placeholders, tooltips."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for value in node for s in _visible(value)]
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict):
            return [s for key in SHOWN if key in props for s in _visible(props[key])]
        return [s for value in node.values() for s in _visible(value)]
    return []


def _french(db: Database, *names: str) -> None:
    with db.write.begin() as s:
        for name in names:
            set_preferences(s, name, "fr", "Europe/Paris")


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _page(client: Any, path: str) -> Any:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": ""}])
    assert response.status_code == 200, (path, response.data[:300])
    return response.get_json()["response"]["_pages_content"]


def _key(web: Any, prefix: str) -> str:
    return next(k for k in web.callback_map if k.startswith(prefix))


def _item(db: Database, settings: Settings) -> tuple[int, int, replies.Target]:
    (item_id,) = seed_items(db, settings, ["@AureliaBank my card was blocked at the shop"])
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        mention = s.get(Mention, item.mention_id)
        assert mention is not None
        target = replies.Target("reply", mention.network, "demo", item.team, mention.brand, mention.language or "en",
                                item.id, mention.id)
        return item_id, mention.id, target


def test_a_french_compliance_officer_reads_approvals_in_french(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    _french(db, "compliance")
    _item_id, _mention, target = _item(db, settings)
    with db.write.begin() as s:
        reply = replies.compose(s, replies.compile_rules(settings), "agent", target, "Nous vous rappelons.")
        reply.submitted_at = utcnow() - timedelta(minutes=50)  # at risk under the demo's 60-minute SLA
        reply_id = reply.id
    shown = _visible(_page(_client(web, "compliance"), "/approvals"))
    text = " ".join(shown)
    assert "Approbations" in shown and "En attente d’approbation" in shown, shown[:30]
    assert "Approuver" in shown and "Rejeter" in shown and "Décisions récentes" in shown
    assert f"Réponse {reply_id}" in shown
    assert "1 en attente, la plus ancienne depuis 50 min" in text
    assert "il y a 50 min" in text and "Pourquoi elle attend : texte libre sous la politique template_only" in text
    assert "Approve" not in shown and "Waiting for approval" not in shown
    assert not ISO.search(text), ISO.search(text)
    assert "UTC+01:00" in text  # the local time in the tooltip: Paris in December


def test_a_french_agent_composes_in_french(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    _french(db, "agent")
    item_id, mention_id, _target = _item(db, settings)
    agent = _client(web, "agent")
    panel = find_id(_page(agent, f"/mention/{mention_id}"), "reply")
    assert panel is not None
    shown = _visible(panel)
    assert "Répondre" in shown and "Envoyer" in shown and "Répondu ailleurs" in " ".join(shown), shown
    assert "Aucun modèle approuvé ne convient à cet élément : rédigez un texte libre" in shown
    assert "Send" not in shown and "Reply" not in shown
    inputs = [{"id": "compose-text", "property": "value", "value": "Nous vous rappelons aujourd’hui."},
              {"id": "compose-template", "property": "value", "value": None}, []]
    preview = dash_post(agent, _key(web, "..compose-preview.children"), inputs,
                        [[], {"id": "compose-item", "property": "data", "value": {"id": item_id}}],
                        changed="compose-text.value").get_json()["response"]
    said = " ".join(_visible(preview))
    assert "Sera envoyé ainsi :" in said and "Attend la conformité : texte libre (politique template_only)" in said
    assert not ISO.search(said)
    refused = dash_post(agent, _key(web, "..compose-preview.children"),
                        [{"id": "compose-text", "property": "value", "value": "  "},
                         {"id": "compose-template", "property": "value", "value": None}, []],
                        [[], {"id": "compose-item", "property": "data", "value": {"id": item_id}}],
                        changed="compose-text.value").get_json()["response"]
    assert "Rédigez une réponse ou choisissez un modèle." in json.dumps(refused, ensure_ascii=False)


def test_a_post_scheduled_in_paris_time_is_stored_in_utc(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    _french(db, "agent")
    agent = _client(web, "agent")
    page = _page(agent, "/outbox")
    shown = " ".join(_visible(page))
    assert "Votre fuseau horaire (Europe/Paris) ; laissez la date vide pour envoyer maintenant" in shown, shown
    assert "Nouvelle publication" in shown and "Envois" in shown and not ISO.search(shown)
    network = find_id(page, "outbox-network")["props"]["value"]
    team = find_id(page, "outbox-team")["props"]["value"]
    assert find_id(page, "outbox-language")["props"]["value"] == "fr"  # a French writer's posts: French at first
    states = [{"id": "outbox-template", "property": "value", "value": None},
              {"id": "outbox-text", "property": "value", "value": "Nos agences ferment à 16 h le 24 décembre."},
              {"id": "outbox-network", "property": "value", "value": network},
              {"id": "outbox-team", "property": "value", "value": team},
              {"id": "outbox-brand", "property": "value", "value": None},
              {"id": "outbox-language", "property": "value", "value": "fr"},
              {"id": "outbox-day", "property": "value", "value": "2031-12-20"},
              {"id": "outbox-time", "property": "value", "value": "09:30"}, []]
    answer = dash_post(agent, _key(web, "..outbox-send-alert.children"),
                       [{"id": "outbox-send", "property": "n_clicks", "value": 1}], states).get_json()["response"]
    said = json.dumps(answer, ensure_ascii=False)
    if network is None:  # the test configuration has no account the firm posts from: refused, in French
        assert "choisissez un réseau où l’entreprise a un compte" in said, said
        return
    assert "La publication" in said, said
    with db.read() as s:
        post = s.scalars(select(Reply).where(Reply.kind == "post")).one()
        assert post.send_after == datetime(2031, 12, 20, 8, 30)  # 09:30 in Paris is 08:30 UTC in winter


def test_the_schedule_is_read_in_the_readers_zone(web: Any) -> None:
    from zoneinfo import ZoneInfo

    from dashboard.components.outbound import send_time

    assert send_time("2031-07-01", "09:30", ZoneInfo("Europe/Paris")) == datetime(2031, 7, 1, 7, 30)
    assert send_time("2031-07-01", None, ZoneInfo("America/New_York")) == datetime(2031, 7, 1, 4, 0)
    assert send_time(None, "09:30", ZoneInfo("Europe/Paris")) is None
