"""Field mapping: one JSON object (or CSV row) → a `RawPost`, shared by the webhook source and `vigie import`.

A mapping names, for each `RawPost` field, where the value is in the item, as a dotted
path (``message.body``, ``from.username``; a number walks into a list: ``attachments.0.url``).
A field may list several paths; the first one holding a value wins. A key that is itself
dotted (a CSV column named ``author.handle``) is found before the path is walked.

Defaults (`DEFAULT_PATHS`): ``id``, ``text``, ``created_at``, ``url``, ``author.handle``,
``author.name``, ``author.followers``, ``network``, ``language``, ``links`` (a URL or a list of
them: the outbound links, used to spot the same link posted on several networks). Times are ISO 8601
(``2026-11-25T08:15:00Z``, ``…+01:00``, ``…+0000``; without an offset they are read as UTC)
or epoch seconds (numbers above 10^11 are read as epoch milliseconds, as LinkedIn sends).
An item without a time gets the time it was received.

A path may also be a template: text with dotted paths in braces,
``https://www.facebook.com/{post_id}``, used only when every path in it holds a value (each
value URL-quoted); it builds a post's address from its id.

An item without an id or a text becomes a `Rejected` with a reason naming the path;
`map_item` never raises, whatever the item holds (text fields are made storable later, in
one place for every source: `collectors.clean`). A bad mapping fails at start
(`FieldMapping.from_options`). `decode_json` reads a body or a line as JSON without the
limits that would sink a whole batch for one odd value (an integer of 5,000 digits is kept
as its digits).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from collectors.clean import canonical_json
from collectors.text import outbound
from collectors.types import CollectorError, RawPost, Rejected

Path = tuple[str, ...]
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_JSON_DEPTH = 1000  # levels of nesting `decode_json` always reads
MAX_FOLLOWERS = 10**12  # more than anyone has: a larger count is not one
MAX_INT_DIGITS = 4000  # Python refuses to read longer integers (4,300 digits): keep their digits as text


@dataclass(frozen=True)
class Template:
    """``https://www.facebook.com/{post_id}``: text with dotted paths in braces."""

    text: str
    paths: tuple[Path, ...]

    def render(self, item: Any) -> str | None:
        values = []
        for path in self.paths:
            value = _scalar_text(resolve(item, path))
            if value is None:
                return None
            values.append(quote(value, safe="", errors="surrogatepass"))  # a lone surrogate: %ED%A0%80
        parts = iter(values)
        return _PLACEHOLDER.sub(lambda _m: next(parts), self.text)


Locator = Path | Template


def parse_locator(value: Any, where: str) -> Locator:
    """A dotted path, or a template when the text holds ``{…}``; raise a permanent CollectorError."""
    if isinstance(value, str) and "{" in value:
        names = _PLACEHOLDER.findall(value)
        if not names or "{" in _PLACEHOLDER.sub("", value) or "}" in _PLACEHOLDER.sub("", value):
            raise CollectorError(f"{where}: expected a template such as 'https://x.example/{{id}}', got {value!r}",
                                 permanent=True)
        return Template(value, tuple(parse_path(name, where) for name in names))
    return parse_path(value, where)


def decode_json(data: bytes | str) -> Any:
    """JSON text as Python values; an integer too long for Python is kept as its digits (a string),
    so one odd number costs at most its own item. Nesting up to `MAX_JSON_DEPTH` levels is read
    whatever the caller's own depth (the decoder counts against Python's recursion limit, which
    is raised for it when needed, never lowered). Raise ValueError, or RecursionError beyond that
    depth, when the text is not JSON that can be read."""
    try:
        return json.loads(data, parse_int=_parse_int)
    except RecursionError:
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back  # type: ignore[assignment]
        if sys.getrecursionlimit() >= depth + MAX_JSON_DEPTH + 50:
            raise
        sys.setrecursionlimit(depth + MAX_JSON_DEPTH + 50)
        return json.loads(data, parse_int=_parse_int)


def _parse_int(digits: str) -> int | str:
    return int(digits) if len(digits) <= MAX_INT_DIGITS else digits

DEFAULT_PATHS: dict[str, tuple[str, ...]] = {
    "external_id": ("id",),
    "text": ("text",),
    "created_at": ("created_at",),
    "url": ("url",),
    "author_handle": ("author.handle",),
    "author_name": ("author.name",),
    "author_followers": ("author.followers",),
    "network": ("network",),
    "language_hint": ("language",),
    "links": ("links",),
}
_WEB = ("http://", "https://")
MILLISECONDS_ABOVE = 10**11  # epoch seconds this large are 5,000 years away: the number is milliseconds


def parse_path(value: Any, where: str) -> Path:
    """``"message.body"`` → ``("message", "body")``; raise a permanent CollectorError naming ``where``."""
    if not isinstance(value, str) or not value.strip():
        raise CollectorError(f"{where}: expected a dotted path such as 'message.body', got {value!r}", permanent=True)
    parts = tuple(value.strip().split("."))
    if any(not p for p in parts):
        raise CollectorError(f"{where}: empty segment in path {value!r}", permanent=True)
    return parts


def resolve(item: Any, path: Path) -> Any:
    """The value at ``path`` in ``item``, or None. A literal dotted key is tried first (CSV columns)."""
    if isinstance(item, Mapping):
        whole = ".".join(path)
        if len(path) > 1 and whole in item:
            return item[whole]
    current = item
    for part in path:
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def select_items(body: Any, path: Path | None) -> list[Any]:
    """The list of items in a request body. ``*`` in the path walks every element of a list, and
    each match is then an item (``entry.*.changes.*.value`` flattens a Facebook page webhook).
    Without a path: the body itself when it is a list, else its ``items`` key. Raise ValueError
    when the path is not in the body or, without a wildcard, does not lead to a list."""
    if path is None:
        if isinstance(body, list):
            return body
        path = ("items",)
    # Before the first wildcard the path is the delivery's shape: a miss refuses it whole. After
    # it, each match is one item's way down: a miss is that item's problem (a Rejected), and its
    # neighbours go on (a Facebook change without a `value`).
    found: list[Any] = [(body, "")]
    for index, part in enumerate(path):
        step: list[Any] = []
        wild = "*" in path[:index]
        for entry in found:
            if isinstance(entry, Rejected):
                step.append(entry)
                continue
            node, where = entry
            if part == "*" and isinstance(node, list):
                step.extend((child, f"{where}.{n}".lstrip(".")) for n, child in enumerate(node))
            elif part != "*" and isinstance(node, Mapping) and part in node:
                step.append((node[part], f"{where}.{part}".lstrip(".")))
            elif not wild:
                if part == "*":
                    raise ValueError(f"{'.'.join(path[:index]) or 'the body'}: expected a list, got {_kind(node)}")
                raise ValueError(f"{'.'.join(path[: index + 1])}: not found in {_kind(node)}")
            else:
                wanted = "a list" if part == "*" else f"no {part!r}"
                reason = (f"{where or 'the body'}: {wanted}, got {_kind(node)}" if part == "*"
                          else f"{where or 'the body'}: {wanted} (expected by items_path {'.'.join(path)})")
                step.append(Rejected(item_digest(node), reason, node))
        found = step
    found = [entry if isinstance(entry, Rejected) else entry[0] for entry in found]
    if "*" not in path:
        if not isinstance(found[0], list):
            raise ValueError(f"{'.'.join(path)}: expected a list of items, got {_kind(found[0])}")
        return list(found[0])
    items: list[Any] = []
    for node in found:  # after a wildcard, each match is an item, or a list of items
        items.extend(node if isinstance(node, list) else [node])
    return items


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string", type(None): "null"}


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from ISO 8601 text or epoch seconds/milliseconds; None when absent.
    Raise ValueError when a value is present but is not a time."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            number: float = float(text)
        except ValueError:
            parsed = datetime.fromisoformat(text)  # 3.11: Z, +01:00, +0000, fractions
            try:
                return (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed).astimezone(UTC)
            except OverflowError as exc:  # 9999-12-31T23:00:00-05:00 is after year 9999 in UTC
                raise ValueError(f"not a time: {value!r} is out of range in UTC") from exc
    elif isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else float("inf")
    else:
        raise ValueError(f"not a time: {_kind(value)}")
    if number != number or number < 0:  # NaN or before 1970
        raise ValueError(f"not a time: {value!r}")
    if number > MILLISECONDS_ABOVE:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"not a time: {value!r}") from exc


def _scalar_text(value: Any) -> str | None:
    """Ids and handles arrive as strings or numbers; anything else (objects, lists) is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _followers(value: Any) -> int | None:
    """A count that cannot be read is left out rather than sinking the post: it only nudges priority."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip().replace(",", "").replace("_", "")
        if not (value.isascii() and value.isdigit()) or len(value) > 18:  # "²".isdigit() is True, int("²") fails
            return None
    if isinstance(value, int | str):
        number = int(value)
        return number if 0 <= number <= MAX_FOLLOWERS else None
    return None


def _links(value: Any) -> tuple[str, ...]:
    """Outbound links only: a network's own pages and media (a Facebook photo's file) are not shared content."""
    values = value if isinstance(value, list) else [value]
    return tuple(v.strip() for v in values if isinstance(v, str) and outbound(v))[:20]


def _name(locator: Locator) -> str:
    return locator.text if isinstance(locator, Template) else ".".join(locator)


def item_digest(item: Any) -> str:
    """A stable name for an item that has no id, so a redelivered bad item is kept once."""
    return "sha1:" + hashlib.sha1(canonical_json(item).encode()).hexdigest()


@dataclass(frozen=True)
class FieldMapping:
    paths: Mapping[str, tuple[Locator, ...]]
    network: str  # used when the item carries no network of its own

    @classmethod
    def from_options(cls, fields: Any, where: str, network: str) -> FieldMapping:
        """Validate a ``fields:`` mapping (RawPost field → path or list of paths) at start."""
        if fields is None:
            fields = {}
        if not isinstance(fields, Mapping):
            raise CollectorError(f"{where}: fields: expected a mapping of field: path, got {fields!r}", permanent=True)
        paths: dict[str, tuple[Locator, ...]] = {
            name: tuple(parse_path(p, f"{where}: fields.{name}") for p in default)
                 for name, default in DEFAULT_PATHS.items()}
        for name, value in fields.items():
            if name not in DEFAULT_PATHS:
                known = ", ".join(DEFAULT_PATHS)
                raise CollectorError(f"{where}: fields.{name}: unknown field (known: {known})", permanent=True)
            candidates = value if isinstance(value, list) else [value]
            if not candidates:
                raise CollectorError(f"{where}: fields.{name}: expected a path or a list of paths, got []", True)
            paths[name] = tuple(parse_locator(p, f"{where}: fields.{name}") for p in candidates)
        if not isinstance(network, str) or not network.strip() or len(network) > 40:
            raise CollectorError(f"{where}: network: expected a short label, got {network!r}", permanent=True)
        return cls(paths, network.strip())

    def _first(self, item: Any, name: str) -> tuple[Any, str]:
        for locator in self.paths[name]:
            value = locator.render(item) if isinstance(locator, Template) else resolve(item, locator)
            if value is not None and value != "":
                return value, _name(locator)
        return None, " or ".join(_name(p) for p in self.paths[name])

    def map_item(self, item: Any, received_at: datetime) -> RawPost | Rejected:
        """One item → a RawPost, or a Rejected saying which field is missing or wrong. Never raises:
        an item that is already a Rejected (`select_items` found no item there) is returned as is."""
        if isinstance(item, Rejected):
            return item
        try:
            return self._map(item, received_at)
        except Exception as exc:  # a case not foreseen below must cost this item only
            return Rejected(item_digest(item), f"item could not be read: {type(exc).__name__}: {exc}", item)

    def _map(self, item: Any, received_at: datetime) -> RawPost | Rejected:
        if not isinstance(item, Mapping):
            return Rejected(item_digest(item), f"item is {_kind(item)}, not an object", item)
        raw_id, id_path = self._first(item, "external_id")
        external_id = _scalar_text(raw_id)
        if external_id is None:
            why = "missing" if raw_id is None else f"not a string or number ({_kind(raw_id)})"
            return Rejected(item_digest(item), f"no id: {id_path} {why}", item)
        text, text_path = self._first(item, "text")
        if not isinstance(text, str) or not text.strip():
            why = "missing or empty" if text is None or isinstance(text, str) else f"not a string ({_kind(text)})"
            return Rejected(external_id, f"item {external_id!r}: no text: {text_path} {why}", item)
        raw_time, time_path = self._first(item, "created_at")
        try:
            created_at = parse_time(raw_time) or received_at
        except ValueError as exc:
            return Rejected(external_id, f"item {external_id!r}: {time_path}: {exc}", item)
        url = _scalar_text(self._first(item, "url")[0])
        network = _scalar_text(self._first(item, "network")[0]) or self.network
        language = _scalar_text(self._first(item, "language_hint")[0])
        return RawPost(
            raw=item,
            external_id=external_id,
            network=network[:40],
            text=text,
            created_at=created_at,
            url=url if url and url.lower().startswith(_WEB) else None,
            author_handle=_scalar_text(self._first(item, "author_handle")[0]),
            author_name=_scalar_text(self._first(item, "author_name")[0]),
            author_followers=_followers(self._first(item, "author_followers")[0]),
            language_hint=language[:8] if language else None,
            links=_links(self._first(item, "links")[0]),
        )
