"""Links to untrusted URLs: clickable only for http(s)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from dash import html


def safe_link(url: str | None) -> Any:
    """A link for http(s) URLs only; anything else (javascript:, data:) is shown as text."""
    if not url:
        return html.Span("no link", className="text-muted")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme in ("http", "https"):
        return html.A(url, href=url, target="_blank", rel="noopener noreferrer nofollow", id="mention-link")
    return html.Span(url, className="text-muted", id="mention-link")
