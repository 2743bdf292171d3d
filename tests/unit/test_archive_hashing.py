"""The archive's pure hashing: canonical JSON (what a record's SHA-256 covers) and the RFC 6962
Merkle tree of a segment's leaves, its audit paths and the root they lead back to."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from models.archive import canonical, sha256_text
from models.archive_seal import leaf_hash, merkle_proof, merkle_root, root_from_proof

# RFC 6962's test tree (certificate-transparency's merkle_tree_test): the leaves' data and the
# tree hash of the first n leaves, n = 1…8.
RFC_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
              bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def rfc_leaf(data: bytes) -> str:
    return hashlib.sha256(b"\x00" + data).hexdigest()


def leaves(n: int) -> list[str]:
    return [leaf_hash({"id": i, "kind": "post"}) for i in range(n)]


# --- the Merkle tree -------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 9))
def test_merkle_root_is_rfc_6962s(n: int) -> None:
    assert merkle_root([rfc_leaf(d) for d in RFC_LEAVES[:n]]) == RFC_ROOTS[n - 1]


def test_the_empty_tree_and_a_single_leaf() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()
    assert merkle_root(["ab" * 32]) == "ab" * 32
    assert merkle_proof(["ab" * 32], 0) == []
    assert root_from_proof("ab" * 32, 0, 1, []) == "ab" * 32


def test_a_leaf_is_prefixed_apart_from_a_node() -> None:
    """Leaves hash with 0x00 and nodes with 0x01 (RFC 6962): an inner node cannot pass for a leaf."""
    a, b = leaves(2)
    assert merkle_root([a, b]) == hashlib.sha256(b"\x01" + bytes.fromhex(a) + bytes.fromhex(b)).hexdigest()
    assert leaf_hash({"id": 1}) == hashlib.sha256(b"\x00" + b'{"id":1}').hexdigest()


@pytest.mark.parametrize("n", [*range(1, 18), 31, 32, 33, 100])
def test_every_leafs_proof_leads_to_the_root(n: int) -> None:
    tree = leaves(n)
    root = merkle_root(tree)
    for index, leaf in enumerate(tree):
        proof = merkle_proof(tree, index)
        assert len(proof) <= max(1, (n - 1).bit_length())
        assert root_from_proof(leaf, index, n, proof) == root


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13])
def test_a_wrong_leaf_position_or_path_does_not_lead_to_the_root(n: int) -> None:
    tree = leaves(n)
    root = merkle_root(tree)
    outsider = leaf_hash({"id": 999})
    for index, leaf in enumerate(tree):
        proof = merkle_proof(tree, index)
        assert root_from_proof(outsider, index, n, proof) != root
        for other in range(n):
            if other != index:
                assert root_from_proof(leaf, other, n, proof) != root
        for k in range(len(proof)):
            bent = [*proof[:k], "00" * 32, *proof[k + 1:]]
            assert root_from_proof(leaf, index, n, bent) != root
        assert root_from_proof(leaf, index, n, [*proof, proof[0]]) is None  # too long
        assert root_from_proof(leaf, index, n, proof[:-1]) is None  # too short
    assert root_from_proof(tree[0], n, n, merkle_proof(tree, 0)) is None  # outside the tree
    assert root_from_proof(tree[0], -1, n, merkle_proof(tree, 0)) is None


def test_any_change_of_the_leaves_changes_the_root() -> None:
    tree = leaves(7)
    root = merkle_root(tree)
    assert merkle_root(tree[:-1]) != root
    assert merkle_root([*tree, tree[-1]]) != root  # a duplicated last leaf is not the same tree
    assert merkle_root([tree[1], tree[0], *tree[2:]]) != root
    assert merkle_root([*tree[:3], leaf_hash({"id": 3, "kind": "posT"}), *tree[4:]]) != root


# --- canonical JSON --------------------------------------------------------------------------


def test_canonical_sorts_keys_at_every_level_without_spaces() -> None:
    one = {"b": 1, "a": {"z": [1, {"y": 2, "x": 3}], "c": None}}
    other = {"a": {"c": None, "z": [1, {"x": 3, "y": 2}]}, "b": 1}
    assert canonical(one) == canonical(other) == '{"a":{"c":null,"z":[1,{"x":3,"y":2}]},"b":1}'
    assert sha256_text(canonical(one)) == sha256_text(canonical(other))
    assert canonical([2, 1]) != canonical([1, 2])  # lists keep their order


def test_canonical_keeps_non_ascii_text_as_utf8() -> None:
    assert canonical({"t": "Crédit é 💳"}) == '{"t":"Crédit é 💳"}'
    assert sha256_text('{"t":"é"}') == hashlib.sha256('{"t":"é"}'.encode()).hexdigest()


@pytest.mark.parametrize(("value", "written"), [(float("nan"), '"nan"'), (float("inf"), '"inf"'),
                                                 (float("-inf"), '"-inf"')])
def test_canonical_writes_nan_and_infinities_as_strings(value: float, written: str) -> None:
    """Platforms' JSON may hold them; strict JSON may not: the record stays readable by any parser."""
    text = canonical({"score": value, "list": [1.5, value]})
    assert text == f'{{"list":[1.5,{written}],"score":{written}}}'
    json.loads(text)
    assert canonical({"score": value}) == canonical({"score": value})


def test_canonical_escapes_lone_surrogates_so_the_text_encodes() -> None:
    text = canonical({"t": "a\ud800b", "é": "é"})
    text.encode("utf-8")  # no UnicodeEncodeError
    assert text == '{"t":"a\\ud800b","\\u00e9":"\\u00e9"}'
    assert json.loads(text) == {"t": "a\ud800b", "é": "é"}
    assert sha256_text(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_canonical_writes_times_sets_and_bytes_deterministically() -> None:
    at = datetime(2026, 12, 3, 21, 0, 5, 123, tzinfo=UTC)
    assert canonical({"at": at}) == '{"at":"2026-12-03T21:00:05.000123+00:00"}'
    assert canonical({"t": (1, 2)}) == '{"t":[1,2]}'
    assert canonical({"b": b"ab\xff"}) == '{"b":"ab\ufffd"}'


def test_canonical_writes_a_set_in_one_order_whatever_the_process() -> None:
    """A set iterates in an order that changes with each process's string hashing: sorted, the
    same content always gives the same text and hash."""
    words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
    assert canonical({"s": words}) == canonical({"s": frozenset(sorted(words, reverse=True))})
    assert canonical({"s": words}) == json.dumps({"s": sorted(words)}, separators=(",", ":"))
    assert canonical({"n": {3, 1, 2}}) == '{"n":[1,2,3]}'
