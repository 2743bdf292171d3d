"""PROVISIONAL stand-in (replaced by the full version): the pure text rules of composing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "reddit": 10000}


@dataclass(frozen=True)
class Filled:
    text: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class LengthCheck:
    count: int
    limit: int
    over: int


def placeholders(body: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(PLACEHOLDER.findall(body)))


def fill(body: str, values: Mapping[str, str]) -> Filled:
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        value = " ".join(str(values.get(m.group(1), "")).split())[:200]
        if not value:
            missing.append(m.group(1))
            return m.group(0)
        return value

    return Filled(PLACEHOLDER.sub(sub, body), tuple(dict.fromkeys(missing)))


def with_disclosure(text: str, disclosure: str | None) -> str:
    if not disclosure or has_disclosure(text, disclosure):
        return text
    return f"{text.rstrip()}\n\n{disclosure}"


def has_disclosure(text: str, disclosure: str) -> bool:
    return " ".join(disclosure.split()).casefold() in " ".join(text.split()).casefold()


def fixed_text_changed(template_body: str, text: str, values: Mapping[str, str], disclosure: str | None = None) -> bool:
    expected = with_disclosure(fill(template_body, values).text.strip(), disclosure)
    return with_disclosure(text.strip(), disclosure) != expected


def count_length(text: str, network: str) -> int:
    return len(text)


def check_length(text: str, network: str, limit: int) -> LengthCheck:
    count = count_length(text, network)
    return LengthCheck(count, limit, max(0, count - limit))


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    import difflib
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(("added", "".join(b[j1:j2])))
    return out


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
