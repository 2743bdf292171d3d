"""HTML fragments from platforms (RSS summaries, Mastodon statuses) as plain text.

Mentions are stored and shown as text only: markup is reduced to its words here, and
whatever remains is still escaped by the dashboard, never rendered as HTML.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any, ClassVar


class _TextOnly(HTMLParser):
    # Elements that start a new block (HTML's block-level and table elements, and <br>): their
    # start and end tags separate words, so "Kitchen<h2>HEY</h2>" is "Kitchen HEY", never "KitchenHEY".
    BREAKS: ClassVar[frozenset[str]] = frozenset({
        "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "details", "dialog", "dir",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    })

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Keep the words of an HTML fragment (feed summaries, Mastodon statuses); drop tags, scripts and styles.
    Block-level elements (headings, paragraphs, quotes, list items, table cells…) separate words."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split())
