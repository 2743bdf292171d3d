"""Whole-word term matching shared by the inbound risk lexicons and the outbound screen.

Text and terms are compared on a "folded" form (Unicode NFKD, accents removed, case folded),
so "Crédit Lumière", "credit lumiere" and "CRÉDIT LUMIÈRE" are one phrase and "arnaqué" hits
the term "arnaque*". It lives in models/ (not collectors/) because the reply composer in
models/ screens outgoing text with the same matcher, and models/ may not import collectors/.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def strip_accents(text: str) -> str:
    """The text without combining accents (é → e), typographic apostrophes made plain."""
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.replace("\u2019", "'")))


def fold(text: str) -> str:
    """Accent- and case-insensitive form used for matching."""
    return strip_accents(text).casefold()


_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Runs of word characters, or one punctuation mark each; whitespace is dropped."""
    return _TOKEN.findall(text)


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """``tokenize(text)`` with each token's start and end offset in ``text``."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


@dataclass(frozen=True)
class _Term:
    label: str
    parts: tuple[tuple[str, bool], ...]  # (token, matches any ending)
    accepts: tuple[frozenset[str], ...]  # per part, the words of a text that stand for it


Variants = Callable[[str], tuple[str, ...]]


def plural_variants(token: str, language: str = "") -> tuple[str, ...]:
    """A term's word and its plural and agreement forms in its language ("" for both, as people
    mix languages): English "stolen card" also matches "stolen cards"; French "carte bloquée"
    "cartes bloquées", "tribunal" "tribunaux". Words of fewer than three letters, and words
    already ending in s, x or z, take no ending, so "procès" is never "process" and "de" never
    "des"; English words take no French ending, so "pin" is never "pine"."""
    if len(token) < 3 or not token.isalpha() or token[-1] in "sxz":
        return (token,)
    found = [token, token + "s"]
    if language in ("en", ""):
        if token.endswith(("ch", "sh")):
            found.append(token + "es")
    if language != "en":
        if token[-1] != "e":
            found += [token + "e", token + "es"]
        if token.endswith(("au", "eu")):
            found.append(token + "x")
        if token.endswith("al"):
            found.append(token[:-2] + "aux")
    return tuple(dict.fromkeys(found))


def _term_parts(term: str) -> tuple[tuple[str, bool], ...]:
    parts: list[tuple[str, bool]] = []
    for word in term.split():
        wildcard = word.endswith("*")
        toks = _TOKEN.findall(word[:-1] if wildcard else word)
        parts.extend((t, False) for t in toks)
        if wildcard and parts:
            parts[-1] = (parts[-1][0], True)
    return tuple(parts)


Forms = Callable[[str], tuple[str, ...]]


class PhraseMatcher:
    """Finds whole-word terms and phrases in a text with a few dict look-ups per word.

    Terms and text are cut into the same tokens (runs of word characters, or one
    punctuation mark), so "fee" never fires inside "feedback" and "can't log in"
    matches across its apostrophe. A regex alternation of every term, tried at every
    position, cost ~500 µs a post; this costs a few µs.

    ``forms``, when given, maps a word of the text to the term tokens it may stand for
    (the word itself first): the outbound screen passes its inflection rule, so "risks"
    is tried as "risks" and as "risk". Without it a word matches only itself (or a
    wildcard prefix). ``variants`` works the other way, once, when the terms are compiled:
    it maps a term's word to the words of a text that match it (the inbound lexicons give
    ``plural_variants`` for the term's language with each entry), so matching a post costs the
    same dict look-ups as without it.
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, str] | tuple[str, str, Variants]],
        forms: Forms | None = None,
        variants: Variants | None = None,
    ) -> None:
        self.forms = forms
        self.exact: dict[str, list[_Term]] = {}  # one-token terms and those whose second token is a wildcard
        self.pairs: dict[tuple[str, str], list[_Term]] = {}  # phrases, by their first two tokens
        self.prefix: dict[str, list[_Term]] = {}  # terms whose first token is a wildcard
        for entry in entries:
            label, text = entry[0], entry[1]
            variants_of = entry[2] if len(entry) > 2 else variants  # type: ignore[misc]
            parts = _term_parts(text)
            if not parts:
                continue
            accepts = tuple(
                frozenset(variants_of(tok) if variants_of and not wild else (tok,)) for tok, wild in parts
            )
            term = _Term(label, parts, accepts)
            (first, wild_first) = parts[0]
            if wild_first:
                self.prefix.setdefault(first, []).append(term)
            elif len(parts) > 1 and not parts[1][1]:
                # Keyed by two tokens, "@ aureliabank" or "my card" is only tried where it can match,
                # not at every "@" or "my".
                for pair in ((a, b) for a in accepts[0] for b in accepts[1]):
                    self.pairs.setdefault(pair, []).append(term)
            else:
                for word in accepts[0]:
                    self.exact.setdefault(word, []).append(term)
        self.prefix_lengths = sorted({len(k) for k in self.prefix})
        # Every word some term needs (wildcards by their first three letters, in prefix_heads).
        self.vocabulary = frozenset(
            word for terms in (*self.exact.values(), *self.pairs.values()) for term in terms
            for accepted in term.accepts for word in accepted
        )
        # Most words start no wildcard term: a set of first three letters skips them at once.
        self.prefix_heads = {k[:3] for k in self.prefix}
        if any(len(k) < 3 for k in self.prefix):
            raise ValueError("a wildcard term needs at least three letters before its *")

    def find(self, text: str, words: list[str] | None = None) -> list[tuple[str, str]]:
        """(label, matched text) for every term found, in order of appearance.

        ``words`` may be passed when the caller already has ``tokenize(text)``.
        """
        if words is None:
            words = tokenize(text)
        hits = self.hits(words)
        if not hits:
            return []
        starts = _token_starts(text, words, max(end for _, _, end in hits))
        return [(label, text[starts[i] : starts[end - 1] + len(words[end - 1])]) for label, i, end in hits]

    def may_use(self, word: str) -> bool:
        """False when no term needs ``word`` (it may be part of one when True)."""
        return word in self.vocabulary or word[:3] in self.prefix_heads

    def labels(self, words: list[str]) -> list[str]:
        """The labels found in ``tokenize(text)``, in order of appearance."""
        return [label for label, _, _ in self.hits(words)]

    def hits(self, words: list[str]) -> list[tuple[str, int, int]]:
        """(label, first token, end token) for every term found."""
        if self.forms is not None:
            return self._hits_with_forms(words, self.forms)
        hits: list[tuple[str, int, int]] = []
        exact, pairs, heads = self.exact, self.pairs, self.prefix_heads
        last = len(words) - 1
        for i, word in enumerate(words):
            candidates = exact.get(word, ())
            if i < last:
                paired = pairs.get((word, words[i + 1]))
                if paired:
                    candidates = [*candidates, *paired]
            if word[:3] in heads:
                candidates = [*candidates, *self._wildcard_terms(word)]
            for term in candidates:
                end = i + len(term.parts)
                if end <= len(words) and all(
                    words[i + k].startswith(tok) if wild else words[i + k] in term.accepts[k]
                    for k, (tok, wild) in enumerate(term.parts)
                ):
                    hits.append((term.label, i, end))
        return hits

    def _wildcard_terms(self, word: str) -> list[_Term]:
        found: list[_Term] = []
        for length in self.prefix_lengths:
            if length > len(word):
                break
            found.extend(self.prefix.get(word[:length], ()))
        return found

    def _hits_with_forms(self, words: list[str], forms: Forms) -> list[tuple[str, int, int]]:
        # Kept apart from hits() so the inbound path, run on every post, pays nothing for it.
        # Each term is keyed by one token (or one pair), which equals at most one form of a
        # word, so no term is tried twice at one position.
        alternatives = [forms(word) for word in words]
        hits: list[tuple[str, int, int]] = []
        last = len(words) - 1
        for i, word in enumerate(words):
            candidates: list[_Term] = []
            for form in alternatives[i]:
                candidates.extend(self.exact.get(form, ()))
                if i < last:
                    for following in alternatives[i + 1]:
                        candidates.extend(self.pairs.get((form, following), ()))
            if word[:3] in self.prefix_heads:
                candidates.extend(self._wildcard_terms(word))
            for term in candidates:
                end = i + len(term.parts)
                if end <= len(words) and all(
                    words[i + k].startswith(tok) if wild else not term.accepts[k].isdisjoint(alternatives[i + k])
                    for k, (tok, wild) in enumerate(term.parts)
                ):
                    hits.append((term.label, i, end))
        return hits


def _token_starts(text: str, words: list[str], upto: int) -> list[int]:
    """Offsets of the first ``upto`` tokens (tokens are consecutive substrings of ``text``)."""
    starts: list[int] = []
    pos = 0
    for word in words[:upto]:
        pos = text.find(word, pos)
        starts.append(pos)
        pos += len(word)
    return starts
