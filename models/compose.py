"""The text rules of composing a reply: placeholders, length per network, disclosure, diff, hash.

Pure functions over strings, no database and no I/O: the actions that draft, approve and send a
reply call them, and so does the compose page to show the count as the agent types. What a firm
may not publish (the outbound screen) is in models/screening.py.

Templates name their variable parts in double braces: ``{{first_name}}``, ``{{ case_ref }}``
(lower snake case; spaces inside the braces are allowed). ``{{First_Name}}`` or ``{{first name}}``
are not placeholders: they stay in the text as written.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import regex

PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")
MAX_VALUE_CHARS = 200
# Control characters (C0, DEL, C1 with NEL), line and paragraph separators and any run of
# whitespace: a value is one line of plain text, so a name cannot add lines to a reply.
_VALUE_SPACES = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\s]+")
# Bidi embeddings, overrides and isolates: in a value they would reorder the fixed text around it
# as displayed. Marks (LRM, RLM) and joiners (ZWJ in emoji) are kept: they reorder nothing.
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class Filled:
    text: str
    missing: tuple[str, ...]  # placeholders left in the text: no value, or a blank one


def placeholders(body: str) -> tuple[str, ...]:
    """The placeholder names of a template, in order of first appearance, each once."""
    return tuple(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(body)))


def clean_value(value: str) -> str:
    """A placeholder value as it goes into a reply: one line, no bidi controls, stripped, capped.

    Whitespace and control characters (NUL, newlines, tabs…) become single spaces; the cap of
    ``MAX_VALUE_CHARS`` code points never cuts a user-perceived character (an emoji sequence) in two.
    """
    value = _VALUE_SPACES.sub(" ", _BIDI_CONTROLS.sub("", value)).strip()
    if len(value) <= MAX_VALUE_CHARS:
        return value
    kept, size = [], 0
    for grapheme in _GRAPHEME.findall(value, endpos=MAX_VALUE_CHARS + 1):
        size += len(grapheme)
        if size > MAX_VALUE_CHARS:
            break
        kept.append(grapheme)
    return "".join(kept).rstrip()


def fill(body: str, values: Mapping[str, str]) -> Filled:
    """The template with each placeholder replaced by its cleaned value (see ``clean_value``).

    Replacement is one pass over the template, so a value containing ``{{case_ref}}`` is inserted
    as those characters and never filled in turn. A placeholder without a value, or whose value
    is blank once cleaned, stays as written and is listed in ``missing``: the text is not ready to
    send while ``missing`` is not empty (check ``missing``, not the text: a customer's name may
    itself contain double braces).
    """
    cleaned: dict[str, str] = {}
    missing: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in cleaned:
            raw = values.get(name)
            cleaned[name] = clean_value(raw) if isinstance(raw, str) else ""
        if not cleaned[name]:
            missing[name] = None
            return match.group(0)
        return cleaned[name]

    return Filled(PLACEHOLDER.sub(replace, body), tuple(missing))


def _canonical(text: str) -> str:
    """The text as a reader sees it: NFC, one kind of line break, no trailing spaces on a line,
    no blank lines or spaces at either end. Everything else, inner spacing included, is kept."""
    lines = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def fixed_text_changed(
    template_body: str, text: str, values: Mapping[str, str], disclosure: str | None = None
) -> bool:
    """True when ``text`` is not what the template gives with these values: the fixed text was
    edited, so the reply needs approval like free text.

    Not edits: differences a reader cannot see or a browser introduces (Unicode normalisation,
    CRLF line breaks, spaces at line ends, blank lines or spaces around the whole text), and the
    ``disclosure`` line as ``with_disclosure`` adds it. Any other change is an edit, a different
    value in a placeholder's place included (the values given are the ones the agent entered).
    """
    expected = fill(template_body, values).text
    accepted = {_canonical(expected)}
    if disclosure and disclosure.strip():
        accepted.add(_canonical(with_disclosure(expected, disclosure)))
    return _canonical(text) not in accepted


# --- disclosure --------------------------------------------------------------------------------

def _loose(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def has_disclosure(text: str, disclosure: str | None) -> bool:
    """Whether ``text`` contains the disclosure, ignoring case and runs of whitespace (a line break
    inside it counts as a space). It must stand as whole words: "#ad" is not in "#adventure".
    No disclosure required (None or blank) counts as present."""
    if disclosure is None or not disclosure.strip():
        return True
    needle = re.escape(_loose(disclosure))
    return re.search(rf"(?<!\w){needle}(?!\w)", _loose(text)) is not None


def with_disclosure(text: str, disclosure: str | None) -> str:
    """The text with the disclosure on its own line after a blank line, unless already there."""
    if disclosure is None or has_disclosure(text, disclosure):
        return text
    body = text.rstrip()
    return f"{body}\n\n{disclosure.strip()}" if body else disclosure.strip()


# --- length, as each network counts ------------------------------------------------------------

LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "reddit": 10000}
URL_LENGTH = 23  # X (t.co) and Mastodon count every link as this many characters

# A link with its scheme, not glued to a preceding word, mention or tag; it ends at whitespace,
# quotes, angle brackets or bidi/invalid characters, and trailing punctuation is not part of it.
_NOT_URL = r"\s<>\"\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff"
_URL_BODY = rf"[^{_NOT_URL}]*[^{_NOT_URL}.,;:!?'\")\]]"
_SCHEME_URL = rf"(?<![\w@$#])https?://{_URL_BODY}"
# X also counts a bare domain ("vigie.fr", "www.example.com/path") as a link. twitter-text checks
# the full TLD list; this accepts any two-letter TLD (country codes) and the common generic ones,
# so it may count a rare "file.py" as a link where X would too, and miss an exotic gTLD.
_TLDS = ("com|net|org|info|biz|edu|gov|int|mil|io|app|dev|bank|insurance|finance|money|news|shop|online|site|xyz"
         "|[a-z]{2}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_BARE_DOMAIN = rf"(?<![\w@$#./:-])(?:{_LABEL}\.)+(?:{_TLDS})(?![\w-])(?:/{_URL_BODY})?"
_X_LINK = re.compile(rf"{_SCHEME_URL}|{_BARE_DOMAIN}", re.IGNORECASE)
_MASTODON_ENTITY = re.compile(rf"(?P<url>{_SCHEME_URL})|(?<![\w/])(?P<user>@\w+)@[\w.-]*\w", re.IGNORECASE)
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
# twitter-text v3: code points in these ranges weigh 1, all others 2 (CJK, emoji, most symbols).
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _x_char_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(start <= code <= end for start, end in _LIGHT_RANGES) else 2


def _x_weight(segment: str) -> int:
    total = 0
    for grapheme in _GRAPHEME.findall(segment):
        # An emoji sequence (skin tone, ZWJ family, flag, keycap) counts 2 as a whole, as
        # twitter-text's emoji parsing does; "©" or "®" alone is text and weighs 1.
        if _EMOJI.search(grapheme) and (len(grapheme) > 1 or ord(grapheme) > 4351):
            total += 2
        else:
            total += sum(_x_char_weight(char) for char in grapheme)
    return total


def _x_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total, pos = 0, 0
    for link in _X_LINK.finditer(text):
        total += _x_weight(text[pos : link.start()]) + URL_LENGTH
        pos = link.end()
    return total + _x_weight(text[pos:])


def _mastodon_length(text: str) -> int:
    def countable(match: re.Match[str]) -> str:
        return "x" * URL_LENGTH if match.group("url") else match.group("user")

    return len(_GRAPHEME.findall(_MASTODON_ENTITY.sub(countable, text)))


def count_length(text: str, network: str) -> int:
    """The length of ``text`` as ``network`` counts it against its limit.

    - x: twitter-text v3's weighted length: text in NFC, code points in 0-4351, 8192-8205,
      8208-8223 and 8242-8247 weigh 1 and all others 2, an emoji sequence 2, a link 23.
    - bluesky: grapheme clusters (user-perceived characters). Bluesky also caps a post at 3000
      UTF-8 bytes, which only text heavy with combining marks reaches before 300 graphemes.
    - mastodon: grapheme clusters (what the server counts), with each http(s) link counted as 23
      and a remote mention ``@user@domain`` as ``@user``.
    - anything else (reddit, demo…): code points.
    """
    if network == "x":
        return _x_length(text)
    if network == "bluesky":
        return len(_GRAPHEME.findall(text))
    if network == "mastodon":
        return _mastodon_length(text)
    return len(text)


@dataclass(frozen=True)
class LengthCheck:
    count: int
    limit: int
    over: int  # how many over the limit, 0 when the text fits


def check_length(text: str, network: str, limit: int) -> LengthCheck:
    count = count_length(text, network)
    return LengthCheck(count, limit, max(0, count - limit))


# --- diff for the approvals page and the record's hash -----------------------------------------

_PIECE = re.compile(r"\s+|\S+")


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """(op, piece) with op "same", "added" or "removed", over words and the whitespace between
    them, adjacent pieces of one op merged. Joining the "same" and "added" pieces gives ``after``
    exactly; the "same" and "removed" pieces give ``before``. Pieces are plain text to show as
    such (never as HTML)."""
    old, new = _PIECE.findall(before), _PIECE.findall(after)
    out: list[tuple[str, str]] = []

    def push(op: str, pieces: list[str]) -> None:
        if not pieces:
            return
        text = "".join(pieces)
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if tag == "equal":
            push("same", old[i1:i2])
        else:
            push("removed", old[i1:i2])
            push("added", new[j1:j2])
    return out


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 text, exactly as given (no normalisation): the text sent must hash
    to the text approved."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
