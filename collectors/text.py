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
_REPOST_PREFIX = re.compile(r"^\s*(?:rt|repost|via)\s+@([\w.]+):?\s*", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+")
_HANDLE = re.compile(r"@[\w.]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def normalize_text(text: str) -> str:
    """NFC, no control or bidi-override characters, runs of spaces collapsed, bounded length."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_TEXT_CHARS]


def strip_accents(text: str) -> str:
    """The text without combining accents (é → e), typographic apostrophes made plain."""
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.replace("\u2019", "'")))


def fold(text: str) -> str:
    """Accent- and case-insensitive form used for matching."""
    return strip_accents(text).casefold()


def author_key(handle: str | None) -> str:
    """One author across networks: "@Zoe_Lee", "zoe_lee" and "zoe_lee@mastodon.example" are one."""
    return (handle or "").strip().lstrip("@").split("@", 1)[0].casefold()


def cluster_key(text: str, author: str | None, folded: str | None = None) -> str:
    """Same author, same words in the same order, whatever the network, handles or punctuation.

    A repost ("RT @zoe_lee: …") counts as its original author's, so it joins the original.
    Two different people writing the same words are two customers, not one post: they are
    not clustered (a bank answers each of them).
    """
    body = folded if folded is not None else fold(text)
    reposted = _REPOST_PREFIX.match(body)
    if reposted:
        author, body = reposted.group(1), body[reposted.end() :]
    body = _NON_WORD.sub(" ", _HANDLE.sub(" ", body)).strip()
    return hashlib.sha1(f"{author_key(author)}|{body}".encode()).hexdigest()


TEXT_KEY_MIN_WORDS = 8  # shorter texts ("thanks!", "app down?") are said by many people, not copied
_URL = re.compile(r"https?://[^\s<>\"'\]\)]+", re.IGNORECASE)
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_\w+|igshid|si|s|ref|ref_src|src)$")
# Links that name a post or profile on a network, not content that travels between networks.
PLATFORM_HOSTS = frozenset({
    "x.com", "twitter.com", "t.co", "bsky.app", "reddit.com", "old.reddit.com", "redd.it",
    "facebook.com", "fb.me", "instagram.com", "linkedin.com", "lnkd.in", "youtube.com", "youtu.be",
})
# Where networks keep their users' photos and videos (scontent.xx.fbcdn.net, pbs.twimg.com…),
# any subdomain: a post's own media, not a link it shares.
PLATFORM_MEDIA_DOMAINS = ("fbcdn.net", "cdninstagram.com", "twimg.com", "redd.it", "redditmedia.com",
                          "licdn.com", "ytimg.com", "cdn.bsky.app")


_MEDIA_SUFFIXES = tuple("." + domain for domain in PLATFORM_MEDIA_DOMAINS)


def is_platform_host(host: str) -> bool:
    """A network's own page or media host (lower case, no port), not an outbound site."""
    host = host.removeprefix("www.").removeprefix("m.")
    return host in PLATFORM_HOSTS or host in PLATFORM_MEDIA_DOMAINS or host.endswith(_MEDIA_SUFFIXES)


def outbound(url: str) -> bool:
    """True for an http(s) link to a site outside the networks (what a post shares)."""
    return canonical_link(url) is not None


def text_key(text: str, folded: str | None = None) -> str | None:
    """Same words in the same order, whoever wrote them: the key of a text copied from one
    network to another. None for short texts, which different people write independently."""
    body = folded if folded is not None else fold(text)
    reposted = _REPOST_PREFIX.match(body)
    if reposted:
        body = body[reposted.end() :]
    body = _NON_WORD.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", body))).strip()
    if body.count(" ") + 1 < TEXT_KEY_MIN_WORDS:
        return None
    return hashlib.sha1(f"text|{body}".encode()).hexdigest()


def canonical_link(url: str) -> str | None:
    """A link in one form whatever the sharer's client added: scheme, www., tracking
    parameters, fragment and trailing slash dropped. None for links to network pages."""
    match = re.match(r"https?://([^/?#]+)([^?#]*)(?:\?([^#]*))?", url.strip(), re.IGNORECASE)
    if not match:
        return None
    host = match.group(1).lower().rsplit("@", 1)[-1].split(":", 1)[0].removeprefix("www.").removeprefix("m.")
    if not host or is_platform_host(host) or "." not in host:
        return None
    path = match.group(2).rstrip("/.,;:!?")
    query = "&".join(sorted(p for p in (match.group(3) or "").split("&")
                            if p and not _TRACKING.match(p.split("=", 1)[0].lower())))
    return f"{host}{path}" + (f"?{query}" if query else "")


def link_key(text: str, links: Iterable[str] = ()) -> str | None:
    """The key of the first outbound link of a post (given by the source, or found in its text)."""
    for url in [*links, *_URL.findall(text)]:
        canonical = canonical_link(url)
        if canonical:
            return hashlib.sha1(f"link|{canonical}".encode()).hexdigest()
    return None


_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class _Term:
    label: str
    parts: tuple[tuple[str, bool], ...]  # (token, matches any ending)


def _term_parts(term: str) -> tuple[tuple[str, bool], ...]:
    parts: list[tuple[str, bool]] = []
    for word in term.split():
        wildcard = word.endswith("*")
        toks = _TOKEN.findall(word[:-1] if wildcard else word)
        parts.extend((t, False) for t in toks)
        if wildcard and parts:
            parts[-1] = (parts[-1][0], True)
    return tuple(parts)


class PhraseMatcher:
    """Finds whole-word terms and phrases in a text with a few dict look-ups per word.

    Terms and text are cut into the same tokens (runs of word characters, or one
    punctuation mark), so "fee" never fires inside "feedback" and "can't log in"
    matches across its apostrophe. A regex alternation of every term, tried at every
    position, cost ~500 µs a post; this costs a few µs.
    """

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self.exact: dict[str, list[_Term]] = {}  # one-token terms and those whose second token is a wildcard
        self.pairs: dict[tuple[str, str], list[_Term]] = {}  # phrases, by their first two tokens
        self.prefix: dict[str, list[_Term]] = {}  # terms whose first token is a wildcard
        for label, text in entries:
            parts = _term_parts(text)
            if not parts:
                continue
            term = _Term(label, parts)
            (first, wild_first) = parts[0]
            if wild_first:
                self.prefix.setdefault(first, []).append(term)
            elif len(parts) > 1 and not parts[1][1]:
                # Keyed by two tokens, "@ aureliabank" or "my card" is only tried where it can match,
                # not at every "@" or "my".
                self.pairs.setdefault((first, parts[1][0]), []).append(term)
            else:
                self.exact.setdefault(first, []).append(term)
        self.prefix_lengths = sorted({len(k) for k in self.prefix})
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

    def labels(self, words: list[str]) -> list[str]:
        """The labels found in ``tokenize(text)``, in order of appearance."""
        return [label for label, _, _ in self.hits(words)]

    def hits(self, words: list[str]) -> list[tuple[str, int, int]]:
        """(label, first token, end token) for every term found."""
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
                for length in self.prefix_lengths:
                    if length > len(word):
                        break
                    more = self.prefix.get(word[:length])
                    if more:
                        candidates = [*candidates, *more]
            for term in candidates:
                end = i + len(term.parts)
                if end <= len(words) and all(
                    words[i + k].startswith(tok) if wild else words[i + k] == tok
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


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _is_acronym(term: str) -> bool:
    letters = [c for c in term if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


@dataclass(frozen=True)
class CompiledLexicon:
    folded: PhraseMatcher  # matched against fold(text)
    acronyms: PhraseMatcher  # matched against strip_accents(text), case-sensitive
    order: tuple[str, ...]  # flag names in lexicon order


@dataclass(frozen=True)
class RiskMatch:
    flags: tuple[str, ...]
    terms: dict[str, list[str]]  # flag -> the words of the post that matched it


def compile_lexicon(lexicon: Iterable[LexiconFlag]) -> CompiledLexicon:
    plain: list[tuple[str, str]] = []
    acronyms: list[tuple[str, str]] = []
    order = []
    for flag in lexicon:
        order.append(flag.name)
        for term in (t for words in flag.terms.values() for t in words):
            if _is_acronym(term):
                acronyms.append((flag.name, strip_accents(term)))
            else:
                plain.append((flag.name, fold(term)))
    return CompiledLexicon(PhraseMatcher(plain), PhraseMatcher(acronyms), tuple(order))


_UPPER_PAIR = re.compile(r"[A-Z]{2}")


def match_risk(
    lexicon: CompiledLexicon, folded: str, unaccented: str, words: list[str] | None = None
) -> RiskMatch:
    """Flags whose terms appear; ``words`` is ``tokenize(folded)`` when the caller has it."""
    found = lexicon.folded.find(folded, words)
    if _UPPER_PAIR.search(unaccented):  # acronyms need two capitals in a row
        found += lexicon.acronyms.find(unaccented)
    hits: dict[str, set[str]] = {}
    for label, words_matched in found:
        hits.setdefault(label, set()).add(words_matched)
    flags = tuple(name for name in lexicon.order if name in hits)
    return RiskMatch(flags, {name: sorted(hits[name])[:5] for name in flags})


@dataclass(frozen=True)
class CompiledBrands:
    matcher: PhraseMatcher
    competitor: dict[str, bool]


def compile_brands(brands: Iterable[Brand]) -> CompiledBrands:
    entries: list[tuple[str, str]] = []
    competitor: dict[str, bool] = {}
    for brand in brands:
        competitor[brand.name] = brand.competitor
        entries.extend((brand.name, fold(term)) for term in (*brand.handles, *brand.keywords))
    return CompiledBrands(PhraseMatcher(entries), competitor)


def match_brand(brands: CompiledBrands, folded: str, words: list[str] | None = None) -> tuple[str | None, bool]:
    """The first brand named; a post naming our brand and a competitor counts as ours."""
    named = brands.matcher.labels(words if words is not None else tokenize(folded))
    for name in named:
        if not brands.competitor[name]:
            return name, False
    return (named[0], True) if named else (None, False)
