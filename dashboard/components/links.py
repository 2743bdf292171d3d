"""Links to untrusted URLs: clickable only for http(s)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from dash import html

from i18n import _


def safe_link(url: str | None, link_id: str | None = "mention-link") -> Any:
    """A link for http(s) URLs only; anything else (javascript:, data:) is shown as text.
    ``link_id``: the element's id (None for none: a page with several links names at most one)."""
    named: dict[str, Any] = {"id": link_id} if link_id else {}
    if not url:
        return html.Span(_("no link"), className="text-muted")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme in ("http", "https"):
        return html.A(url, href=url, target="_blank", rel="noopener noreferrer nofollow", **named)
    return html.Span(url, className="text-muted", **named)
