"""Outbound screening: the words a firm may not publish, found in a reply before it goes out.

Regulated firms may not promise returns or deny risk in public ("guaranteed returns",
"risk-free", "rendement garanti", "sans risque"). The lexicon is a list of terms per language
(``DEFAULT_SCREEN_TERMS`` plus what the firm adds); ``screen`` returns each term found with the
words of the reply that matched, for the writer to see.

How a term matches (the rule the tests pin down):

- Whole words, on folded text: case, accents and compatibility forms do not matter
  ("Rendements GARANTIS" matches "rendement garanti", "ｒｉｓｋ" matches "risk").
- Words in the term's order. "garantie de rendement" is not "rendement garanti"; the default
  French list catches it with the single word "garanti*".
- Hyphens and spaces are interchangeable: "risk-free", "risk free" and "risk‑free" (non-breaking
  hyphen) match one another; a hyphenated term also matches its words written together
  ("riskfree").
- ``*`` at the end of a word matches any ending (the lexicon author's explicit wildcard).
- Each other word of three letters or more also matches its regular inflections, without the
  author writing them: the word followed by one of the language's endings. English: -s, -es,
  -ed, -d, -ing, and -ing in place of a final e (lose → losing). French: -e, -s, -es, -x
  (garanti → garantie, garantis, garanties; assuré → assurée, assurés). Terms given without a
  language (a plain list) take both sets. Nothing else: "guarantee" matches "guaranteed" (-d)
  but not "guarantor" or "guaranty"; "risk" matches "risks", "risked", "risking" but not "risky";
  short words ("no", "de", "t") match only themselves, so "no risk" is not "nos risques".
- Invisible characters (zero-width spaces and joiners, soft hyphens, bidi controls) are ignored,
  so "gu\u200baranteed" is "guaranteed".

When one hit lies inside a longer one ("guarantee" inside "guaranteed returns"), only the longer
is reported.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from models.terms import Forms, PhraseMatcher, fold, token_spans

ENDINGS: dict[str, tuple[str, ...]] = {
    "en": ("s", "es", "ed", "d", "ing"),
    "fr": ("e", "s", "es", "x"),
}
MIN_STEM = 3  # shorter words are not inflected: "no" + s is French "nos", "can" + e is "cane"
# After folding (NFKD), U+2011 NON-BREAKING HYPHEN is U+2010; en dash joins words too ("risk–free").
HYPHENS = frozenset("-\u2010\u2012\u2013")
_HYPHEN_RUN = re.compile("[-\u2010\u2011\u2012\u2013]+")
# Format characters a reader cannot see (zero-width space/joiners, soft hyphen, bidi controls, BOM).
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

DEFAULT_SCREEN_TERMS: dict[str, tuple[str, ...]] = {
    "en": (
        "guarantee", "guaranteed return", "risk-free", "no risk", "zero risk", "without risk",
        "can't lose", "cannot lose", "cant lose", "double your money", "get rich", "easy money",
        "sure bet", "100% safe", "100% sure", "no downside", "assured return", "promised return",
    ),
    "fr": (
        "garanti*", "rendement garanti", "rendement assuré", "gain assuré", "profit assuré",
        "sans risque", "sans aucun risque", "aucun risque", "zéro risque", "pas de risque",
        "100% sûr", "100% sécurisé", "placement sûr", "doublez votre argent", "doubler votre argent",
        "devenir riche", "argent facile", "vous ne pouvez pas perdre",
    ),
}


@dataclass(frozen=True)
class Hit:
    term: str  # the lexicon entry, as its author wrote it
    found: str  # the words of the reply that matched it


@dataclass(frozen=True)
class Screen:
    matchers: tuple[PhraseMatcher, ...]  # one per set of inflection endings


def inflections(endings: tuple[str, ...]) -> Forms:
    """The forms hook for PhraseMatcher: a word of the text, and each stem it may inflect."""

    def forms(word: str) -> tuple[str, ...]:
        if len(word) <= MIN_STEM or not word.isalpha():
            return (word,)
        found = [word]
        for ending in endings:
            stem = word[: -len(ending)]
            if word.endswith(ending) and len(stem) >= MIN_STEM:
                found.append(stem)
                if ending == "ing":
                    found.append(stem + "e")
        return tuple(dict.fromkeys(found))

    return forms


def _variants(term: str) -> list[str]:
    folded = fold(term).strip()
    spaced = _HYPHEN_RUN.sub(" ", folded)
    joined = _HYPHEN_RUN.sub("", folded)
    return [spaced, joined] if joined != spaced else [spaced]


def compile_screen(terms: Iterable[str] | Mapping[str, Iterable[str]]) -> Screen:
    """The matchers for a lexicon: a plain list of terms, or terms per language ("en", "fr"),
    which then take only that language's inflections. Raises ValueError for a wildcard term with
    fewer than three letters before its ``*``."""
    by_endings: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    groups = terms.items() if isinstance(terms, Mapping) else [("", terms)]
    for language, words in groups:
        endings = ENDINGS.get(language) or tuple(dict.fromkeys(e for es in ENDINGS.values() for e in es))
        entries = by_endings.setdefault(endings, [])
        for term in words:
            entries.extend((term, variant) for variant in _variants(term) if variant)
    return Screen(tuple(PhraseMatcher(entries, inflections(endings)) for endings, entries in by_endings.items()))


def screen(compiled: Screen, text: str) -> tuple[Hit, ...]:
    """Each term of the lexicon found in ``text``, in order of appearance, each (term, words) once."""
    visible = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    for token, start, end in token_spans(visible):
        folded = fold(token)
        if folded and folded not in HYPHENS:  # a lone combining mark folds to nothing
            words.append(folded)
            spans.append((start, end))
    found = [(i, end, label) for matcher in compiled.matchers for label, i, end in matcher.hits(words)]
    hits: dict[Hit, None] = {}
    reach, last_span = -1, (-1, -1)
    # By start, longest first: a hit ending within the reach of an earlier, longer one is inside it.
    for i, end, label in sorted(found, key=lambda hit: (hit[0], hit[0] - hit[1])):
        if (i, end) != last_span and end <= reach:
            continue
        hits[Hit(label, visible[spans[i][0] : spans[end - 1][1]])] = None
        reach, last_span = max(reach, end), (i, end)
    return tuple(hits)
