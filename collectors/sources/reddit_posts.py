"""Reddit listing items read into posts: the title, the self text with its markdown links made
readable, the outbound link and the links in the text, the author, the time; a crosspost with the
original's words.

Kept apart from ``reddit.py`` (the source: token, fetch and parse; its docstring documents what
is read here) because this reads one listing item and sends nothing: pure functions.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from collectors.types import RawPost, Rejected

WEB_URL = "https://www.reddit.com"
GONE = frozenset({"[removed]", "[deleted]", "[deleted by user]", "[removed by reddit]"})


def name_of(child: Any) -> str | None:
    data = child.get("data") if isinstance(child, dict) else None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.startswith("t3_") else None


def post_of(child: Any) -> RawPost | Rejected:
    data = child.get("data") if isinstance(child, dict) else None
    if not isinstance(child, dict) or child.get("kind") != "t3" or not isinstance(data, dict):
        kind = child.get("kind") if isinstance(child, dict) else type(child).__name__
        return Rejected(None, f"Reddit listing item is not a post (kind {kind!r})", child)
    name = data.get("name")
    if not isinstance(name, str) or not name.startswith("t3_"):
        return Rejected(None, "Reddit post without a fullname (t3_…)", child)
    created = parse_time(data.get("created_utc"))
    if created is None:
        return Rejected(name, f"Reddit post {name!r} has no readable created_utc", child)
    # a crosspost carries the original post (its text, its link) in crosspost_parent_list
    parents = data.get("crosspost_parent_list")
    parent = parents[0] if isinstance(parents, list) and parents and isinstance(parents[0], dict) else {}
    title = _text(data.get("title"))
    body, body_links = _markdown(_text(data.get("selftext")))
    parent_title = _text(parent.get("title"))
    parent_body, parent_links = _markdown(_text(parent.get("selftext")))
    link = _outbound(data) or _outbound(parent)
    if not title and not body:
        return Rejected(name, f"Reddit post {name!r} has no text left (removed or deleted)", child)
    parts = [title, body]
    if parent and not body:  # a crosspost with a title only: the original's words are its content
        parts += [parent_title if parent_title.casefold() != title.casefold() else "", parent_body]
        body_links += parent_links
    parts.append(link or "")
    permalink = data.get("permalink")
    url = f"{WEB_URL}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else None
    author = data.get("author")
    handle = author if isinstance(author, str) and author and author not in GONE else None
    return RawPost(
        raw=child,
        external_id=name,
        network="reddit",
        text="\n\n".join(part for part in parts if part),
        created_at=created,
        url=url,
        author_handle=handle,
        author_name=handle,
        links=tuple(dict.fromkeys([link, *body_links] if link else body_links)),
    )


# Reddit's own hosts: the post itself, its images (i.redd.it), videos (v.redd.it), previews,
# galleries (reddit.com/gallery/…), short links (redd.it): none is an outbound link.
_REDDIT_HOST = re.compile(r"(?:^|\.)(?:reddit\.com|redd\.it|redditmedia\.com|reddituploads\.com|redditstatic\.com)$")
_HOST = re.compile(r"^https?://([^/?#\s]+)", re.IGNORECASE)
# [label](https://…) with an optional "title"; one level of parentheses inside the URL (Wikipedia)
_MD_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?(https?://(?:[^\s()<>]|\([^\s()<>]*\))+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_BARE_URL = re.compile(r"<?(https?://[^\s<>\[\]\"']+)>?", re.IGNORECASE)
_TRAILING = ".,;:!?*_~'\""
_LINKS = re.compile(f"{_MD_LINK.pattern}|{_BARE_URL.pattern}", re.IGNORECASE)


def is_outbound(url: str) -> bool:
    """An http(s) link to somewhere other than Reddit."""
    match = _HOST.match(url)
    if not match:
        return False
    host = match.group(1).rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    return "." in host and not _REDDIT_HOST.search(host)


def _outbound(post: dict[str, Any]) -> str | None:
    """A link post's outbound link: url_overridden_by_dest (where it points), else url."""
    if post.get("is_self") is True:
        return None
    for key in ("url_overridden_by_dest", "url"):
        value = post.get(key)
        if isinstance(value, str) and is_outbound(value.strip()):
            return value.strip()
    return None


def _markdown(text: str) -> tuple[str, list[str]]:
    """Self text with its markdown links made readable, and the outbound links it holds.

    `[label](https://…)` becomes `label (https://…)` for an outbound link and `label` for a
    link to Reddit (a subreddit, a user); bare URLs stay as written. Only outbound links count.
    """
    links: list[str] = []

    def read(match: re.Match[str]) -> str:
        if match.group(2) is None:  # a bare URL (or <URL>): kept as written
            url = match.group(3).rstrip(_TRAILING)
            extra = url.count(")") - url.count("(")  # counted once: a URL of 40,000 ")" is not a loop of counts
            while extra > 0 and url.endswith(")"):
                url, extra = url[:-1].rstrip(_TRAILING), extra - 1
            if is_outbound(url):
                links.append(url)
            return match.group(0)
        words, target = match.group(1).strip(), match.group(2)
        if not is_outbound(target):
            return words or target
        links.append(target)
        return target if not words or words == target else f"{words} ({target})"

    readable = _LINKS.sub(read, text)
    return readable, links


def _text(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return "" if text in GONE else text


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
