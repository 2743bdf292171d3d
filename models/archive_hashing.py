"""The archive's pure hashing rules, with nothing but the standard library: the canonical JSON of a
record's content, its leaf, the Merkle tree of a segment and a segment's header hash.

`models.archive` (the writer), `models.archive_seal` (the sealer), `models.archive_verify` and
`models.archive_check` (the offline check of an export, which must run where there is no
database and no SQLAlchemy) all hash through these functions, so the rules live in one place.
`models.archive` and `models.archive_seal` re-export them under their old names.

* A record's **leaf** is the SHA-256 of ``0x00`` and the canonical JSON of its unchangeable
  columns (`leaf_fields`), so a tombstone still hashes the same.
* A segment's **root** is the RFC 6962 Merkle tree hash of its leaves; a record's proof is its
  audit path (`merkle_proof`; `merkle_proofs` gives every leaf's at once).
* A segment's **hash** is the SHA-256 of the canonical JSON of its header (`header_fields`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):  # sorted: a set's order changes from one process to the next
        return sorted(value, key=lambda v: json.dumps(v, sort_keys=True, default=repr))
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities (which a platform's JSON may hold) written as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


MAX_DEPTH = 40  # nesting kept of an item too deep for the serialiser (`bounded`)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=_default)


def bounded(value: Any, depth: int = MAX_DEPTH) -> Any:
    """``value`` as plain JSON data, nesting cut at ``depth`` levels (a list nested 1,000 deep
    would otherwise overflow the serialiser's recursion)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if depth <= 0:
        return "…(nested too deep)"
    if isinstance(value, Mapping):
        return {str(k): bounded(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [bounded(v, depth - 1) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


def canonical(value: Any) -> str:
    """The canonical JSON text of ``value``: sorted keys, no spaces, non-ASCII kept, NaN written as
    a string; times as ISO 8601. Lone surrogates are escaped so the text encodes to UTF-8.

    An item the serialiser cannot write as it is (nested deeper than its recursion allows, or with
    keys of mixed types that cannot be sorted) is written `bounded`: copying every item that way
    first took a third of the archive's time, for items that are almost never deep."""
    try:
        out = _dumps(value)
    except (RecursionError, TypeError):
        value = _finite(bounded(value))
        out = _dumps(value)
    except ValueError:  # NaN or an infinity somewhere
        value = _finite(value)
        out = _dumps(value)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:
        out = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False,
                         default=_default)
    return out


def sha256_text(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()



GENESIS = "0" * 64
LEAF_COLUMNS = ("id", "kind", "subject", "at", "sha256", "retention_class", "retain_until", "mention_id",
                "source_id", "author", "network", "brand", "team")


def _time(value: datetime) -> str:
    return value.isoformat()


def leaf_fields(record: Any) -> dict[str, Any]:
    """The columns a record's leaf covers, from an `ArchiveRecord` or a mapping with the same keys."""
    get = record.get if isinstance(record, Mapping) else lambda k: getattr(record, k)
    out = {k: get(k) for k in LEAF_COLUMNS}
    for key in ("at", "retain_until"):
        value = out[key]
        if isinstance(value, datetime):
            out[key] = _time(value)
    return out


def leaf_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(b"\x00" + canonical(dict(fields)).encode("utf-8")).hexdigest()


def _node(left: str, right: str) -> str:
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: Sequence[str]) -> str:
    """RFC 6962 Merkle tree hash of ``leaves`` (hex leaf hashes); the empty tree is SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_proof(leaves: Sequence[str], index: int) -> list[str]:
    """The audit path of ``leaves[index]``: sibling hashes from the leaf up."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*merkle_proof(leaves[:k], index), merkle_root(leaves[k:])]
    return [*merkle_proof(leaves[k:], index - k), merkle_root(leaves[:k])]


def merkle_proofs(leaves: Sequence[str]) -> tuple[str, list[list[str]]]:
    """The root of ``leaves`` and every leaf's audit path, in O(n log n) hashes (calling
    `merkle_proof` per leaf rehashes whole subtrees each time: O(n²) for a segment)."""
    if not leaves:
        return merkle_root(leaves), []
    if len(leaves) == 1:
        return leaves[0], [[]]
    k = _split(len(leaves))
    left_root, left = merkle_proofs(leaves[:k])
    right_root, right = merkle_proofs(leaves[k:])
    for path in left:
        path.append(right_root)
    for path in right:
        path.append(left_root)
    return _node(left_root, right_root), left + right


def root_from_proof(leaf: str, index: int, size: int, proof: Sequence[str]) -> str | None:
    """The root that ``leaf`` at ``index`` of ``size`` leaves and its audit path lead to (None when
    the path has the wrong length for that position)."""
    path = list(proof)

    def walk(index: int, size: int) -> str | None:
        if size == 1:
            return leaf
        k = _split(size)
        if index < k:
            inner = walk(index, k)
        else:
            inner = walk(index - k, size - k)
        if inner is None or not path:
            return None
        sibling = path.pop(0)
        return _node(inner, sibling) if index < k else _node(sibling, inner)

    if not 0 <= index < size:
        return None
    # the path is consumed from the leaf up: walk down first, then combine on the way back
    result = walk(index, size)
    return result if result is not None and not path else None


def header_fields(segment: Any) -> dict[str, Any]:
    get = segment.get if isinstance(segment, Mapping) else lambda k: getattr(segment, k)
    sealed_at = get("sealed_at")
    return {"seq": get("seq"), "prev_hash": get("prev_hash"), "root": get("root"), "count": get("count"),
            "first_record_id": get("first_record_id"), "last_record_id": get("last_record_id"),
            "sealed_at": _time(sealed_at) if isinstance(sealed_at, datetime) else sealed_at}


def segment_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(dict(fields)).encode("utf-8")).hexdigest()
