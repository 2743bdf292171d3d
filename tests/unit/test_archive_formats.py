"""The export's pure parts: every leaf's audit path at once, the formula-safe cell read back, the
manifest's own hash, one record as a message (deterministic, parsed back, headers safe)."""

from __future__ import annotations

import hashlib
import json
from email import message_from_bytes
from email.message import EmailMessage

import pytest

from models import archive_formats as fmt
from models.archive_hashing import canonical, merkle_proof, merkle_proofs, merkle_root, root_from_proof, sha256_text
from models.safe_csv import FORMULA_STARTS, safe_cell, unneutralised


@pytest.mark.parametrize("size", [*range(0, 18), 100, 257])
def test_every_audit_path_at_once_is_each_leafs_own(size: int) -> None:
    leaves = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(size)]
    root, paths = merkle_proofs(leaves)
    assert root == merkle_root(leaves)
    assert paths == [merkle_proof(leaves, i) for i in range(size)]
    assert all(root_from_proof(leaves[i], i, size, paths[i]) == root for i in range(size))


@pytest.mark.parametrize("text", ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx", "  =1", "'=already", "plain",
                                  '{"a":1}', ""])
def test_a_neutralised_cell_reads_back_as_written(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS) and not cell.lstrip().startswith(FORMULA_STARTS)
    assert unneutralised(cell) == text or text == "'=already"  # a quote already there is ambiguous, and rare


def test_the_manifest_text_carries_its_own_hash_and_any_change_shows() -> None:
    text = fmt.manifest_text({"format": fmt.FORMAT, "records": 3, "note": "é"})
    data = json.loads(text)
    assert fmt.manifest_text(data) == text
    assert fmt.manifest_text({**data, "records": 4}) != text.replace('"records": 3', '"records": 4')
    assert fmt.manifest_text(data) != text.replace("  ", "\t", 1)


META = {"id": 7, "kind": "post", "subject": "mention:3", "at": "2024-02-29T23:59:59.123456", "sha256": "",
        "retention_class": "default", "retain_until": "2031-03-01T23:59:59.123456", "mention_id": 3, "source_id": 1,
        "author": "x:eve\r\nBcc: victim@example.com", "network": "x", "brand": "Acme", "team": "service",
        "segment": 2, "position": 5, "restricted": True, "tombstone": False}


def test_a_record_becomes_one_message_that_parses_back() -> None:
    content = {"mention": {"text": "ça coûte « cher » =1+1\nline two", "author_name": "Eve\nBcc: x@y"}, "raw": {}}
    body = canonical(content)
    meta = {**META, "sha256": sha256_text(body)}
    data = fmt.eml_bytes(meta, "post", content, body)
    assert data == fmt.eml_bytes(meta, "post", content, body)  # the same record, the same bytes
    assert b"\r\n" in data and all(len(line) <= 998 for line in data.split(b"\r\n"))
    message = message_from_bytes(data, policy=fmt.MAIL_POLICY)
    assert isinstance(message, EmailMessage)
    assert message["Bcc"] is None and message["X-Vigie-Restricted"] == "yes"
    assert str(message["Date"]) == "Thu, 29 Feb 2024 23:59:59 +0000"
    assert message["Subject"] == "[post] mention:3: ça coûte « cher » =1+1 line two"
    assert message["From"].addresses[0].domain == fmt.MAIL_DOMAIN
    plain = message.get_body(("plain",))
    assert plain is not None and "[restricted:" in plain.get_content() and "line two" in plain.get_content()
    (attached,) = message.iter_attachments()
    assert attached.get_payload(decode=True) == body.encode("utf-8")


def test_a_tombstone_is_a_message_without_content() -> None:
    meta = {**META, "sha256": "ab" * 32, "restricted": False, "tombstone": True}
    message = message_from_bytes(fmt.eml_bytes(meta, "post", None, None), policy=fmt.MAIL_POLICY)
    assert isinstance(message, EmailMessage)
    assert list(message.iter_attachments()) == [] and message["X-Vigie-Tombstone"] == "yes"
    assert "ab" * 32 in message.get_content()


def test_an_events_text_says_who_did_what_and_a_replys_its_text() -> None:
    assert fmt.text_of("event", {"actor": "ann", "action": "claim", "before": {"status": "new"},
                                 "after": {"status": "claimed"}}) == 'ann claim\n{"status": "claimed"}'
    assert fmt.text_of("event", {"actor": "ann", "action": "reply.send", "after": {"text": "Hello"}}) == "Hello"
    assert fmt.text_of("post", {"mention": {"text": "hi"}}) == "hi"
    assert fmt.text_of("config", ["not", "a", "mapping"]) == ""


def test_a_text_holding_the_boundary_does_not_break_its_message() -> None:
    """The boundary is set, not drawn, and the generator does not check it against the text: a post
    holding it gets the record's own one, so the message still parses into its text and its JSON."""
    text = f"see this:\n--{fmt.BOUNDARY}\nContent-Type: text/html\n\n<b>forged part</b>\n--{fmt.BOUNDARY}--\nbye"
    content = {"mention": {"text": text}, "raw": {}}
    body = canonical(content)
    meta = {**META, "sha256": sha256_text(body), "restricted": False}
    message = message_from_bytes(fmt.eml_bytes(meta, "post", content, body), policy=fmt.MAIL_POLICY)
    assert isinstance(message, EmailMessage)
    (attached,) = message.iter_attachments()
    assert attached.get_payload(decode=True) == body.encode("utf-8")
    plain = message.get_body(("plain",))
    assert plain is not None and "forged part" in plain.get_content() and "bye" in plain.get_content()


def test_a_tombstone_may_end_within_the_heads_second() -> None:
    """A head's sealed_at is kept to the second, rounded down: a retention that ended earlier in that
    second (purged, then sealed, within it) is a genuine tombstone; one ending after it is not."""
    from models.archive_check import CheckResult, _check_tombstone

    for until, ok in (("2026-01-01T10:00:00.500000", True), ("2026-01-01T09:59:59", True),
                      ("2026-01-01T10:00:01", False), ("2031-01-01T00:00:00", False), ("not a time", False)):
        result = CheckResult()
        result.head_sealed_at = "2026-01-01T10:00:00"
        _check_tombstone({"id": 1, "leaf": {"retain_until": until}}, result)
        assert result.ok is ok, until
