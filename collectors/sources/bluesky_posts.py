"""Bluesky post views read into posts: the text (shortened links written out; for a post without
text, what it embeds), the links, the author's DID, the web link and the time.

Kept apart from ``bluesky.py`` (the source: sessions, fetch and parse; its docstring documents
what is read here) because this reads one post view and sends nothing: pure functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collectors.types import RawPost, Rejected, parse_iso_time

# What the AppView shows instead of a handle it could not verify: never an author's name.
INVALID_HANDLE = "handle.invalid"
LINK_FACET = "app.bsky.richtext.facet#link"
MAX_DEPTH = 2  # embeds within embeds read for a post without text


def post_of(view: Any, fetched: datetime, network: str) -> RawPost | Rejected:
    """One post view as a post, or rejected with the reason (a view that is not a post, or has nothing to show)."""
    uri = view.get("uri") if isinstance(view, dict) else None
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return Rejected(None, "bluesky: post without an at:// uri", view)
    record: dict[str, Any] = view["record"] if isinstance(view.get("record"), dict) else {}
    # The view's embed is the hydrated one (alt texts, the card, the quoted post's text);
    # the record's own embed (alt texts and the card, no quoted text) stands in without it.
    embed = view.get("embed") if isinstance(view.get("embed"), dict) else record.get("embed")
    text = _text(record, embed)
    if not text:
        return Rejected(uri[:200], f"bluesky: post {uri} has no text (deleted or not a post)", view)
    author: dict[str, Any] = view["author"] if isinstance(view.get("author"), dict) else {}
    did = _did(uri, author)
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    verified = bool(handle) and handle != INVALID_HANDLE
    if not verified:
        handle = did
    name = author.get("displayName")
    langs = record.get("langs")
    return RawPost(
        raw=view,
        external_id=uri[:200],
        network=network,
        text=text,
        created_at=sort_at(view) or fetched,
        url=_web_url(uri, handle if verified else did),
        author_handle=handle,
        author_name=name if isinstance(name, str) and name.strip() else handle,
        language_hint=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        links=_links(record, embed),
    )


def _text(record: dict[str, Any], embed: Any) -> str:
    """The post's text with its shortened link texts written out; for a post without text, what it
    embeds (`_embedded`). Empty when there is nothing to show."""
    text = record.get("text")
    if isinstance(text, str) and text.strip():
        return _expand_links(text, record.get("facets"))
    return _embedded(embed)


def _link_facets(facets: Any) -> list[tuple[Any, Any, str]]:
    """(byteStart, byteEnd, uri) of each app.bsky.richtext.facet#link, in the record's order."""
    found: list[tuple[Any, Any, str]] = []
    for facet in facets if isinstance(facets, list) else []:
        if not isinstance(facet, dict):
            continue
        index = _obj(facet.get("index"))
        features = facet.get("features")
        for feature in features if isinstance(features, list) else []:
            if isinstance(feature, dict) and feature.get("$type") == LINK_FACET and isinstance(feature.get("uri"), str):
                found.append((index.get("byteStart"), index.get("byteEnd"), feature["uri"].strip()))
    return found


def _expand_links(text: str, facets: Any) -> str:
    """Each link facet's text replaced by its full URI when that text is a shortened form of it
    ("drive.google.com/file/d/1rpor..."). Offsets are UTF-8 byte offsets into the text; a facet out
    of range, overlapping another, not on character boundaries, or over other words (a link on
    "this article") leaves the text as it is."""
    data = text.encode("utf-8", "surrogatepass")
    spans: list[tuple[int, int, str]] = []
    for start, end, uri in _link_facets(facets):
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            continue
        if not 0 <= start < end <= len(data) or any(start < e and s < end for s, e, _ in spans):
            continue
        try:
            shown = data[start:end].decode("utf-8", "surrogatepass")
            data[:start].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            continue
        if _shortened(shown, uri):
            spans.append((start, end, uri))
    if not spans:
        return text
    out, at = [], 0
    for start, end, uri in sorted(spans):
        out.append(data[at:start])
        out.append(uri.encode("utf-8", "surrogatepass"))
        at = end
    out.append(data[at:])
    return b"".join(out).decode("utf-8", "surrogatepass")


def _shortened(shown: str, uri: str) -> bool:
    """Whether `shown` is how Bluesky clients display `uri`: without the scheme, maybe cut with "..."."""
    def bare(value: str) -> str:
        value = value.strip().lower()
        for scheme in ("https://", "http://"):
            if value.startswith(scheme):
                return value[len(scheme):]
        return value

    short, full = bare(shown), bare(uri)
    for cut in ("...", "…"):
        if short.endswith(cut):
            short = short[: -len(cut)]
            return bool(short) and full.startswith(short)
    return short == full


def _embedded(embed: Any, depth: int = 0) -> str:
    """What a post without text shows, one part a paragraph: each image's or video's alt text
    (`[image]` / `[video]` without one), `[link] title — description` for a link card, and
    `[quote @handle] text` for a quoted post (a quote with media gives both). Empty when the
    embed holds nothing readable (a quote of a deleted post, an unknown embed). A quote inside a
    quote is read two levels deep at most, like the Bluesky app shows it."""
    if not isinstance(embed, dict) or depth > MAX_DEPTH:
        return ""
    kind = str(embed.get("$type") or "").split("#")[0]
    if kind == "app.bsky.embed.images":
        images = embed.get("images")
        return " ".join(_alt(i, "image") for i in (images if isinstance(images, list) else []) if isinstance(i, dict))
    if kind == "app.bsky.embed.video":
        return _alt(embed, "video")
    if kind == "app.bsky.embed.external":
        external = _obj(embed.get("external"))
        words = [external[k].strip() for k in ("title", "description")
                 if isinstance(external.get(k), str) and external[k].strip()]
        if words:
            return "[link] " + " — ".join(words)
        uri = external.get("uri")
        return f"[link] {uri.strip()}" if isinstance(uri, str) and uri.strip() else ""
    if kind == "app.bsky.embed.record":
        return _quote(embed.get("record"), depth)
    if kind == "app.bsky.embed.recordWithMedia":
        quoted = embed.get("record")
        parts = (_embedded(embed.get("media"), depth + 1),
                 _quote(quoted.get("record") if isinstance(quoted, dict) else None, depth))
        return "\n\n".join(p for p in parts if p)
    return ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _alt(item: dict[str, Any], kind: str) -> str:
    alt = item.get("alt")
    return alt.strip() if isinstance(alt, str) and alt.strip() else f"[{kind}]"


def _quote(view: Any, depth: int) -> str:
    """A quoted post (app.bsky.embed.record#viewRecord): its text, or what it embeds itself."""
    if not isinstance(view, dict):
        return ""
    value = _obj(view.get("value"))
    text = value.get("text")
    if isinstance(text, str) and text.strip():
        shown = _expand_links(text, value.get("facets")).strip()
    else:
        embeds = view.get("embeds")
        shown = _embedded(embeds[0], depth + 1) if isinstance(embeds, list) and embeds else ""
    if not shown:
        return ""
    author = _obj(view.get("author"))
    handle = author.get("handle")
    if not isinstance(handle, str) or not handle or handle == INVALID_HANDLE:
        handle = author.get("did") if isinstance(author.get("did"), str) else None
    return f"[quote @{handle}] {shown}" if handle else f"[quote] {shown}"


def _links(record: dict[str, Any], embed: Any) -> tuple[str, ...]:
    """The full URIs of the link facets, then the link card's (also beside a quote), once each."""
    found = [uri for _, _, uri in _link_facets(record.get("facets"))]
    for card in (embed, embed.get("media") if isinstance(embed, dict) else None, record.get("embed")):
        if isinstance(card, dict) and str(card.get("$type") or "").split("#")[0] == "app.bsky.embed.external":
            external = card.get("external")
            if isinstance(external, dict) and isinstance(external.get("uri"), str):
                found.append(external["uri"].strip())
    links: list[str] = []
    for uri in found:
        if uri.lower().startswith(("https://", "http://")) and uri not in links:
            links.append(uri)
    return tuple(links)


def _did(uri: str, author: dict[str, Any]) -> str | None:
    """The author's DID: the at:// URI's authority (the repository the post is in), else `author.did`."""
    authority = uri[len("at://"):].split("/", 1)[0]
    if authority.startswith("did:"):
        return authority
    did = author.get("did")
    return did if isinstance(did, str) and did.startswith("did:") else None


def sort_at(view: Any) -> datetime | None:
    """What `since` filters on: the earlier of createdAt and indexedAt (a post dated in the future sorts when seen)."""
    if not isinstance(view, dict):
        return None
    record: dict[str, Any] = view["record"] if isinstance(view.get("record"), dict) else {}
    found = (parse_iso_time(record.get("createdAt")), parse_iso_time(view.get("indexedAt")))
    times = [t for t in found if t is not None]
    return min(times) if times else None


def _web_url(uri: str, actor: str | None) -> str | None:
    """The post on bsky.app under its author's verified handle, else under the DID (never handle.invalid)."""
    parts = uri[len("at://"):].split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post" or not parts[2]:
        return None
    return f"https://bsky.app/profile/{actor or parts[0]}/post/{parts[2]}"
