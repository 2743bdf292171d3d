"""The second reading of a post, for risk terms written to slip past a filter.

People hide or mangle the words a bank watches for: "s c a m", "a.r.n.a.q.u.e", "fr4ud",
"arn@que", "$cam", "#BankScam", "aureliabank_fraud". ``unmask`` reads a folded text (see
models/terms.py) a second way and returns its words as they were meant, each with the span of
the text it came from, so a flag still names the words the author wrote:

- single letters (or digits and symbols standing for letters) separated by spaces or by one of
  ``. - * · • _ /`` are one word when there are at least three of them: "s c a m", "f-r-a-u-d";
- a word broken by a symbol or one of ``. - * · •`` with no space around it is one word:
  "fr.aud", "arn@que", "sc@m", "e-mail";
- inside such a word, and in a word that mixes letters and digits, the usual swaps are undone:
  0 o, 1 i, 3 e, 4 a, 5 s, 7 t, @ a, $ s, € e, ! i, | l ("fr4ud", "h4ck3d", "$cam");
- an underscore separates words ("aureliabank_scam" is "aureliabank scam").

A leading "@" keeps a handle a handle, and "!" or "|" count as letters only between letters
("scam!" stays "scam"). ``run_together`` finds terms written together with another word in a
hashtag ("#bankscam", "#fraudalert", "#aureliafraud"), at its start or its end; in names joined
by underscores ("@aurelia_scam_watch") each part is a word already.
Plain words are not searched that way: "panneaux" starts with "panne" and "processing" with
"procès"; telling a run-together word from a real one needs a dictionary, which is not shipped.

``unmask`` returns None when nothing in the text looks masked; one regex pass finds what does,
so a post pays a few microseconds more than its plain reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s", "€": "e", "!": "i", "|": "l"})
_BREAKS = ".\\-*·•"  # inside a word with no space around: dropped (a regex class body)
_CHAR = r"(?:[^\W_]|[@$€!|])"  # one letter, digit or symbol standing for a letter
_SPACER = r"(?:[ \t]{1,2}|[ ]?[.\-*·•_/][ ]?)"
MIN_RUN = 3  # single characters joined into one word
_MASKED = re.compile(
    # inside one chunk (no white space): "a.r.n.a.q.u.e", "s_c_a_m"
    rf"(?P<run>(?<![^\W_]){_CHAR}(?:{_SPACER}{_CHAR}){{{MIN_RUN - 1},}}(?![^\W_]))"
    # "arn@que", "fr.aud", "$cam", "agio$": a word broken by symbols or breaks, no space around
    rf"|(?P<touch>(?<![^\W_])(?:\$?[^\W_]+(?:[@$€!|{_BREAKS}][^\W_]+)+[$€]?|\$[^\W_]+[$€]?|[^\W_]+[$€](?![^\W_])))"
    # "fr4ud", "h4ck3d": letters and digits mixed
    r"|(?P<leet>(?<![^\W_])[^\W_]*?(?:[^\W\d_]\d|\d[^\W\d_])[^\W_]*)"
    r"|(?P<tag>#[^\W_]+)"
    r"|(?P<underscore>_)"
)
MIN_TOGETHER = 5  # letters of a term found written together with another word (4 in a hashtag)
MIN_REST = 2  # letters of the other word in a hashtag (4 beside a 4-letter term)
_ONE_LETTER_WORDS = frozenset("aiy")  # "a s c a m": the article, then the word


@dataclass(frozen=True)
class Unmasked:
    text: str  # the folded text as meant, for the matcher (``folded`` itself when only hashtags were found)
    segments: list[tuple[int, int, int, int]]  # (start, end) in ``text`` and (start, end) in folded, rewritten
    tags: list[tuple[int, int, str]]  # each hashtag's word: its span in folded, and as meant
    leading: int  # one-letter words a run of spaced letters may start with ("y a s c a m"): 0 none

    def folded_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the folded text that ``text[start:end]`` was read from."""
        return self._at(start, True), self._at(end, False)

    def _at(self, pos: int, is_start: bool) -> int:
        shift = 0
        for a, b, fa, fb in self.segments:
            if (pos < a) if is_start else (pos <= a):
                break
            if (pos < b) if is_start else (pos <= b):
                return fa if is_start else fb
            shift = fb - b
        return pos + shift


def _read_leet(word: str) -> str:
    """Digits and symbols read as letters, in a word that has a letter."""
    if word.isalpha() or not any(c.isalpha() for c in word):
        return word
    return word.translate(_LEET)


_EDGE = ".,;:!?\"'()[]{}<>«»…*-/"  # stripped from a chunk's ends before it is looked at
_ELIDED = re.compile(r"[^\W_]+['\u2019]([^\W_])")  # "l'e", the first letter of a spaced word after an elision


def _single(core: str) -> bool:
    return len(core) == 1 and (core.isalnum() or core in "@$€!|")


# A character that may make a word masked; found by a character-set scan, which is fast.
_ODD = re.compile(r"[\d@$€!|#_.\-*·•/]")
# Three chunks of one or two characters in a row: the only texts where spaced letters are looked for.
_SPACED = re.compile(r"(?:^|\s)\S{1,2}\s\S{1,2}\s\S{1,2}(?:\s|$)")
_WHITE = re.compile(r"\s")


def unmask(folded: str, split_first: int = 0) -> Unmasked | None:
    """``folded`` read as meant, or None when nothing in it looks masked.

    When the reading has ``leading`` one-letter words, the caller reads it again with
    ``split_first`` 1 up to that many: runs of spaced letters starting with "a", "i" or "y", or
    with a letter after an apostrophe, then leave that many letters words of their own ("a s c a m",
    "i'm h o m e l e s s", "il y a s c a m" and "i m s c a m m e d" two; but "d'h a m e ç o n n a g e"
    and "a r n a q u e" are one word, so every reading is tried).

    Cost: two scans in C find the chunks (runs of non-space) that may be masked, and only those
    are read in Python; links are skipped."""
    tags: list[tuple[int, int, str]] = []
    rewrites = _odd_chunks(folded, tags)
    leading = 0
    if _SPACED.search(folded):
        spaced, leading = _spaced_runs(folded, split_first)
        rewrites += spaced
    if not rewrites and not tags:
        return None
    pieces: list[str] = []
    segments: list[tuple[int, int, int, int]] = []
    pos = size = 0
    for start, end, meant in sorted(rewrites):
        if start < pos:
            continue  # inside a run already read
        pieces.append(folded[pos:start])
        size += start - pos
        segments.append((size, size + len(meant), start, end))
        pieces.append(meant)
        size += len(meant)
        pos = end
    pieces.append(folded[pos:])
    return Unmasked("".join(pieces) if segments else folded, segments, tags, leading)


def _chunk_at(folded: str, pos: int) -> tuple[int, int]:
    """The run of non-space characters around ``pos`` (posts are normalised: spaces, tabs and
    line breaks are the white space left)."""
    start = max(folded.rfind(" ", 0, pos), folded.rfind("\n", 0, pos), folded.rfind("\t", 0, pos)) + 1
    after = _WHITE.search(folded, pos)
    return start, after.start() if after else len(folded)


def _odd_chunks(folded: str, tags: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Rewrites of the chunks holding a digit, a symbol or a break; hashtags into ``tags``."""
    rewrites: list[tuple[int, int, str]] = []
    done = -1
    for odd in _ODD.finditer(folded):
        if odd.start() < done:
            continue
        start, end = _chunk_at(folded, odd.start())
        done = end
        chunk = folded[start:end]
        if "://" in chunk or chunk.startswith("www."):
            continue
        core = chunk.strip(_EDGE)
        if not core or core.isalpha():
            continue
        offset = start + chunk.find(core)
        # The whole chunk is rewritten as one piece, so the words around a rewrite ("fraud" in
        # "aureliabank_fraud") are seen with it.
        parts: list[str] = []
        last = 0
        for m in _MASKED.finditer(core):
            found, kind = m.group(), m.lastgroup
            if kind == "tag":
                word = _read_leet(found[1:])
                tags.append((offset + m.start() + 1, offset + m.end(), word))
                meant = "#" + word
            elif kind == "underscore":
                meant = " "
            elif kind in ("run", "touch"):
                meant = _read_leet("".join(c for c in found if c not in ".-*·•_/"))
            else:
                meant = _read_leet(found)
            parts += [core[last : m.start()], meant]
            last = m.end()
        meant_core = "".join(parts) + core[last:]
        if meant_core != core:
            rewrites.append((offset, offset + len(core), meant_core))
    return rewrites


def _spaced_runs(folded: str, split_first: int) -> tuple[list[tuple[int, int, str]], int]:
    """Rewrites of runs of single characters written apart ("s c a m", "s. c. a. m"), the first
    ``split_first`` one-letter words of each left apart, and how many a run may start with (each
    run keeps at least ``MIN_RUN`` letters)."""
    rewrites: list[tuple[int, int, str]] = []
    run: list[tuple[int, int, str]] = []
    leading = 0

    def close_run() -> None:
        nonlocal leading
        if len(run) >= MIN_RUN:
            lead = 0
            while lead < len(run) - MIN_RUN and (run[lead][2] in _ONE_LETTER_WORDS or (
                    lead == 0 and run[0][0] > 0 and folded[run[0][0] - 1] in "'\u2019") or (
                    lead == 1 and run[0][2] + run[1][2] == "im")):  # "i m s c a m m e d": I'm
                lead += 1
            leading = max(leading, lead)
            del run[:min(split_first, lead)]
            rewrites.append((run[0][0], run[-1][1], _read_leet("".join(c for _, _, c in run))))
        run.clear()

    pos = 0
    for chunk in folded.split():
        start = folded.find(chunk, pos)
        pos = start + len(chunk)
        core = chunk.strip(_EDGE)
        if not core:
            continue  # a lone "-" or "." between single letters: "s - c - a - m"
        offset = start + chunk.find(core)
        if _single(core):
            run.append((offset, offset + 1, core))
            continue
        close_run()
        elided = _ELIDED.fullmatch(core)
        if elided:  # "l'e s c r o q u e r i e": the run starts after the apostrophe
            run.append((offset + elided.start(1), offset + elided.end(1), elided.group(1)))
    close_run()
    return rewrites, leading


# Words people write after a short term in a hashtag ("#scamalert", "#fraudewatch"): a term of
# four or five letters is a prefix of too many words ("#scampi", "#panneausolaire") to be read
# at a hashtag's start before anything else.
_AFTER = frozenset({"alert", "alerts", "alerte", "alertes", "warning", "watch", "victim", "victims", "victime",
                    "victimes", "report", "news", "info", "infos", "again", "encore"})
# Short words a joined phrase may hold in its middle ("fuite de données", "usurpation d'identité");
# any other word under four letters keeps a phrase out of hashtags ("wasn't me" in "#ItWasntMe").
_LINKING = frozenset({"d", "de", "du", "des", "en", "la", "le", "l"})
MIN_HEAD = 6  # letters of a term found at a hashtag's start without a wildcard or a word of _AFTER


def together_terms(terms: Iterable[tuple[str, tuple[tuple[str, bool], ...], tuple[frozenset[str], ...]]]
                   ) -> dict[str, tuple[str, bool]]:
    """Each term's words written together ("bankscam" is found by "scam"; "identity theft" as
    "identitytheft"), by that string: (label, wildcard). Terms of fewer than four letters are
    left out ("fee" is in "coffee"), and phrases whose first or last word has fewer than four
    letters, or with a short word other than a linking one inside ("not mine", "in my name")."""
    found: dict[str, tuple[str, bool]] = {}
    for label, all_parts, all_accepts in terms:
        # Written together, "usurpation d'identité" is "usurpationdidentite": apostrophes and hyphens go.
        kept = [k for k, (tok, _) in enumerate(all_parts) if tok not in ("'", "-")]
        parts = tuple(all_parts[k] for k in kept)
        accepts = tuple(all_accepts[k] for k in kept)
        if not parts or not all(tok.isalpha() for tok, _ in parts):
            continue
        words = [tok for tok, _ in parts]
        if len(words) > 1 and (len(words[0]) < 4 or len(words[-1]) < 4
                               or any(len(w) < 4 and w not in _LINKING for w in words[1:-1])):
            continue
        wild = parts[-1][1]
        combos = [""]
        for (tok, is_wild), accepted in zip(parts, accepts, strict=True):
            options = [tok] if is_wild else sorted(accepted)
            combos = [c + o for c in combos for o in options][:32]
        for combo in combos:
            if len(combo) >= MIN_TOGETHER - 1:
                found.setdefault(combo, (label, wild))
    return found


def run_together(word: str, together: dict[str, tuple[str, bool]], lengths: list[int]) -> list[tuple[str, str]]:
    """(label, term string) for a hashtag's word that is a term written together, or starts or ends
    with one beside another word: at the end, beside at least four letters (two for a term of
    five or more: "#bankscam", "#aureliafraud", not "#coffees"); at the start, a wildcard term of
    five letters or more ("#fraudalert"), a term of MIN_HEAD or more ("#phishingattack"), or a
    shorter one before a word of _AFTER ("#scamalert", not "#scampi" nor "#panneausolaire")."""
    whole = together.get(word)
    hits: list[tuple[str, str]] = [(whole[0], word)] if whole else []
    size = len(word)
    for length in lengths:
        if length >= size:
            break
        rest = size - length
        head = together.get(word[:length])
        if head and ((head[1] and length >= MIN_TOGETHER) or (length >= MIN_HEAD and rest >= MIN_REST)
                     or word[length:] in _AFTER):
            hits.append((head[0], word[:length]))
        tail = together.get(word[-length:])
        if tail and rest >= (MIN_REST if length >= MIN_TOGETHER else 4):
            hits.append((tail[0], word[-length:]))
    return hits
