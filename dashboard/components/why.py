"""Why an item is where it is, in the reader's language: the routing explanation stored on the item
is English (it is the record, written at ingest by `collectors.routing`); the item page shows it in
French by deciding the post again with the same rules and writing the same reasons with the
reader's words. Only when that decision reads, in English, exactly as the stored one does: if the
rules, the lexicons or the scores changed since, the stored sentence is shown as it is.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_decimal_symbol

from collectors.routing import Scored, Words, explain, matched, priority_reasons, written
from config.rules import RoutingRule
from config.settings import Settings
from dashboard.components.readable import number
from i18n import _, current_reader
from models.labels import label


class ReaderWords(Words):
    """The reader's words for an explanation's values: flags and rules by their names in the
    reader's language, scores and counts as the reader writes numbers."""

    def __init__(self, settings: Settings) -> None:
        self.flags = {f.name: f.label for f in settings.lexicon}

    def text(self, template: str) -> str:
        return _(template)

    def flag(self, key: str) -> str:
        return self.flags.get(key, key)

    def score(self, value: float) -> str:
        # Rounded as the stored English rounds it (Python's float formatting), then written the
        # reader's way: -0.615 is "-0.61" in the record, so "-0,61" here, never "-0,62".
        return f"{value:+.2f}".replace(".", get_decimal_symbol(current_reader().language))

    def count(self, value: int) -> str:
        return number(value)

    def priority(self, key: str) -> str:
        return label("priority", key)

    def sentiment(self, key: str) -> str:
        return label("sentiment", key)

    def rule(self, rule: RoutingRule) -> str:
        return rule.label


def explanation(settings: Settings, item: Any, mention: Any, by_model: Any) -> str:
    """The item's routing explanation for the current reader; ``by_model``: the firm's model's score of
    the post (`models.judgement_tables.ModelScore`, or None), whose label decided where it did."""
    stored = str(item.explanation)
    if current_reader().language == "en" or mention is None:
        return stored
    rule = next((r for r in settings.rules if r.id == item.rule_id), None)
    if rule is None:
        return stored
    # The scores that may have decided: the firm's model's where it did (the explanation is then
    # written again), else the shipped model's (also when the firm's model changed nothing else).
    judged = [(float(mention.sentiment_score), str(mention.sentiment_label))]
    if by_model is not None and by_model.decided_by == "model":
        judged.insert(0, (float(by_model.score), str(by_model.label)))
    flags = tuple(mention.risk_flags or ())
    severities = {f.name: f.severity for f in settings.lexicon}
    for score, sentiment in judged:
        priority, reasons = priority_reasons(flags, severities, score, mention.author_followers,
                                             settings.influencer_followers)
        post = Scored(mention.text, mention.language, score, sentiment, mention.brand, bool(mention.is_competitor),
                      flags, dict(mention.risk_terms or {}), mention.author_followers, priority)
        found = matched(rule, post)
        if found is not None and explain(rule, found, priority, ", ".join(written(r) for r in reasons)) == stored:
            words = ReaderWords(settings)
            return explain(rule, found, priority, ", ".join(written(r, words) for r in reasons), words)
    return stored  # not a decision these rules make of this post now: the stored words
