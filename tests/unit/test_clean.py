"""The one place text from outside is made storable (collectors/clean.py), and the mapping's
handling of hostile values: every case written by hand, each a reproduction from issue 19."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from collectors.clean import bounded, canonical_json, clean_post, has_visible, storable_json
from collectors.mapping import FieldMapping, Template, decode_json, parse_locator, select_items
from collectors.text import canonical_link
from collectors.types import CollectorError, RawPost, Rejected

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _post(**fields: object) -> RawPost:
    base: dict[str, object] = {"external_id": "p-1", "network": "x", "text": "Aurelia card blocked", "created_at": NOW}
    return RawPost(**{**base, **fields})  # type: ignore[arg-type]


def test_surrogates_become_the_replacement_character_in_text_and_escapes_in_ids() -> None:
    cleaned = clean_post(_post(external_id="p-\ud800", text="lone \ud800", author_handle="h\udfff",
                               author_name="N\ud800", url="https://x.example/\ud800"))
    assert isinstance(cleaned, RawPost)
    assert (cleaned.external_id, cleaned.text, cleaned.author_handle, cleaned.author_name, cleaned.url) == (
        "p-\\ud800", "lone \ufffd", "h\ufffd", "N\ufffd", "https://x.example/\ufffd")


def test_nul_and_controls_are_removed_from_every_field_and_escaped_in_ids() -> None:
    cleaned = clean_post(_post(external_id="p\x00\x01", text="Aure\x00lia\x07 card", author_handle="a\x00b",
                               author_name="Na\x00me\x1b", language_hint="f\x00r", network="x\x00",
                               links=("https://a.example/\x00",)))
    assert isinstance(cleaned, RawPost)
    assert (cleaned.external_id, cleaned.text, cleaned.author_handle, cleaned.author_name, cleaned.language_hint,
            cleaned.network, cleaned.links) == ("p\\u0000\\u0001", "Aurelia card", "ab", "Name", "fr", "x",
                                                ("https://a.example/",))


@pytest.mark.parametrize("text", ["\u200b\u200e\u202e", "\u2060\ufeff", "   \n\t", "\u3164\u2800", "\x00\x01",
                                  "\u0301\u0301"])
def test_text_with_nothing_visible_is_rejected_with_a_reason(text: str) -> None:
    rejected = clean_post(_post(text=text))
    assert isinstance(rejected, Rejected) and rejected.external_id == "p-1"
    assert rejected.reason == "post 'p-1': no visible text (only spaces or invisible characters)"
    assert rejected.raw["text"] == text and "created_at" not in rejected.identity  # a redelivery is the same item


@pytest.mark.parametrize("text", ["a", "😡", "1", ".", "é", "\u200bok"])
def test_one_visible_character_is_enough(text: str) -> None:
    assert has_visible(text) and isinstance(clean_post(_post(text=text)), RawPost)


def test_empty_fields_become_none_and_an_empty_id_is_rejected() -> None:
    cleaned = clean_post(_post(author_handle="\u200b", author_name=" ", url="https://a b.example"))
    assert isinstance(cleaned, RawPost) and (cleaned.author_handle, cleaned.author_name, cleaned.url) == (
        None, None, None)
    rejected = clean_post(_post(external_id=" \n"))
    assert isinstance(rejected, Rejected) and rejected.reason == "post has an empty id"


def test_a_list_nested_985_deep_is_kept_as_bounded_valid_json() -> None:
    deep = decode_json("[" * 985 + "]" * 985)
    text = storable_json({"item": deep})
    assert json.loads(text)["item"][0][0] is not None and "nested too deep" in text
    assert canonical_json(deep) == canonical_json(bounded(deep))  # a stable digest, no RecursionError


def test_lone_surrogates_in_a_raw_item_are_kept_as_json_escapes() -> None:
    text = storable_json({"text": "lone \ud800", "ok": "é"})
    assert text == '{"text": "lone \\ud800", "ok": "é"}'
    assert json.loads(text) == {"text": "lone \ud800", "ok": "é"}


def test_a_5000_digit_integer_is_read_as_its_digits() -> None:
    item = decode_json('{"id": 1, "n": ' + "5" * 5000 + "}")
    assert item == {"id": 1, "n": "5" * 5000}


def test_json_nested_1000_deep_is_read_whatever_the_callers_depth() -> None:
    def at_depth(n: int) -> object:
        return decode_json("[" * 1000 + "]" * 1000) if n == 0 else at_depth(n - 1)

    assert at_depth(300) is not None


MAPPING = FieldMapping.from_options(None, "test", "listening")


@pytest.mark.parametrize(("created_at", "reason"), [
    ("9999-12-31T23:00:00-05:00", "not a time: '9999-12-31T23:00:00-05:00' is out of range in UTC"),
    ("0001-01-01T00:30:00+01:00", "not a time: '0001-01-01T00:30:00+01:00' is out of range in UTC"),
    (10**400, "not a time: "),
])
def test_times_that_overflow_in_utc_are_rejected_not_raised(created_at: object, reason: str) -> None:
    mapped = MAPPING.map_item({"id": "t", "text": "Aurelia", "created_at": created_at}, NOW)
    assert isinstance(mapped, Rejected) and reason in mapped.reason


def test_a_5000_digit_follower_count_is_left_out() -> None:
    for followers in ("5" * 5000, int("5" * 4000)):
        mapped = MAPPING.map_item({"id": "f", "text": "Aurelia", "author": {"followers": followers}}, NOW)
        assert isinstance(mapped, RawPost) and mapped.author_followers is None


def test_after_a_wildcard_a_missing_item_is_rejected_alone() -> None:
    body = {"entry": [{"changes": [{"value": {"id": 1}}, {"field": "feed"}, {"value": {"id": 2}}]},
                      {"changes": "oops"}]}
    items = select_items(body, ("entry", "*", "changes", "*", "value"))
    assert items[0] == {"id": 1} and items[2] == {"id": 2}
    assert [(r.reason, r.raw) for r in items if isinstance(r, Rejected)] == [
        ("entry.0.changes.1: no 'value' (expected by items_path entry.*.changes.*.value)", {"field": "feed"}),
        ("entry.1.changes: a list, got a string", "oops")]
    with pytest.raises(ValueError, match="entry: not found in an object"):  # before it: the delivery's shape
        select_items({"data": []}, ("entry", "*", "changes", "*", "value"))


def test_templates_build_an_address_only_when_every_path_holds_a_value() -> None:
    mapping = FieldMapping.from_options(
        {"url": ["permalink", "https://www.facebook.com/{post_id}?comment_id={comment_id}",
                 "https://www.facebook.com/{post_id}"]}, "test", "facebook")
    post = mapping.map_item({"id": "1", "text": "hi", "post_id": "1029_5501"}, NOW)
    comment = mapping.map_item({"id": "2", "text": "hi", "post_id": "1029_5501", "comment_id": "5501/9 &x"}, NOW)
    assert isinstance(post, RawPost) and post.url == "https://www.facebook.com/1029_5501"
    assert isinstance(comment, RawPost) and comment.url == (
        "https://www.facebook.com/1029_5501?comment_id=5501%2F9%20%26x")  # each value URL-quoted
    assert parse_locator("https://a.example/{id}", "w") == Template("https://a.example/{id}", (("id",),))
    for bad in ("https://a.example/{}", "https://a.example/{id", "https://a.example/{a..b}"):
        with pytest.raises(CollectorError):
            parse_locator(bad, "fields.url")


def test_platform_media_and_pages_are_not_outbound_links() -> None:
    mapped = MAPPING.map_item({"id": "l", "text": "look", "links": [
        "https://scontent.xx.fbcdn.net/v/5503_n.jpg", "https://pbs.twimg.com/media/a.jpg", "https://x.com/a/status/1",
        "https://news.example/a?utm_source=fb"]}, NOW)
    assert isinstance(mapped, RawPost) and mapped.links == ("https://news.example/a?utm_source=fb",)
    assert canonical_link("https://i.redd.it/abc.png") is None


@pytest.mark.parametrize("text", ["\U0001fae8", "\uf8ff"])  # 🫨 (Unicode 15, unassigned in 3.11's tables), private use
def test_characters_this_python_does_not_know_still_count_as_visible(text: str) -> None:
    assert isinstance(clean_post(_post(text=text)), RawPost)


def test_only_http_links_are_kept_by_the_cleaning() -> None:
    cleaned = clean_post(_post(url="javascript:alert(1)", links=("data:text/html,x", "https://ok.example/")))
    assert isinstance(cleaned, RawPost) and (cleaned.url, cleaned.links) == (None, ("https://ok.example/",))


def test_a_template_value_with_a_lone_surrogate_is_quoted_not_fatal() -> None:
    mapping = FieldMapping.from_options({"url": "https://www.facebook.com/{post_id}"}, "test", "facebook")
    mapped = mapping.map_item({"id": "1", "text": "hi", "post_id": "1_\ud800"}, NOW)
    assert isinstance(mapped, RawPost) and mapped.url == "https://www.facebook.com/1_%ED%A0%80"


def test_markup_with_many_unclosed_tags_is_read_as_text_not_rescanned() -> None:
    """Python's HTMLParser rescans to the end for each unclosed '<' (20,000 '<a ' took 40 s on the
    connectors' paths): past 64 of them they are handed to it as text, so it reads them once."""
    from collectors.markup import UNCLOSED_LIMIT, _defused, html_links, html_to_text

    hostile = "<a " * 20000
    assert _defused(hostile) == "&lt;a " * 20000
    assert html_to_text(hostile) == " ".join(["<a"] * 20000) and html_links(hostile) == []
    quoted = '<a b="x" c=">' * 3000  # a quote left open hides the '>' from the parser
    assert _defused(quoted).count("&lt;") == 3000
    ordinary = '<p>Fees <a href="https://a.example/" class="x">up</a> again, it\'s 3 < 4</p>' * 50
    assert _defused(ordinary) == ordinary  # under the limit: markup kept as it is
    assert _defused("<a " * UNCLOSED_LIMIT) == "<a " * UNCLOSED_LIMIT
