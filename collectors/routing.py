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
from typing import Any

from config.settings import PRIORITIES, RoutingRule

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


def compute_priority(
    flags: tuple[str, ...],
    severities: Mapping[str, str],
    sentiment_score: float,
    followers: int | None,
    influencer_followers: int,
) -> tuple[str, str]:
    """Priority and the reason for it.

    The base is the most severe flag's severity (low when there is none); a strongly
    negative post is at least medium; an influential author raises an actionable
    post (one with a flag or negative sentiment) one step; spam is always low.
    """
    if "spam" in flags:
        return "low", "spam is always low priority"
    rank = PRIORITY_RANK["low"]
    reason = "no risk flag"
    for flag in flags:
        sev = PRIORITY_RANK[severities.get(flag, "low")]
        if sev < rank:
            rank, reason = sev, f"flag {flag} is {PRIORITIES[sev]}"
    if sentiment_score <= -0.5 and rank > PRIORITY_RANK["medium"]:
        rank, reason = PRIORITY_RANK["medium"], f"strongly negative ({sentiment_score:+.2f})"
    actionable = bool(flags) or sentiment_score < -0.05
    if followers is not None and followers >= influencer_followers and actionable and rank > 0:
        rank -= 1
        reason += f", raised one step for an author with {followers:,} followers"
    return PRIORITIES[rank], reason


def _flags_any(m: Scored, wanted: tuple[str, ...]) -> str | None:
    hits = [f for f in wanted if f in m.flags]
    if not hits:
        return None
    parts = [f"{f} ({', '.join(m.terms.get(f, [])[:3])})" for f in hits]
    return "risk flag " + "; ".join(parts)


def _sentiment(m: Scored, wanted: str) -> str | None:
    return f"sentiment {wanted} ({m.sentiment_score:+.2f})" if m.sentiment_label == wanted else None


def _sentiment_below(m: Scored, limit: float) -> str | None:
    return f"sentiment {m.sentiment_score:+.2f} below {limit:+.2f}" if m.sentiment_score < limit else None


def _competitor(m: Scored, wanted: bool) -> str | None:
    if m.is_competitor != wanted:
        return None
    if wanted:
        return f"about competitor {m.brand}"
    return f"about our brand {m.brand}" if m.brand else "not about a competitor"


def _brand_any(m: Scored, wanted: tuple[str, ...]) -> str | None:
    return f"brand {m.brand}" if m.brand in wanted else None


def _language_any(m: Scored, wanted: tuple[str, ...]) -> str | None:
    return f"language {m.language}" if m.language in wanted else None


def _priority_at_least(m: Scored, wanted: str) -> str | None:
    ok = PRIORITY_RANK[m.priority] <= PRIORITY_RANK[wanted]
    return f"priority {m.priority} (at least {wanted})" if ok else None


def _min_followers(m: Scored, wanted: int) -> str | None:
    if m.followers is not None and m.followers >= wanted:
        return f"author has {m.followers:,} followers (at least {wanted:,})"
    return None


def _text_regex(m: Scored, pattern: str) -> str | None:
    found = re.search(pattern, m.text, re.IGNORECASE)
    return f"text matches /{pattern}/ (“{found.group(0)[:40]}”)" if found else None


CONDITIONS: dict[str, Callable[[Scored, Any], str | None]] = {
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


def route(rules: tuple[RoutingRule, ...], mention: Scored, priority_reason: str) -> Route:
    """First matching rule → team, with a human-readable explanation of every condition."""
    for rule in rules:
        reasons: list[str] = []
        for name, wanted in rule.when.items():
            reason = CONDITIONS[name](mention, wanted)
            if reason is None:
                break
            reasons.append(reason)
        else:
            why = "; ".join(reasons) if reasons else "no earlier rule matched"
            explanation = (
                f"Rule “{rule.id}” ({rule.description}): {why}. "
                f"Priority {mention.priority}: {priority_reason}."
            )
            return Route(rule.team, rule.id, rule.status, explanation)
    raise ValueError("routing rules have no default rule")  # settings guarantee one
