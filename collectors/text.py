"""Text normalisation, brand matching and risk lexicons: pure functions over settings.

Matching is done on a "folded" copy of the text (Unicode NFKD, accents removed,
case folded) so that "Crédit Lumière", "credit lumiere" and "CRÉDIT LUMIÈRE" are one
brand and "arnaqué" hits the term "arnaque*". Terms written in capitals (CFPB, SEC,
AMF) are matched on the unfolded-case text only, so French "sec" is not the SEC.

The folding functions, the tokenizer and PhraseMatcher live in models/terms.py (the outbound
screen in models/ uses them too; models/ may not import collectors/) and are re-exported here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from config.settings import Brand, LexiconFlag
from models.terms import (  # noqa: F401  (re-exported: callers import these from here)
    PhraseMatcher,
    _term_parts,
    _token_starts,
    fold,
    plural_variants,
    strip_accents,
    tokenize,
)
from models.unmask import MIN_TOGETHER, Unmasked, run_together, together_terms, unmask

MAX_TEXT_CHARS = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_REPOST_PREFIX = re.compile(r"^\s*(?:rt|repost|via)\s+@([\w.]+):?\s*", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+")
_HANDLE = re.compile(r"@[\w.]+")


def normalize_text(text: str) -> str:
    """NFC, no control or bidi-override characters, runs of spaces collapsed, bounded length."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_TEXT_CHARS]


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


def _is_acronym(term: str) -> bool:
    letters = [c for c in term if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


@dataclass(frozen=True)
class CompiledLexicon:
    folded: PhraseMatcher  # matched against fold(text), and against its unmasked reading
    acronyms: PhraseMatcher  # matched against strip_accents(text), case-sensitive
    order: tuple[str, ...]  # flag names in lexicon order
    together: dict[str, tuple[str, bool]]  # terms written together with another word (models/unmask.py)
    together_lengths: list[int]
    robust: bool  # the unmasked reading and words written together are tried


@dataclass(frozen=True)
class RiskMatch:
    flags: tuple[str, ...]
    terms: dict[str, list[str]]  # flag -> the words of the post that matched it


def compile_lexicon(lexicon: Iterable[LexiconFlag], robust: bool = True) -> CompiledLexicon:
    """The matchers for the risk lexicon. ``robust=False`` reads whole words as written only (no
    plural forms, no unmasked reading): what `vigie bench risk` compares against."""
    plain: list[tuple[str, str, str]] = []  # (flag, folded term, language)
    acronyms: list[tuple[str, str]] = []
    accented: set[str] = set()  # one-word terms whose accents folding removed: "procès" is not in "processing"
    order = []
    for flag in lexicon:
        order.append(flag.name)
        for language, terms in flag.terms.items():
            for term in terms:
                if _is_acronym(term):
                    acronyms.append((flag.name, strip_accents(term)))
                    continue
                plain.append((flag.name, fold(term), language if language in ("en", "fr") else ""))
                if strip_accents(term) != term and " " not in term.strip():
                    accented.add(fold(term))

    def variants_for(language: str) -> Callable[[str], tuple[str, ...]]:
        return lambda token: plural_variants(token, language)

    by_language = {language: variants_for(language) for language in ("en", "fr", "")}
    entries = [(label, text, by_language[language]) if robust else (label, text) for label, text, language in plain]
    together = together_terms(
        (label, parts, tuple(frozenset(plural_variants(t, language)) if not wild else frozenset((t,))
                             for t, wild in parts))
        for label, parts, language in ((label, _term_parts(text), language) for label, text, language in plain
                                       if text not in accented)
        if parts
    )
    return CompiledLexicon(
        PhraseMatcher(entries), PhraseMatcher(acronyms), tuple(order),
        together, sorted({len(k) for k in together}), robust,
    )


_UPPER_PAIR = re.compile(r"[A-Z]{2}")


def match_risk(
    lexicon: CompiledLexicon, folded: str, unaccented: str, words: list[str] | None = None
) -> RiskMatch:
    """Flags whose terms appear; ``words`` is ``tokenize(folded)`` when the caller has it.

    Terms match as written, in their plural and agreement forms, and in the text's unmasked
    reading (spaced or dotted letters, digit and symbol swaps, hashtags and words written
    together: models/unmask.py); a term found only there names the words the author wrote.
    """
    if words is None:
        words = tokenize(folded)
    found = lexicon.folded.find(folded, words)
    masked = unmask(folded) if lexicon.robust else None
    if masked is not None:
        found += _unmasked_hits(lexicon, folded, masked)
        for lead in range(1, masked.leading + 1):  # "il y a s c a m": "y" and "a" words of their own
            split = unmask(folded, split_first=lead)
            found += _unmasked_hits(lexicon, folded, split) if split else []
    if _UPPER_PAIR.search(unaccented):  # acronyms need two capitals in a row
        found += lexicon.acronyms.find(unaccented)
    hits: dict[str, set[str]] = {}
    for label, words_matched in found:
        hits.setdefault(label, set()).add(words_matched)
    flags = tuple(name for name in lexicon.order if name in hits)
    return RiskMatch(flags, {name: sorted(hits[name])[:5] for name in flags})


def _unmasked_hits(lexicon: CompiledLexicon, folded: str, masked: Unmasked) -> list[tuple[str, str]]:
    """Terms in the text as meant, each named by the words of ``folded`` it was read from."""
    found: list[tuple[str, str]] = []
    matcher = lexicon.folded
    # Most rewrites make words no term needs ("$aapl" read "saapl", "q3" "qe"): then the
    # reading as meant cannot find a term the plain reading missed, and is not matched.
    if any(matcher.may_use(word) for a, b, _, _ in masked.segments for word in tokenize(masked.text[a:b])):
        text = masked.text
        words = tokenize(text)
        hits = lexicon.folded.hits(words)
        if hits:
            starts = _token_starts(text, words, max(end for _, _, end in hits))
            for label, i, end in hits:
                a, b = masked.folded_span(starts[i], starts[end - 1] + len(words[end - 1]))
                found.append((label, folded[a:b]))
    for start, end, word in masked.tags:
        if len(word) >= MIN_TOGETHER - 1 and word.isalpha():
            found += [(label, folded[start:end])
                      for label, _ in run_together(word, lexicon.together, lexicon.together_lengths)]
    return found


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
