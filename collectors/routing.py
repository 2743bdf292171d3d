"""Priority and routing: pure functions from a scored mention to a team, with the reason.

Routing rules come from `routing.yaml`, in order; the first rule whose every
condition holds wins. Each condition explains itself in words, and the explanation
stored on the queue item is built from those words, so an agent reads *why* an item
is in their queue ("risk flag regulator (CFPB); priority critical because …").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from config.settings import PRIORITIES, RoutingRule
from i18n import N_

PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}


@dataclass(frozen=True)
class Scored:
    """What routing looks at: the mention's scores, not its storage."""

    text: str
    language: str
    sentiment_score: float
    sentiment_label: str
    brand: str | None
    is_competitor: bool
    flags: tuple[str, ...]
    terms: Mapping[str, list[str]]
    followers: int | None
    priority: str


@dataclass(frozen=True)
class Route:
    team: str
    rule_id: str
    status: str
    explanation: str


class Words:
    """How an explanation's values are written: in English as stored (this class), or in a reader's
    language (the item page's subclass, `dashboard.components.why`)."""

    def text(self, template: str) -> str:
        return template

    def flag(self, key: str) -> str:
        return key

    def score(self, value: float) -> str:
        return f"{value:+.2f}"

    def count(self, value: int) -> str:
        return f"{value:,}"

    def priority(self, key: str) -> str:
        return key

    def sentiment(self, key: str) -> str:
        return key

    def rule(self, rule: RoutingRule) -> str:
        return rule.description


ENGLISH = Words()
# How a value is written, by its placeholder's name (the others are shown as they are).
KINDS = {"flag": "flag", "score": "score", "limit": "score", "followers": "count", "least": "count",
         "priority": "priority", "floor": "priority", "label": "sentiment"}


class Reason(NamedTuple):  # a named tuple, not a dataclass: one or two are made for every post collected
    """One clause of an explanation: its sentence (English, marked for the catalogue) and its values."""

    template: str
    values: tuple[tuple[str, Any], ...] = ()


def _english_flags(hits: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return "; ".join(f"{f} ({', '.join(terms)})" for f, terms in hits)


_ENGLISH: dict[str, Callable[[Any], str]] = {
    "flags": _english_flags, "score": ENGLISH.score, "limit": ENGLISH.score, "followers": ENGLISH.count,
    "least": ENGLISH.count}  # the values English writes otherwise than as they are (flags, priorities: keys)


def written(reason: Reason, words: Words = ENGLISH) -> str:
    """``reason`` as ``words`` write it (English by default: the stored explanation)."""
    template, pairs = reason
    if words is ENGLISH:  # the ingest's path, once or twice for every post collected: no lookups
        return template.format_map({name: _ENGLISH[name](value) if name in _ENGLISH else value
                                    for name, value in pairs})
    values: dict[str, Any] = {}
    for name, value in pairs:
        if name == "flags":  # (flag, its terms) pairs
            values[name] = "; ".join(f"{words.flag(f)} ({', '.join(terms)})" for f, terms in value)
        else:
            kind = KINDS.get(name)
            values[name] = getattr(words, kind)(value) if kind else value
    return words.text(template).format_map(values)


def priority_reasons(
    flags: tuple[str, ...],
    severities: Mapping[str, str],
    sentiment_score: float,
    followers: int | None,
    influencer_followers: int,
) -> tuple[str, tuple[Reason, ...]]:
    """Priority and the reasons for it.

    The base is the most severe flag's severity (low when there is none); a strongly
    negative post is at least medium; an influential author raises an actionable
    post (one with a flag or negative sentiment) one step; spam is always low.
    """
    if "spam" in flags:
        return "low", (Reason(N_("spam is always low priority")),)
    rank = PRIORITY_RANK["low"]
    reason = Reason(N_("no risk flag"))
    for flag in flags:
        sev = PRIORITY_RANK[severities.get(flag, "low")]
        if sev < rank:
            rank, reason = sev, Reason(N_("flag {flag} is {priority}"), (("flag", flag), ("priority", PRIORITIES[sev])))
    if sentiment_score <= -0.5 and rank > PRIORITY_RANK["medium"]:
        rank, reason = PRIORITY_RANK["medium"], Reason(N_("strongly negative ({score})"), (("score", sentiment_score),))
    actionable = bool(flags) or sentiment_score < -0.05
    if followers is not None and followers >= influencer_followers and actionable and rank > 0:
        raised = Reason(N_("raised one step for an author with {followers} followers"), (("followers", followers),))
        return PRIORITIES[rank - 1], (reason, raised)
    return PRIORITIES[rank], (reason,)


def compute_priority(
    flags: tuple[str, ...],
    severities: Mapping[str, str],
    sentiment_score: float,
    followers: int | None,
    influencer_followers: int,
) -> tuple[str, str]:
    """Priority and the reason for it, in English (`priority_reasons`, written)."""
    priority, reasons = priority_reasons(flags, severities, sentiment_score, followers, influencer_followers)
    return priority, ", ".join(written(r) for r in reasons)


def _flags_any(m: Scored, wanted: tuple[str, ...]) -> Reason | None:
    if not m.flags:
        return None
    hits = [f for f in wanted if f in m.flags]
    if not hits:
        return None
    return Reason(N_("risk flag {flags}"), (("flags", tuple((f, tuple(m.terms.get(f, [])[:3])) for f in hits)),))


def _sentiment(m: Scored, wanted: str) -> Reason | None:
    if m.sentiment_label != wanted:
        return None
    return Reason(N_("sentiment {label} ({score})"), (("label", wanted), ("score", m.sentiment_score)))


def _sentiment_below(m: Scored, limit: float) -> Reason | None:
    if m.sentiment_score >= limit:
        return None
    return Reason(N_("sentiment {score} below {limit}"), (("score", m.sentiment_score), ("limit", limit)))


def _competitor(m: Scored, wanted: bool) -> Reason | None:
    if m.is_competitor != wanted:
        return None
    if wanted:
        return Reason(N_("about competitor {brand}"), (("brand", m.brand),))
    return Reason(N_("about our brand {brand}"), (("brand", m.brand),)) if m.brand else \
        Reason(N_("not about a competitor"))


def _brand_any(m: Scored, wanted: tuple[str, ...]) -> Reason | None:
    return Reason(N_("brand {brand}"), (("brand", m.brand),)) if m.brand in wanted else None


def _language_any(m: Scored, wanted: tuple[str, ...]) -> Reason | None:
    return Reason(N_("language {language}"), (("language", m.language),)) if m.language in wanted else None


def _priority_at_least(m: Scored, wanted: str) -> Reason | None:
    if PRIORITY_RANK[m.priority] > PRIORITY_RANK[wanted]:
        return None
    return Reason(N_("priority {priority} (at least {floor})"), (("priority", m.priority), ("floor", wanted)))


def _min_followers(m: Scored, wanted: int) -> Reason | None:
    if m.followers is None or m.followers < wanted:
        return None
    return Reason(N_("author has {followers} followers (at least {least})"),
                  (("followers", m.followers), ("least", wanted)))


def _text_regex(m: Scored, pattern: str) -> Reason | None:
    found = re.search(pattern, m.text, re.IGNORECASE)
    if not found:
        return None
    return Reason(N_("text matches /{pattern}/ (“{found}”)"), (("pattern", pattern), ("found", found.group(0)[:40])))


CONDITIONS: dict[str, Callable[[Scored, Any], Reason | None]] = {
    "flags_any": _flags_any,
    "sentiment": _sentiment,
    "sentiment_below": _sentiment_below,
    "competitor": _competitor,
    "brand_any": _brand_any,
    "language_any": _language_any,
    "priority_at_least": _priority_at_least,
    "min_followers": _min_followers,
    "text_regex": _text_regex,
}


def matched(rule: RoutingRule, mention: Scored) -> tuple[Reason, ...] | None:
    """Why ``rule`` holds for ``mention`` (one reason per condition; none for a rule without
    conditions), or None when one of its conditions does not."""
    reasons: list[Reason] = []
    for name, wanted in rule.when.items():
        reason = CONDITIONS[name](mention, wanted)
        if reason is None:
            return None
        reasons.append(reason)
    return tuple(reasons)


NO_EARLIER_RULE = N_("no earlier rule matched")


def explain(rule: RoutingRule, reasons: tuple[Reason, ...], priority: str, priority_why: str,
            words: Words = ENGLISH) -> str:
    """The sentence stored on the item (English) or shown to a reader (``words``): the rule, why it
    matched, and the priority with its reason (``priority_why``, already written)."""
    if words is ENGLISH:  # the ingest's path: no lookups
        why = "; ".join([written(r) for r in reasons]) if reasons else NO_EARLIER_RULE
        return f"Rule “{rule.id}” ({rule.description}): {why}. Priority {priority}: {priority_why}."
    why = "; ".join([written(r, words) for r in reasons]) if reasons else words.text(NO_EARLIER_RULE)
    return words.text(N_("Rule “{rule}” ({description}): {why}. Priority {priority}: {reason}.")).format(
        rule=rule.id, description=words.rule(rule), why=why, priority=words.priority(priority), reason=priority_why)


def route(rules: tuple[RoutingRule, ...], mention: Scored, priority_reason: str) -> Route:
    """First matching rule → team, with a human-readable explanation of every condition."""
    for rule in rules:
        reasons = matched(rule, mention)
        if reasons is not None:
            return Route(rule.team, rule.id, rule.status, explain(rule, reasons, mention.priority, priority_reason))
    raise ValueError("routing rules have no default rule")  # settings guarantee one
