"""The one place where text from outside is made storable, for every source and both databases.

Every post (`RawPost`) and every rejected item (`Rejected`) passes through here on its way to
the database (`collectors.ingest.enrich_batch`), whichever source sent it: polled pages, pushed
deliveries and imported files alike. Connectors read their platform's format; they do not clean.

* **Lone surrogates** (``"\\ud800"``, which JSON allows and UTF-8 cannot encode) become U+FFFD
  in text, and their ``\\udXXX`` escape in ids, so two ids that differ only there stay two.
* **NUL and other control characters** are removed (PostgreSQL refuses NUL in text; SQLite would
  keep it and cut the text short in most tools); in ids they are escaped like surrogates.
* **Text with nothing visible** (only spaces, zero-width or direction marks, a BOM, the Hangul
  filler…) is rejected with a reason rather than queued empty.
* A time that cannot be stored (beyond year 9999 or before year 1 once in UTC) is rejected.

`clean_post` never raises; `storable_json` never raises either (the raw form of a rejected item,
however deep or odd, is kept as valid JSON text).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from collectors.text import MAX_TEXT_CHARS
from collectors.types import RawPost, Rejected
from models.archive import bounded  # (one definition: the archive cuts deep items the same way)

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ID_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Characters that draw nothing although Unicode files them as letters or symbols.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Not "Cn" (unassigned) nor "Co" (private use): an emoji newer than this Python's Unicode tables
# (🫨, Unicode 15) is unassigned here, and a brand's logo glyph may be private use; both draw.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
MAX_FIELD_CHARS = 2000  # handles, names: far above any platform's limit
MAX_URL_CHARS = 8192  # longer addresses are dropped, not cut
MAX_RAW_CHARS = 100_000
_LOWEST = datetime(1, 1, 2, tzinfo=UTC)  # a day inside the range, so local conversions still fit
_HIGHEST = datetime(9999, 12, 30, tzinfo=UTC)


def clean_text(value: str) -> str:
    """``value`` with lone surrogates as U+FFFD and control characters (NUL included) removed;
    tabs and newlines are kept."""
    if value.isprintable():  # the common case, in C: no control character, no surrogate
        return value
    if not value.isascii():
        value = _SURROGATE.sub("\ufffd", value)
    return _CONTROL.sub("", value)


def clean_id(value: str) -> str:
    """An external id that any database stores: surrogates and control characters as ``\\uXXXX``
    escapes (ids are compared, so nothing is dropped), surrounding spaces removed."""
    value = value.strip()
    if value.isprintable():
        return value
    return _ID_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _field(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = clean_text(value)
    if not cleaned.isprintable() or "  " in cleaned or cleaned != cleaned.strip():
        cleaned = " ".join(cleaned.split())
    cleaned = cleaned[:MAX_FIELD_CHARS]
    return cleaned if has_visible(cleaned) else None


def has_visible(text: str) -> bool:
    """True when ``text`` draws at least one character (a letter, digit, mark of punctuation, emoji)."""
    for c in text:  # most texts start with a visible character: one step
        if c not in _BLANK_LETTERS and unicodedata.category(c) not in _INVISIBLE_CATEGORIES:
            return True
    return False


def clean_post(post: RawPost) -> RawPost | Rejected:
    """The post with every text field storable, or a Rejected saying why it cannot be kept."""
    try:
        return _clean_post(post)
    except Exception as exc:  # a bug here must cost one post, not the batch
        ident = clean_id(str(post.external_id)) if isinstance(post.external_id, str) else None
        return rejected_post(post, ident, f"post {ident!r} could not be cleaned: {type(exc).__name__}: {exc}")


def rejected_post(post: RawPost, external_id: str | None, reason: str) -> Rejected:
    """A parsed post that cannot be kept, as a Rejected. Its identity leaves out the time, which
    may be the time it was received: the same post sent again is the same rejected item."""
    raw = post_raw(post)
    return Rejected(external_id, reason, raw, identity={k: v for k, v in raw.items() if k != "created_at"})


def _clean_post(post: RawPost) -> RawPost | Rejected:
    external_id = clean_id(post.external_id)
    if not external_id:
        return rejected_post(post, None, "post has an empty id")
    text = clean_text(post.text)[: MAX_TEXT_CHARS * 2]
    if not has_visible(text):
        return rejected_post(post, external_id,
                         f"post {external_id!r}: no visible text (only spaces or invisible characters)")
    created_at = post.created_at if post.created_at.tzinfo else post.created_at.replace(tzinfo=UTC)
    if not _LOWEST <= created_at <= _HIGHEST:
        return rejected_post(post, external_id, f"post {external_id!r}: time {created_at.isoformat()} cannot be stored")
    network, url = _field(post.network) or "unknown", _url(post.url)
    handle, name, language = _field(post.author_handle), _field(post.author_name), _field(post.language_hint)
    links = tuple(link for link in (_url(v) for v in post.links) if link) if post.links else ()
    if (external_id == post.external_id and text == post.text and network == post.network and url == post.url
            and handle == post.author_handle and name == post.author_name and language == post.language_hint
            and links == post.links):
        return post  # nothing to clean (most posts): no copy
    return replace(post, external_id=external_id, network=network, text=text, url=url, author_handle=handle,
                   author_name=name, language_hint=language, links=links)


def _url(value: str | None) -> str | None:
    """An http(s) address or None: anything else (javascript:, data:) is not a link to show."""
    if value is None or len(value) > MAX_URL_CHARS:  # cut, it would lead elsewhere
        return None
    if value.isprintable() and " " not in value and value.startswith(("https://", "http://")):
        return value  # the common case, without the general cleaning
    cleaned = _field(value)
    if not cleaned or " " in cleaned or not cleaned.lower().startswith(("http://", "https://")):
        return None
    return cleaned


def clean_rejected(item: Rejected) -> Rejected:
    """A rejected item with its id and reason storable; its raw form is made storable by `storable_json`."""
    external_id = clean_id(item.external_id)[:200] if isinstance(item.external_id, str) else None
    return Rejected(external_id or None, clean_text(str(item.reason))[:4000], item.raw, item.identity)


def post_raw(post: RawPost) -> dict[str, Any]:
    """A post's fields as JSON-ready values (what is kept when the post itself is rejected)."""
    return {
        "external_id": post.external_id, "network": post.network, "text": post.text,
        "created_at": post.created_at.isoformat() if isinstance(post.created_at, datetime) else post.created_at,
        "url": post.url, "author_handle": post.author_handle, "author_name": post.author_name,
        "author_followers": post.author_followers, "language_hint": post.language_hint, "links": list(post.links),
    }


def canonical_json(value: Any) -> str:
    """Sorted, bounded JSON text of ``value``; lone surrogates written as ``\\udXXX`` escapes (still
    valid JSON, and storable: the text itself holds none)."""
    text = json.dumps(bounded(value), sort_keys=True, ensure_ascii=False, default=repr)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if not text.isascii() else text


def storable_json(raw: Any) -> str:
    """The raw form of a rejected item as JSON text to store, at most `MAX_RAW_CHARS` long
    (cut, it is no longer valid JSON: it is there for an operator to read)."""
    text = json.dumps(bounded(raw), ensure_ascii=False, default=repr)
    if not text.isascii():
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text[:MAX_RAW_CHARS]
