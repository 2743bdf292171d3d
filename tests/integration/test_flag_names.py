"""Risk flags, teams and routing reasons in the reader's language (lexicons.yaml and teams.yaml
``labels``, routing.yaml ``descriptions``), never by their keys: the item page's badges, correction
buttons and routing explanation (stored in English, the record; shown in French only where deciding
the post again gives the stored sentence), the queue grid, supervision's reasons, the library's
teams. Through Dash's real endpoint, for an agent who reads French and one who reads English."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from config.settings import Settings
from dashboard.components import names
from i18n import Reader, use_reader
from models.db import Database
from models.tables import QueueItem
from models.users import set_preferences
from tests.kit import seed_items
from tests.web import children_text, dash_post, find_id, make_accounts, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
CARD = "@AureliaBank my card got blocked again, useless bank"  # flagged card_issue, customer service


def _layout(client: Any, path: str) -> Any:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": ""}])
    assert response.status_code == 200
    return response.get_json()["response"]["_pages_content"]["children"]


def _agent(web: Any, db: Database, settings: Settings, language: str) -> tuple[Any, int]:
    make_accounts(db, settings)
    (item_id,) = seed_items(db, settings, [CARD], prefix=f"names-{language}-")
    with db.write.begin() as s:
        set_preferences(s, "agent", language, "Europe/Paris", actor="test")
        row = s.get(QueueItem, item_id)
        assert row is not None and row.team == "customer_service"
        mention = row.mention_id
    client = web.server.test_client()
    assert sign_in(client, "agent").status_code == 302
    return client, mention


def test_a_french_agent_reads_flags_by_their_french_names(web: Any, db: Database, settings: Settings) -> None:
    client, mention = _agent(web, db, settings, "fr")
    layout = _layout(client, f"/mention/{mention}")
    shown = " ".join(children_text(layout))
    assert "Problème de carte : déclenché par card got blocked" in shown  # the flag's badge
    assert "card_issue : déclenché" not in shown and "Card issue" not in shown
    assert children_text(find_id(layout, "mention-explanation")) == [
        "Règle « service-problem » (Problème de service (panne, carte, frais, accès au compte)) : signal de risque "
        "Problème de carte (card got blocked); à propos de notre marque Aurelia Bank. Priorité haute : le signal "
        "« Problème de carte » est de priorité haute."]
    buttons = " ".join(children_text(find_id(layout, "correct-box")))
    assert "Pas « Problème de carte »" in buttons and "Relève de Juridique et conformité" in buttons
    assert "card_issue" not in buttons

    grid = find_id(_layout(client, "/queue/customer_service"), "queue-grid")["props"]
    context = grid["dashGridOptions"]["context"]
    assert context["labels"]["flag"]["card_issue"] == "Problème de carte"
    assert context["labels"]["flag"]["fraud"] == "Fraude"
    column = next(c for c in grid["columnDefs"] if c.get("field") == "flags")
    assert column["valueFormatter"]["function"] == "vigieQueue.labels(params, 'flag')"
    assert "'flag'" in column["filterValueGetter"]["function"]  # filtered on the names shown


def test_a_decision_the_rules_no_longer_make_keeps_its_stored_words(web: Any, db: Database,
                                                                     settings: Settings) -> None:
    """The stored explanation is the record: when deciding the post again does not give the same
    sentence (rules, lexicons or scores changed since), a French reader sees it as it was stored."""
    client, mention = _agent(web, db, settings, "fr")
    stored = "Rule “service-problem” (Card trouble, before the rules were edited): risk flag card_issue."
    with db.write.begin() as s:
        row = s.scalars(select(QueueItem).where(QueueItem.mention_id == mention)).one()
        row.explanation = stored
    assert children_text(find_id(_layout(client, f"/mention/{mention}"), "mention-explanation")) == [stored]


def test_an_english_agent_reads_the_english_names(web: Any, db: Database, settings: Settings) -> None:
    client, mention = _agent(web, db, settings, "en")
    layout = _layout(client, f"/mention/{mention}")
    assert "Card issue: fired by card got blocked" in " ".join(children_text(layout))
    explained = " ".join(children_text(find_id(layout, "mention-explanation")))
    assert explained.startswith("Rule “service-problem” (Service problem (outage, card, fees, account access)): "
                                "risk flag card_issue (card got blocked)")  # as stored
    buttons = " ".join(children_text(find_id(layout, "correct-box")))
    assert "Not “Card issue”" in buttons and "card_issue" not in buttons
    context = find_id(_layout(client, "/queue/customer_service"), "queue-grid")["props"]["dashGridOptions"]["context"]
    assert context["labels"]["flag"]["legal_threat"] == "Legal threat"


def test_supervision_reasons_and_library_teams_are_named(web: Any, settings: Settings) -> None:
    from collectors.nlp.sentiment import explain_sentiment
    from dashboard.pages.library import build_rows  # page modules: imported once the app exists
    from dashboard.pages.mention import _moved, _word

    moved = dict(explain_sentiment("personne ne répond, inadmissible", "fr"))
    assert "~répond" in moved  # a negated word, as its feature
    assert "pas" in dict(explain_sentiment("je ne suis pas content", "fr"))  # a negator as itself, never "~pas"

    with web.server.app_context():
        with use_reader(Reader("fr", ZoneInfo("Europe/Paris"))):
            assert names.review_reason("flag:fraud,phishing") == "signalé : Fraude, Hameçonnage"
            assert names.review_reason("flag:gone_from_config") == "signalé : gone_from_config"  # kept as stored
            assert names.review_reason("sample") == "échantillon aléatoire"
            assert names.team_name("legal") == "Juridique et conformité"
            assert _word("~répond") == "répond (nié)" and _word("répond") == "répond"
            entry = {"template_id": 1, "key": "k", "language": "fr", "kind": "reply", "in_use": None,
                     "latest": _Version(teams=["customer_service", "legal"])}
            row = build_rows([entry], None, None, None, names.team_names())[0]
            assert row["teams"] == "Service client, Juridique et conformité"
        with use_reader(Reader("en", ZoneInfo("UTC"))):
            assert names.review_reason("flag:fraud") == "flagged: Fraud"
            assert names.flag_name("vulnerable_customer") == "Vulnerable customer"
            assert _word("~answers") == "not answers"
            # the negated word and its bigram read alike: counted once
            assert _moved([("not happy", -1.27), ("~happy", -1.24), ("bank", -1.15), ("~with", 0.02)]) == [
                ("not happy", -2.51), ("bank", -1.15)]


class _Version:
    """A template version as the library's rows read it."""

    def __init__(self, teams: list[str]) -> None:
        self.teams, self.networks, self.category, self.title = teams, [], "cards", "Card blocked"
        self.version, self.status, self.expires_at = 1, "draft", None


def test_every_shipped_flag_and_team_has_a_french_name(settings: Settings) -> None:
    """A French reader never meets a key: each flag and team of the shipped configuration is named in French."""
    assert settings.lexicon and all(flag.labels.get("fr") for flag in settings.lexicon)
    assert all(team.labels.get("fr") for team in settings.teams)
    assert len({flag.labels["fr"] for flag in settings.lexicon}) == len(settings.lexicon)  # no two alike
    assert not [f.english for f in settings.lexicon if "_" in f.english]  # English names, not keys
