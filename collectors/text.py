"""Text normalisation, brand matching and risk lexicons: pure functions over settings.

Matching is done on a "folded" copy of the text (Unicode NFKD, accents removed,
case folded) so that "Crédit Lumière", "credit lumiere" and "CRÉDIT LUMIÈRE" are one
brand and "arnaqué" hits the term "arnaque*". Terms written in capitals (CFPB, SEC,
AMF) are matched on the unfolded-case text only, so French "sec" is not the SEC.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from config.settings import Brand, LexiconFlag

MAX_TEXT_CHARS = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_REPOST_PREFIX = re.compile(r"^\s*(rt|repost|via)\s+@[\w.]+:?\s*", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+")
_HANDLE = re.compile(r"@[\w.]+")


def normalize_text(text: str) -> str:
    """NFC, no control or bidi-override characters, runs of spaces collapsed, bounded length."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_TEXT_CHARS]


def fold(text: str) -> str:
    """Accent- and case-insensitive form used for matching."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def cluster_key(text: str) -> str:
    """Same words in the same order, whatever the network, repost prefix, handles or punctuation."""
    body = _REPOST_PREFIX.sub("", text)
    body = _HANDLE.sub(" ", fold(body))
    body = _NON_WORD.sub(" ", body).strip()
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


def _term_pattern(term: str) -> str:
    wildcard = term.endswith("*")
    core = term[:-1] if wildcard else term
    escaped = re.escape(core).replace(r"\ ", r"\s+")
    tail = r"\w*" if wildcard else ""
    # \b fails next to '$' or '@', so use look-arounds on word characters instead.
    return rf"(?<!\w){escaped}{tail}(?!\w)"


def _compile(terms: Iterable[str], case_sensitive: bool) -> re.Pattern[str] | None:
    patterns = sorted({_term_pattern(t) for t in terms}, key=len, reverse=True)
    if not patterns:
        return None
    return re.compile("|".join(patterns), 0 if case_sensitive else re.IGNORECASE)


def _is_acronym(term: str) -> bool:
    letters = [c for c in term if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


@dataclass(frozen=True)
class CompiledFlag:
    name: str
    severity: str
    folded: re.Pattern[str] | None  # matched against fold(text)
    acronyms: re.Pattern[str] | None  # matched against strip_accents(text), case-sensitive


@dataclass(frozen=True)
class RiskMatch:
    flags: tuple[str, ...]
    terms: dict[str, list[str]]  # flag -> the words of the post that matched it


def compile_lexicon(lexicon: Iterable[LexiconFlag]) -> tuple[CompiledFlag, ...]:
    compiled = []
    for flag in lexicon:
        terms = [t for words in flag.terms.values() for t in words]
        plain = [fold(t) for t in terms if not _is_acronym(t)]
        acronyms = [strip_accents(t) for t in terms if _is_acronym(t)]
        compiled.append(
            CompiledFlag(flag.name, flag.severity, _compile(plain, False), _compile(acronyms, True))
        )
    return tuple(compiled)


def match_risk(lexicon: tuple[CompiledFlag, ...], folded: str, unaccented: str) -> RiskMatch:
    flags: list[str] = []
    terms: dict[str, list[str]] = {}
    for flag in lexicon:
        found: list[str] = []
        if flag.folded is not None:
            found.extend(m.group(0) for m in flag.folded.finditer(folded))
        if flag.acronyms is not None:
            found.extend(m.group(0) for m in flag.acronyms.finditer(unaccented))
        if found:
            flags.append(flag.name)
            terms[flag.name] = sorted(set(found))[:5]
    return RiskMatch(tuple(flags), terms)


@dataclass(frozen=True)
class CompiledBrand:
    name: str
    competitor: bool
    pattern: re.Pattern[str]


def compile_brands(brands: Iterable[Brand]) -> tuple[CompiledBrand, ...]:
    """Own brands first, then competitors, each as one folded pattern."""
    ordered = sorted(brands, key=lambda b: b.competitor)
    out = []
    for brand in ordered:
        parts = [_term_pattern(fold(h)) for h in brand.handles] + [_term_pattern(fold(k)) for k in brand.keywords]
        out.append(CompiledBrand(brand.name, brand.competitor, re.compile("|".join(parts))))
    return tuple(out)


def match_brand(brands: tuple[CompiledBrand, ...], folded: str) -> tuple[str | None, bool]:
    """The first brand named; a post naming our brand and a competitor counts as ours."""
    for brand in brands:
        if brand.pattern.search(folded):
            return brand.name, brand.competitor
    return None, False
