"""The item page's routing explanation in the reader's language (`dashboard.components.why`): the
stored English sentence is the record; French only where deciding the post again, with the scores
that may have decided, writes that very sentence."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from collectors.pipeline import decide
from config.settings import Settings
from dashboard.components.why import ReaderWords, explanation
from i18n import Reader, use_reader

FRENCH = Reader("fr", ZoneInfo("Europe/Paris"))


def _post(settings: Settings, score: float, label: str, **kw: Any) -> tuple[Any, Any]:
    """A mention and its item as stored, the item's explanation written by the ingest's rules."""
    fields = dict(text="my card got blocked", language="en", sentiment_score=score, sentiment_label=label,
                  brand="Aurelia Bank", is_competitor=False, risk_flags=["card_issue"],
                  risk_terms={"card_issue": ["card got blocked"]}, author_followers=None)
    fields.update(kw)
    mention = SimpleNamespace(**fields)
    _p, route = decide(settings, {f.name: f.severity for f in settings.lexicon}, mention.text, mention.language,
                       score, label, mention.brand, mention.is_competitor, tuple(mention.risk_flags),
                       mention.risk_terms, mention.author_followers)
    return mention, SimpleNamespace(rule_id=route.rule_id, explanation=route.explanation)


def test_french_where_the_decision_is_the_stored_one(base_settings: Settings) -> None:
    mention, item = _post(base_settings, -0.615, "negative", risk_flags=[], risk_terms={})
    assert "sentiment negative (-0.61)" in item.explanation  # Python's rounding of -0.615
    with use_reader(FRENCH):
        said = explanation(base_settings, item, mention, None)
        assert said == ("Règle « unhappy-customer » (Message négatif sur notre marque) : sentiment négatif (-0,61); à "
                        "propos de notre marque Aurelia Bank. Priorité moyenne : très négatif (-0,61).")
        assert ReaderWords(base_settings).score(-0.615) == "-0,61"  # as the record rounds it, never "-0,62"
    assert explanation(base_settings, item, mention, None) == item.explanation  # English: the record itself


def test_the_firm_models_score_or_the_shipped_one_whichever_wrote_the_record(base_settings: Settings) -> None:
    unhappy = "Règle « unhappy-customer » (Message négatif sur notre marque) : sentiment négatif ({score}); à propos " \
              "de notre marque Aurelia Bank. Priorité moyenne : très négatif ({score})."
    plain = {"risk_flags": [], "risk_terms": {}}
    # Written again with the firm's model's score, which decided: that score.
    mention, _item = _post(base_settings, -0.2, "neutral", **plain)
    _m, rewritten = _post(base_settings, -0.9, "negative", **plain)
    by_model = SimpleNamespace(decided_by="model", score=-0.9, label="negative")
    with use_reader(FRENCH):
        assert explanation(base_settings, rewritten, mention, by_model) == unhappy.format(score="-0,90")
    # A record the firm's model left as the shipped model wrote it: the shipped score.
    mention, item = _post(base_settings, -0.55, "negative", **plain)
    by_model = SimpleNamespace(decided_by="model", score=0.1, label="neutral")
    with use_reader(FRENCH):
        assert explanation(base_settings, item, mention, by_model) == unhappy.format(score="-0,55")


def test_the_stored_words_when_the_rules_no_longer_decide_so(base_settings: Settings) -> None:
    mention, item = _post(base_settings, -0.3, "negative")
    edited = SimpleNamespace(rule_id=item.rule_id, explanation=item.explanation.replace("Service problem", "Card"))
    gone = SimpleNamespace(rule_id="a-rule-since-removed", explanation="Rule “a-rule-since-removed” (x): y.")
    with use_reader(FRENCH):
        assert explanation(base_settings, edited, mention, None) == edited.explanation
        assert explanation(base_settings, gone, mention, None) == gone.explanation
        assert explanation(base_settings, item, None, None) == item.explanation
        flagged = SimpleNamespace(**{**vars(mention), "risk_flags": []})  # its flags changed since
        assert explanation(base_settings, item, flagged, None) == item.explanation
