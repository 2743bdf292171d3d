"""The enrichment pipeline: RawPost → normalised, scored, prioritised and routed.

normalize → cluster key (cross-network dedupe) → language → sentiment → brand →
risk flags (lexicons) → priority → routing. Storage (dedupe against the database,
the transaction with the cursor) lives in `collectors.store`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collectors.nlp.language import detect_language
from collectors.nlp.sentiment import score_sentiment
from collectors.routing import PRIORITY_RANK, Route, Scored, compute_priority, route
from collectors.text import (
    cluster_key,
    compile_brands,
    compile_lexicon,
    fold,
    link_key,
    match_brand,
    match_risk,
    normalize_text,
    strip_accents,
    text_key,
    tokenize,
)
from collectors.types import RawPost
from config.settings import Settings
from models.sla import SlaClock
from models.tables import to_naive_utc

MAX_FOLLOWERS = 2**31 - 1
MAX_ID_CHARS = 200


@dataclass(frozen=True)
class Enriched:
    """A post ready to store: the mention's columns and its route."""

    mention: dict[str, Any]
    route: Route
    due_at: datetime
    at_risk_at: datetime
    raw: Any = None  # the platform's item as received (`RawPost.raw`), for the archive

    @property
    def external_id(self) -> str:
        return str(self.mention["external_id"])

    @property
    def cluster_key(self) -> str:
        return str(self.mention["cluster_key"])


class Enricher:
    """Compiled once from settings; `enrich()` is then a pure function of the post."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lexicon = compile_lexicon(settings.lexicon)
        self.severities = {f.name: f.severity for f in settings.lexicon}
        self.brands = compile_brands(settings.brands)
        self.clock = SlaClock.from_settings(settings)
        self._due: dict[tuple[str, str, datetime], tuple[datetime, datetime]] = {}

    def _deadlines(self, team: str, priority: str, start: datetime) -> tuple[datetime, datetime]:
        """The clock's answer, remembered: a batch shares one collection time, so a handful of
        (team, priority) pairs cover it (the business-hours walk is the costly part)."""
        key = (team, priority, start)
        found = self._due.get(key)
        if found is None:
            if len(self._due) > 1000:
                self._due.clear()
            found = self._due[key] = self.clock.deadlines(team, priority, start)
        return found

    def score(self, raw: RawPost) -> tuple[str, str, float, str]:
        """Text, language and sentiment: the costly part, also measured alone by the benchmark."""
        text = normalize_text(raw.text)
        language = detect_language(text, raw.language_hint)
        score, label = score_sentiment(text, language)
        return text, language, score, label

    def warm_up(self) -> None:
        """Load the language and sentiment models now (a second or more on a busy host) rather than
        inside the first poll: a standby collector then takes a dead one's sources over at once."""
        for language in ("en", "fr"):
            score_sentiment("warm up", language)
        detect_language("the models load once, before the first poll")

    def enrich(self, raw: RawPost, collected_at: datetime) -> Enriched:
        text, language, score, label = self.score(raw)
        folded = fold(text)
        words = tokenize(folded)
        brand, competitor = match_brand(self.brands, folded, words)
        risk = match_risk(self.lexicon, folded, strip_accents(text), words)
        followers = raw.author_followers if raw.author_followers and raw.author_followers > 0 else None
        if followers is not None:  # a platform's odd count must not sink the batch (int4 on PostgreSQL)
            followers = min(int(followers), MAX_FOLLOWERS)
        priority, decided = decide(self.settings, self.severities, text, language, score, label, brand, competitor,
                                   risk.flags, risk.terms, followers)
        at_risk, due = self._deadlines(decided.team, priority, collected_at)
        mention = {
            "external_id": storable_id(raw.external_id),
            "network": raw.network[:40],
            "url": raw.url,
            "author_handle": (raw.author_handle or None) and raw.author_handle[:200],
            "author_name": (raw.author_name or None) and raw.author_name[:300],
            "author_followers": followers,
            "text": text,
            "language": language,
            "created_at": to_naive_utc(raw.created_at),
            "collected_at": collected_at,
            "sentiment_score": round(score, 4),
            "sentiment_label": label,
            "brand": brand,
            "is_competitor": competitor,
            "risk_flags": list(risk.flags),
            "risk_terms": risk.terms,
            "priority": priority,
            "cluster_key": cluster_key(text, raw.author_handle, folded),
            "text_key": text_key(text, folded),
            "link_key": link_key(text, raw.links),
        }
        return Enriched(mention, decided, due, at_risk, raw.raw)


def decide(settings: Settings, severities: dict[str, str], text: str, language: str, score: float, label: str,
           brand: str | None, competitor: bool, flags: tuple[str, ...], terms: dict[str, list[str]],
           followers: int | None) -> tuple[str, Route]:
    """(priority, route) of a judged post, by the settings' rules: one rule for the ingest and for a
    firm's own model (`collectors.jobs.rescore_sentiment`)."""
    priority, why = compute_priority(flags, severities, score, followers, settings.influencer_followers)
    post = Scored(text, language, score, label, brand, competitor, flags, terms, followers, priority)
    return priority, route(settings.rules, post, why)


def storable_id(external_id: str) -> str:
    """Ids fit the 200-character column; longer ones (tracking URLs used as guids) keep a prefix
    and a hash of the whole, so two long ids sharing a prefix stay two items."""
    if len(external_id) <= MAX_ID_CHARS:
        return external_id
    return external_id[:150] + "#" + hashlib.sha1(external_id.encode()).hexdigest()


def priority_rank(priority: str) -> int:
    return PRIORITY_RANK[priority]
