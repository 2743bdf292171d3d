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


UNCLOSED_LIMIT = 64


def _defused(markup: str) -> str:
    """``markup`` safe to hand to Python's HTMLParser, which scans to the end again for every
    ``<`` that no ``>`` closes before the next ``<`` (quadratic: 20,000 ``<a `` took 40 s). A
    fragment with more than `UNCLOSED_LIMIT` of them has those written as text (``&lt;``), in
    one linear pass; ordinary markup is left as it is (an apostrophe in a tag's text is rare
    and harmless below the limit)."""
    parts = markup.split("<")
    unsafe = [_unclosed(part) for part in parts[1:]]
    if sum(unsafe) <= UNCLOSED_LIMIT:
        return markup
    return parts[0] + "".join(("&lt;" if bad else "<") + part for part, bad in zip(parts[1:], unsafe, strict=True))


def _unclosed(part: str) -> bool:
    """Whether the tag that ``part`` (the text after a ``<``) starts may not close before the next
    ``<``: no ``>``, or a quote left open before it (``<a b=">``)."""
    end = part.find(">")
    return end < 0 or part.count('"', 0, end) % 2 == 1 or part.count("'", 0, end) % 2 == 1


def html_to_text(markup: str) -> str:
    """Keep the words of an HTML fragment (feed summaries, Mastodon statuses); drop tags, scripts and styles.
    Block-level elements (headings, paragraphs, quotes, list items, table cells…) separate words."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    parser = _TextOnly()
    parser.feed(_defused(markup))
    parser.close()
    return " ".join("".join(parser.parts).split())


class _Anchors(HTMLParser):
    """The links of a fragment, and where in the source the elements of one class start and end."""

    def __init__(self, markup: str, cls: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.cut: list[tuple[int, int]] = []  # [start, end) source offsets of the elements of class `cls`
        self._cls = cls
        self._open: tuple[str, int, int] | None = None  # tag, depth, start offset of the element being cut
        lines = markup.split("\n")
        self._line_at = [0]
        for line in lines[:-1]:
            self._line_at.append(self._line_at[-1] + len(line) + 1)
        self._markup = markup

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_at[line - 1] + col if 0 < line <= len(self._line_at) else len(self._markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        classes = values.get("class", "")
        if tag == "a" and values.get("href"):
            self.links.append((values["href"].strip(), classes))
        if self._open is not None:
            name, depth, start = self._open
            if tag == name:
                self._open = (name, depth + 1, start)
        elif self._cls and self._cls in classes.split() and tag not in _VOID:
            self._open = (tag, 1, self._offset())

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or tag != self._open[0]:
            return
        name, depth, start = self._open
        if depth > 1:
            self._open = (name, depth - 1, start)
            return
        at = self._offset()
        close = self._markup.find(">", at)
        self.cut.append((start, len(self._markup) if close < 0 else close + 1))
        self._open = None

    def finish(self) -> None:
        if self._open is not None:  # never closed: it runs to the end of the fragment
            self.cut.append((self._open[2], len(self._markup)))
            self._open = None


_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "area", "base", "col", "embed", "source",
                   "track", "param"})


def _read_anchors(markup: str, cls: str | None) -> _Anchors:
    markup = _defused(markup)
    parser = _Anchors(markup, cls)
    parser.feed(markup)
    parser.close()
    parser.finish()
    return parser


def html_links(markup: str) -> list[tuple[str, str]]:
    """Every ``<a href>`` of an HTML fragment, in order, as (href, class attribute): the caller
    decides which are outbound (Mastodon marks mentions and hashtags with classes)."""
    return _read_anchors(markup, None).links


def html_without_class(markup: str, cls: str) -> str:
    """The fragment without the elements carrying class `cls` (and all they hold), the rest of the
    source kept byte for byte; an element never closed is cut to the end."""
    markup = _defused(markup)
    cuts = _read_anchors(markup, cls).cut
    if not cuts:
        return markup
    kept: list[str] = []
    at = 0
    for start, end in sorted(cuts):
        if start >= at:
            kept.append(markup[at:start])
            at = end
        else:
            at = max(at, end)
    kept.append(markup[at:])
    return "".join(kept)
