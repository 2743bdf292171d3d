"""Figures as the reader reads them (pure but for the reader: `i18n.current_reader`): counts
``10,508`` / ``10 508``, decimals, signed figures and changes, minutes; and `sentence()`, a
translated sentence with components in it (the wall and the daily summary)."""

from __future__ import annotations

import re
from typing import Any

from babel.numbers import format_decimal

from i18n import _, current_reader
from i18n import formats as fmt

_PLACEHOLDER = re.compile(r"(\{\w+\})")


def sentence(text: str, **parts: Any) -> list[Any]:
    """A translated sentence cut at its ``{placeholders}``, each replaced by its component (a
    ``<span>`` the tests read, a ``<time>``): translators move whole sentences, never fragments."""
    out: list[Any] = []
    for piece in _PLACEHOLDER.split(text):
        name = piece[1:-1] if _PLACEHOLDER.fullmatch(piece) else None
        if name is not None and name in parts:
            out.append(parts[name])
        elif piece:
            out.append(piece)
    return out


def number(value: float) -> str:
    """A count: ``10,508`` / ``10 508``."""
    return fmt.number(value, current_reader())


def _pattern(digits: int) -> str:
    return "#,##0." + "0" * digits if digits else "#,##0"


def decimal(value: float, digits: int = 1) -> str:
    """``4.2`` / ``4,2``."""
    return format_decimal(value, format=_pattern(digits), locale=current_reader().language)


def signed(value: float | None, digits: int = 0) -> str:
    """``+12`` / ``-3.5`` (``-3,5``); ``–`` for no figure."""
    if value is None:
        return "–"
    body = _pattern(digits)
    return format_decimal(value, format=f"+{body};-{body}", locale=current_reader().language)


def percent(share: float | None, digits: int = 0) -> str:
    """A share 0..1: ``12.5%`` / ``12,5 %``."""
    return "–" if share is None else fmt.percent(share, current_reader(), digits)


def signed_percent(value: float | None) -> str:
    """A change in percent points (``12.0`` is +12 %), signed: ``+12%`` / ``+12 %``."""
    if value is None:
        return "–"
    return ("+" if round(value) >= 0 else "-") + fmt.percent(abs(value) / 100, current_reader())


def minutes_text(value: float | None) -> str:
    """Minutes: ``4.2 min``, ``45 min``, ``2.5 h``."""
    if value is None:
        return "–"
    if value >= 120:
        return _("{hours} h").format(hours=decimal(value / 60))
    return _("{minutes} min").format(minutes=decimal(value, 0 if value >= 10 else 1))
