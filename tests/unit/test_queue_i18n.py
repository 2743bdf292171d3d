"""The queue's words per reader: stored keys as labels, bulk answers with plurals, refusals of
models.actions, sentences holding components, the grid's context."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dash import html

from dashboard.components.item_actions import Outcome
from dashboard.components.queue_grid import grid_context, with_link
from dashboard.components.sentence import sentence
from i18n import Reader, use_reader
from models.labels import LABELS, label

FRENCH = Reader("fr", ZoneInfo("Europe/Paris"))


def test_stored_keys_read_as_the_readers_words() -> None:
    assert label("status", "claimed") == "claimed" and label("sla", "at risk") == "at risk"
    with use_reader(FRENCH):
        assert label("status", "claimed") == "pris en charge"
        assert label("priority", "high") == "haute"
        assert label("why", "unassigned") == "non attribué"
        assert label("status", "archived-someday") == "archived-someday"  # unknown: as stored
    assert label("status", None) == ""
    assert set(LABELS["status"]) == {"new", "claimed", "resolved", "dismissed"}


def test_a_bulk_answer_counts_in_the_readers_language() -> None:
    done = Outcome(done=[{"id": 1}, {"id": 2}])
    assert done.message("resolve") == ("Resolved 2 items.", "success")
    assert Outcome(done=[{"id": 1}]).message("claim")[0] == "Claimed 1 item."
    with use_reader(FRENCH):
        assert done.message("resolve")[0] == "2 éléments résolus."
        assert Outcome(done=[{"id": 1}]).message("claim")[0] == "1 élément pris en charge."
        many = Outcome(errors=[f"e{n}" for n in range(7)]).message("claim")
        assert many == ("e0. e1. e2. e3. e4. (+2 autres)", "danger")
    # One refusal for four items is said once, with the count (it was said four times in a row).
    same = Outcome(done=[{"id": 1}], errors=["a reason is required to escalate an item"] * 4 + ["item 9 is closed."])
    assert same.message("escalate") == ("Escalated 1 item. a reason is required to escalate an item (4 items). "
                                        "item 9 is closed.", "warning")


def test_a_sentence_keeps_its_components_where_the_language_puts_them() -> None:
    link = html.A("mention 4", href="/mention/4")
    assert sentence("This post is a copy of {mention}.", mention=link) == ["This post is a copy of ", link, "."]
    assert sentence("{who} a approuvé, {time}", who="Zoé", time=link) == ["Zoé a approuvé, ", link]
    assert sentence("no {gap} here") == ["no {gap} here"]


def test_the_grid_context_carries_the_readers_zone_labels_and_links() -> None:
    with use_reader(FRENCH):
        context = grid_context({"legal": "Juridique"})
        rows = with_link([{"mention_id": 7}])
    assert context["language"] == "fr" and context["zone"] == "Europe/Paris"
    assert context["labels"]["status"]["new"] == "nouveau" and context["labels"]["team"] == {"legal": "Juridique"}
    assert context["words"]["ago"] == "il y a {duration}" and context["cells"]["lead"] == "▲ responsable"
    assert rows[0]["link"] == "[Détails](/mention/7)" and rows[0]["reply"] == "[Répondre](/mention/7#reply)"
