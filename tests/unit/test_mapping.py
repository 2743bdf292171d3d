"""The field mapping shared by webhooks and imports: paths, defaults, times, and rejects that never raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from collectors.mapping import FieldMapping, parse_time, resolve, select_items
from collectors.types import CollectorError, RawPost, Rejected
from tests.replay import FIXTURES

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _mapping(fields: object = None, network: str = "webhook") -> FieldMapping:
    return FieldMapping.from_options(fields, "source 'hook'", network)


def test_default_paths_read_a_plain_item() -> None:
    item = {"id": 42, "text": "Aurelia Bank app down", "created_at": "2026-11-25T08:15:00Z",
            "url": "https://social.example/p/42", "author": {"handle": "@lea", "name": "Léa", "followers": "12,500"},
            "language": "fr", "links": ["https://aurelia.example/x", "javascript:alert(1)"]}
    post = _mapping().map_item(item, NOW)
    assert post == RawPost("42", "webhook", "Aurelia Bank app down", datetime(2026, 11, 25, 8, 15, tzinfo=UTC),
                           "https://social.example/p/42", "@lea", "Léa", 12500, "fr",
                           links=("https://aurelia.example/x",))


def test_configured_paths_lists_and_fallbacks() -> None:
    mapping = _mapping({"external_id": "post_id", "text": ["message", "story"], "author_handle": "from.username",
                        "created_at": "created_time", "url": "attachments.0.url", "network": "platform"})
    story = {"post_id": "1_2", "story": "Léa shared a post", "from": {"username": "lea"},
             "created_time": 1764058500, "attachments": [{"url": "https://fb.example/1_2"}], "platform": "facebook"}
    post = mapping.map_item(story, NOW)
    assert isinstance(post, RawPost)
    assert (post.external_id, post.text, post.author_handle, post.url, post.network) == (
        "1_2", "Léa shared a post", "lea", "https://fb.example/1_2", "facebook")
    assert post.created_at == datetime(2025, 11, 25, 8, 15, tzinfo=UTC)
    message = mapping.map_item({**story, "message": "The message wins"}, NOW)
    assert isinstance(message, RawPost) and message.text == "The message wins"


def test_a_csv_column_named_with_dots_is_found_before_walking() -> None:
    post = _mapping().map_item({"id": "7", "text": "hi", "author.handle": "bob", "author.followers": ""}, NOW)
    assert isinstance(post, RawPost)
    assert (post.author_handle, post.author_followers, post.created_at) == ("bob", None, NOW)


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-25T08:15:00Z", datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),
    ("2026-11-25T09:15:00+01:00", datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),
    ("2026-11-25T08:15:00+0000", datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),  # Facebook's format
    ("2026-11-25 08:15:00", datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),  # no offset: UTC
    (1795594500, datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),
    ("1795594500", datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),
    (1795594500.5, datetime(2026, 11, 25, 8, 15, 0, 500000, tzinfo=UTC)),
    (1795594500123, datetime(2026, 11, 25, 8, 15, 0, 123000, tzinfo=UTC)),  # LinkedIn's milliseconds
    (None, None),
    ("", None),
])
def test_times(value: object, expected: datetime | None) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["soon", True, -5, {"t": 1}, "nan", float("inf")])
def test_bad_times_raise_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        parse_time(value)


@pytest.mark.parametrize(("item", "external_id", "reason"), [
    ({"text": "no id"}, None, "no id: id missing"),
    ({"id": {"nested": 1}, "text": "x"}, None, "no id: id not a string or number (an object)"),
    ({"id": "a1"}, "a1", "item 'a1': no text: text missing or empty"),
    ({"id": "a2", "text": "   "}, "a2", "item 'a2': no text: text missing or empty"),
    ({"id": "a3", "text": ["list"]}, "a3", "item 'a3': no text: text not a string (a list)"),
    ({"id": "a4", "text": "ok", "created_at": "next tuesday"}, "a4",
     "item 'a4': created_at: Invalid isoformat string: 'next tuesday'"),
    ("just a string", None, "item is a string, not an object"),
    ([1, 2], None, "item is a list, not an object"),
])
def test_unreadable_items_are_rejected_with_a_reason_never_raised(
    item: object, external_id: str | None, reason: str
) -> None:
    result = _mapping().map_item(item, NOW)
    assert isinstance(result, Rejected)
    assert result.reason == reason and result.raw == item
    if external_id is None:  # no id: named by a digest, so a redelivered bad item is kept once
        assert result.external_id is not None and result.external_id.startswith("sha1:")
        assert _mapping().map_item(item, NOW) == result
    else:
        assert result.external_id == external_id


def test_unknown_url_schemes_and_odd_counts_are_dropped_not_fatal() -> None:
    post = _mapping().map_item({"id": 1, "text": "t", "url": "javascript:alert(1)",
                                "author": {"followers": -3, "handle": 99}}, NOW)
    assert isinstance(post, RawPost)
    assert (post.url, post.author_followers, post.author_handle) == (None, None, "99")


@pytest.mark.parametrize(("fields", "message"), [
    ({"txt": "message"}, "source 'hook': fields.txt: unknown field (known: external_id, text,"),
    ({"text": ""}, "source 'hook': fields.text: expected a dotted path such as 'message.body', got ''"),
    ({"text": "message..body"}, "source 'hook': fields.text: empty segment in path 'message..body'"),
    ({"text": []}, "source 'hook': fields.text: expected a path or a list of paths, got []"),
    ({"text": 3}, "source 'hook': fields.text: expected a dotted path such as 'message.body', got 3"),
    (["text"], "source 'hook': fields: expected a mapping of field: path, got ['text']"),
])
def test_bad_mappings_fail_at_start_naming_the_key(fields: object, message: str) -> None:
    with pytest.raises(CollectorError) as caught:
        _mapping(fields)
    assert caught.value.permanent and caught.value.message.startswith(message)


def test_bad_network_label_fails_at_start() -> None:
    with pytest.raises(CollectorError, match="network: expected a short label"):
        _mapping(network="")


def test_resolve_walks_objects_and_lists_only() -> None:
    item = {"a": {"b": [{"c": "deep"}]}, "s": "text"}
    assert resolve(item, ("a", "b", "0", "c")) == "deep"
    assert resolve(item, ("a", "b", "5", "c")) is None
    assert resolve(item, ("s", "x")) is None


def test_select_items_defaults_and_wildcards() -> None:
    assert select_items([{"id": 1}], None) == [{"id": 1}]
    assert select_items({"items": [{"id": 2}]}, None) == [{"id": 2}]
    body = json.loads((FIXTURES / "webhook/facebook_page.json").read_text())
    values = select_items(body, ("entry", "*", "changes", "*", "value"))
    assert [v.get("post_id") for v in values] == ["1029_5501", "1029_5502", "1029_5503", "1029_5504"]
    assert select_items({"data": {"posts": [1]}}, ("data", "posts")) == [1]


@pytest.mark.parametrize(("body", "path", "message"), [
    ({"posts": []}, None, "items: not found in an object"),
    ({"items": {"id": 1}}, None, "items: expected a list of items, got an object"),
    ("text", None, "items: not found in a string"),
    ({"entry": {"x": 1}}, ("entry", "*"), "entry: expected a list, got an object"),
])
def test_select_items_says_what_is_wrong(body: object, path: tuple[str, ...] | None, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        select_items(body, path)
    assert str(caught.value) == message


def test_a_follower_count_that_is_not_a_plain_number_is_left_out() -> None:
    from collectors.mapping import _followers

    assert _followers("²") is None and _followers("1,204") == 1204 and _followers(-3) is None
    assert _followers(12.0) == 12 and _followers(True) is None
