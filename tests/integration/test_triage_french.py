"""The triage page and its bulk answers for a lead who reads French (account language and zone),
through Dash's real endpoint: French words, the grid's context for the reader, relative times."""

from __future__ import annotations

import re
from typing import Any

from config.settings import Settings
from models import actions
from models.db import Database
from models.users import set_preferences
from tests.kit import seed_items
from tests.web import children_text, dash_post, find_id, make_accounts, plain_strings, sign_in, spec_inputs

ROUTER = ".._pages_content.children..._pages_store.data.."
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
TEXTS = ["@AureliaBank my card got declined again at the shop", "@AureliaBank my card was blocked at the ATM, help"]


def test_a_french_lead_reads_triage_and_its_answers_in_french(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    first, second = seed_items(db, settings, TEXTS, prefix="fr-")
    with db.write.begin() as s:
        set_preferences(s, "lead", "fr", "Europe/Paris", actor="test")
        actions.claim(s, first, "agent")
    client = web.server.test_client()
    assert sign_in(client, "lead").status_code == 302
    page = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": "/triage"},
                                      {"id": "_pages_location", "property": "search", "value": ""}])
    assert page.status_code == 200
    answer = page.get_json()["response"]
    assert answer["_pages_store"]["data"]["title"] == "Tri · Vigie"
    layout = answer["_pages_content"]["children"]
    grid = find_id(layout, "triage-grid")["props"]
    assert [c["headerName"] for c in grid["columnDefs"]][:3] == ["Pourquoi ici", "Priorité", "Équipe"]
    context = grid["dashGridOptions"]["context"]
    assert (context["language"], context["zone"]) == ("fr", "Europe/Paris")
    assert context["labels"]["why"]["unassigned"] == "non attribué" and context["labels"]["status"]["new"] == "nouveau"
    assert grid["dashGridOptions"]["localeText"]["noRowsToShow"] == "Aucun élément à afficher"
    plain_strings(layout)  # (no component that could render HTML)
    shown = " ".join(children_text(find_id(layout, "triage-counts"))
                     + children_text(find_id(layout, "triage-workload")))
    assert "1 non attribué" in shown and "1 non attribués" not in shown  # French plurals: 0 and 1 are singular
    assert "Plus ancienne prise en charge" in shown and "à l’instant" in shown
    assert not ISO_TIME.search(shown)

    bulk = next(k for k in web.callback_map if k.startswith("..triage-alert.children"))
    entry = web.callback_map[bulk]
    values = {"triage-grid.selectedRows": [{"id": first}, {"id": second}], "triage-reason.value": "réglé"}
    done = dash_post(client, bulk, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values),
                     changed="triage-resolve.n_clicks")
    assert done.get_json()["response"]["triage-alert"]["children"] == "2 éléments résolus."
    again = dash_post(client, bulk, spec_inputs(entry["inputs"], values), spec_inputs(entry["state"], values),
                      changed="triage-resolve.n_clicks")
    refused = again.get_json()["response"]["triage-alert"]["children"]
    assert refused.startswith(f"l’élément {first} est résolu ; seuls les éléments nouveaux ou pris en charge")
