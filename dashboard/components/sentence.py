"""A translated sentence with components in it (a link, a ``<time>``), so that translators move
the whole sentence, never fragments glued together in English order."""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"(\{\w+\})")


def sentence(text: str, **parts: Any) -> list[Any]:
    """``text`` (already translated) cut at its ``{placeholders}``, each replaced by its component:
    ``sentence(_("This post is a copy of {mention}."), mention=html.A(...))``. A text part joins the
    text around it; a placeholder not given stays as written."""
    out: list[Any] = []
    for piece in _PLACEHOLDER.split(text):
        name = piece[1:-1] if _PLACEHOLDER.fullmatch(piece) else None
        value = parts[name] if name is not None and name in parts else piece
        if isinstance(value, str) and out and isinstance(out[-1], str):
            out[-1] += value  # text stays one string ("approved by compliance, " then the time)
        elif not isinstance(value, str) or value:
            out.append(value)
    return out
