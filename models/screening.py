"""PROVISIONAL stand-in (replaced by the full version): outbound screening."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_SCREEN_TERMS: dict[str, tuple[str, ...]] = {
    "en": ("guaranteed return", "risk-free", "no risk", "can't lose"),
    "fr": ("rendement garanti", "sans risque"),
}


@dataclass(frozen=True)
class Hit:
    term: str
    found: str


@dataclass(frozen=True)
class Screen:
    terms: tuple[tuple[str, str], ...]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).replace("-", " ").split())


def compile_screen(terms: Iterable[str]) -> Screen:
    return Screen(tuple((t, _fold(t)) for t in terms))


def screen(compiled: Screen, text: str) -> tuple[Hit, ...]:
    folded = _fold(text)
    return tuple(Hit(term, folded_term) for term, folded_term in compiled.terms if folded_term in folded)
