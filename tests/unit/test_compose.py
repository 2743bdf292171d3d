"""The text rules of composing a reply (models/compose.py), with adversarial input and properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.compose import (
    LIMITS,
    MAX_VALUE_CHARS,
    Filled,
    LengthCheck,
    check_length,
    clean_value,
    count_length,
    fill,
    fixed_text_changed,
    has_disclosure,
    placeholders,
    text_sha256,
    with_disclosure,
    word_diff,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man ZWJ woman ZWJ girl ZWJ boy
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # tag sequence flag
TEMPLATE = "Hello {{first_name}}, your case {{ case_ref }} is open. {{first_name}}, write to @{{handle}}."
# Texts without surrogates (removed upstream) for the properties.
TEXT = st.text(st.characters(codec="utf-8"), max_size=300)


# --- placeholders and fill ---------------------------------------------------------------------

def test_placeholders_in_order_of_first_appearance_without_repeats() -> None:
    assert placeholders(TEMPLATE) == ("first_name", "case_ref", "handle")
    assert placeholders("no placeholder {here} {{ }} {{First_Name}} {{first name}} {{1st}}") == ()
    assert placeholders("{{a_1}}{{b}}{{a_1}}") == ("a_1", "b")


def test_fill_replaces_every_occurrence_and_strips_values() -> None:
    filled = fill(TEMPLATE, {"first_name": "  Zoé ", "case_ref": "C-42", "handle": "zoe"})
    assert filled == Filled("Hello Zoé, your case C-42 is open. Zoé, write to @zoe.", ())


def test_missing_and_blank_values_leave_the_placeholder_as_written() -> None:
    filled = fill(TEMPLATE, {"first_name": " \t\n", "handle": "zoe", "unused": "x"})
    assert filled.text == "Hello {{first_name}}, your case {{ case_ref }} is open. {{first_name}}, write to @zoe."
    assert filled.missing == ("first_name", "case_ref")


def test_a_value_cannot_create_placeholders() -> None:
    filled = fill("Dear {{first_name}}, ref {{case_ref}}", {"first_name": "{{case_ref}}", "case_ref": "{{first_name}}"})
    assert filled.text == "Dear {{case_ref}}, ref {{first_name}}"
    assert filled.missing == ()
    # Braces in a value next to braces of the template are text, never filled afterwards.
    assert fill("{{{a}}}}", {"a": "{b"}).text == "{{b}}"


def test_values_become_one_line_without_controls_or_bidi_overrides() -> None:
    value = "Zoé\x00\r\nLee\t\u2028 \x85Jr\u202e\u2066"
    assert clean_value(value) == "Zoé Lee Jr"
    assert fill("Hi {{n}}!", {"n": "evil\n\nP.S. click here"}).text == "Hi evil P.S. click here!"
    # A right-to-left name keeps its marks; a ZWJ emoji keeps its joiners.
    assert clean_value("\u200fשלום") == "\u200fשלום"
    assert clean_value(FAMILY) == FAMILY
    assert fill("{{n}}", {"n": "\x00\x01\u202e"}).missing == ("n",)  # nothing left: missing


def test_values_are_capped_without_splitting_an_emoji_sequence() -> None:
    assert clean_value("x" * 5000) == "x" * MAX_VALUE_CHARS
    capped = clean_value("y" * 195 + FAMILY * 3)  # the family (7 code points) straddles 200
    assert capped == "y" * 195
    assert len(clean_value("a" * 193 + FAMILY + "b" * 50)) == MAX_VALUE_CHARS
    assert clean_value("word " * 100).endswith("word")  # no trailing space after the cut


@settings(max_examples=200)
@given(values=st.dictionaries(st.sampled_from(["first_name", "case_ref", "handle", "other"]), TEXT))
def test_fill_never_leaves_a_placeholder_whose_value_was_given(values: dict[str, str]) -> None:
    filled = fill(TEMPLATE, values)
    given_names = {name for name, value in values.items() if clean_value(value)}
    assert set(filled.missing) == set(placeholders(TEMPLATE)) - given_names
    if not any("{" in value or "}" in value for value in values.values()):
        # Every placeholder left in the text is one without a value.
        assert set(placeholders(filled.text)) == set(filled.missing)


# --- fixed text changed ------------------------------------------------------------------------

VALUES = {"first_name": "Zoé", "case_ref": "C-42", "handle": "zoe"}
FILLED = "Hello Zoé, your case C-42 is open. Zoé, write to @zoe."


def test_the_template_as_filled_is_not_an_edit() -> None:
    assert not fixed_text_changed(TEMPLATE, FILLED, VALUES)
    # What a browser or a keyboard adds invisibly is not an edit either.
    assert not fixed_text_changed(TEMPLATE, f"\n {FILLED}  \r\n", VALUES)
    assert not fixed_text_changed("Line one\nLine two", "Line one  \r\nLine two", {})
    assert not fixed_text_changed("Café", "Cafe\u0301", {})  # NFC and NFD are one text


def test_any_visible_change_is_an_edit() -> None:
    assert fixed_text_changed(TEMPLATE, FILLED.replace("open", "closed"), VALUES)
    assert fixed_text_changed(TEMPLATE, FILLED.replace("is open", "is  open"), VALUES)
    assert fixed_text_changed(TEMPLATE, FILLED.replace("Zoé,", "Zoe,", 1), VALUES)  # another value
    assert fixed_text_changed(TEMPLATE, FILLED + " Guaranteed!", VALUES)
    assert fixed_text_changed("Line one\nLine two", "Line one\n\nLine two", {})


def test_the_disclosure_added_by_the_system_is_not_an_edit() -> None:
    disclosure = "Aurelia Bank — regulated by the ACPR"
    sent = with_disclosure(FILLED, disclosure)
    assert fixed_text_changed(TEMPLATE, sent, VALUES)  # without knowing the disclosure: an edit
    assert not fixed_text_changed(TEMPLATE, sent, VALUES, disclosure=disclosure)
    assert not fixed_text_changed(TEMPLATE, FILLED, VALUES, disclosure=disclosure)
    assert fixed_text_changed(TEMPLATE, FILLED + "\n\nAnything else", VALUES, disclosure=disclosure)


# --- disclosure --------------------------------------------------------------------------------

def test_with_disclosure_adds_it_after_a_blank_line_once() -> None:
    assert with_disclosure("Hello.  \n", "#ad") == "Hello.\n\n#ad"
    assert with_disclosure("Hello. #AD", "#ad") == "Hello. #AD"
    assert with_disclosure(with_disclosure("Hello.", "#ad"), "#ad") == "Hello.\n\n#ad"
    assert with_disclosure("Hello.", None) == "Hello."
    assert with_disclosure("Hello.", "   ") == "Hello."
    assert with_disclosure("", "#ad") == "#ad"


def test_has_disclosure_ignores_case_and_whitespace_but_wants_whole_words() -> None:
    disclosure = "Aurelia Bank — regulated by the ACPR"
    assert has_disclosure("Thanks!\n\naurelia  bank —\nREGULATED by the acpr", disclosure)
    assert not has_disclosure("Thanks! Aurelia Bank, regulated by the ACPR", disclosure)
    assert not has_disclosure("Our #adventure begins", "#ad")
    assert has_disclosure("#ad: our adventure", "#ad")
    assert has_disclosure("anything", None)


# --- length ------------------------------------------------------------------------------------

# twitter-text v3 conformance (conformance/validate.yml, WeightedTweetsWithDiscountedEmojiCounterTest
# and lengths), with the ZWJ sequences written out.
X_CASES = [
    ("This is a test.", 15),
    ("http://test.com", 23),
    ("https://test.com", 23),
    ("test.com", 23),
    ("Test https://test.com test https://test.com test.com test", 86),
    ("저찀쯿쿿", 8),
    ("故人西辞黄鹤楼", 14),
    ("ÁB", 2),
    ("A\ufb2c", 4),  # one presentation form, three code points once in NFC
    (f"H\U0001f431\u263a{FAMILY}", 7),
    ("Unicode 10.0 emoji: \U0001f92a; \U0001f9d5; \U0001f9d5\U0001f3fe; " + ENGLAND, 34),
    ("Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe", 29),
    (FAMILY * 140, 280),
    ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),  # a 64-letter label
    ("ABC\u202a\uffffABC\ufffe", 12),
    ("\u2066\u202ahttp://foobar.\u067e\u0627\u06a9\u0633\u062a\u0627\u0646/\u202c\u2069", 31),
    ("This is a tweet with general punctuation characters: \u2000\u2001\u2002\u2003\u2004\u2005\u2006"
     "\u2007\u2008\u2009\u200a\u200b\u200c\u200d \u2010 \u2011 \u2012 \u2013 \u2014 \u2015 \u2016  \u2017 "
     "\u2018 \u2019 \u201a \u201b \u201c \u201d \u201e \u201f \u2032 \u2033 \u2034 \u2035 \u2036 \u2037", 112),
]


@pytest.mark.parametrize(("text", "expected"), X_CASES)
def test_x_counts_as_twitter_text_v3(text: str, expected: int) -> None:
    assert count_length(text, "x") == expected


def test_x_links_and_their_edges() -> None:
    assert count_length("see https://example.com/a/very/long/path?x=1.", "x") == 4 + 23 + 1  # final dot is text
    assert count_length("(https://example.com)", "x") == 25
    assert count_length("mail zoe@example.com", "x") == 20  # a domain after @ is an address, not a link
    assert count_length("e.g. i.e. U.S. v1.2", "x") == len("e.g. i.e. U.S. v1.2")  # no two-letter TLD there
    assert count_length("\u00a9 2026", "x") == 6  # © alone is text; with VS16 an emoji
    assert count_length("\u00a9\ufe0f", "x") == 2
    assert count_length("1\ufe0f\u20e3 \U0001f1eb\U0001f1f7", "x") == 2 + 1 + 2  # keycap, space, flag


def test_bluesky_counts_graphemes() -> None:
    assert count_length(FAMILY, "bluesky") == 1
    assert count_length("e\u0301\u0301\u0301", "bluesky") == 1
    assert count_length("\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea", "bluesky") == 2  # two flags
    assert count_length("\u200f\u05e9\u05dc\u05d5\u05dd", "bluesky") == 5  # RLM + four letters
    assert count_length("a\x00b", "bluesky") == 3
    assert count_length("\r\n", "bluesky") == 1
    assert count_length("", "bluesky") == 0


def test_mastodon_counts_links_as_23_and_remote_mentions_as_the_user() -> None:
    text = "@zoe@mastodon.example hi https://example.com/a/very/long/path/that/goes/on"
    assert count_length(text, "mastodon") == len("@zoe hi ") + 23
    assert count_length("@zoe hi", "mastodon") == 7
    assert count_length("example.com", "mastodon") == 11  # no scheme: not a link for Mastodon
    assert count_length("https://mastodon.example/@zoe@other.example", "mastodon") == 23
    assert count_length(FAMILY + "!", "mastodon") == 2


def test_other_networks_count_code_points() -> None:
    assert count_length(FAMILY + " https://example.com", "reddit") == 7 + 20
    assert count_length("abc", "demo") == 3


def test_check_length_reports_how_far_over() -> None:
    assert check_length("x" * 281, "x", LIMITS["x"]) == LengthCheck(281, 280, 1)
    assert check_length("x" * 280, "x", 280) == LengthCheck(280, 280, 0)
    assert check_length("\u00e9" * 300, "bluesky", LIMITS["bluesky"]).over == 0
    assert check_length("\u00e9" * 300, "x", 280).over == 20
    assert LIMITS == {"x": 280, "bluesky": 300, "mastodon": 500, "reddit": 10000}


def test_very_long_texts_are_counted_quickly() -> None:
    text = ("Zoé 👩🏽‍💻 https://example.com/x " * 2000)[:100_000]
    for network in ("x", "bluesky", "mastodon", "reddit"):
        assert count_length(text, network) > 0


@settings(max_examples=300)
@given(TEXT)
def test_graphemes_never_outnumber_code_points(text: str) -> None:
    assert count_length(text, "bluesky") <= len(text)
    assert count_length(text, "mastodon") >= 0


# --- diff and hash -----------------------------------------------------------------------------

def _rebuild(diff: list[tuple[str, str]], keep: str) -> str:
    return "".join(piece for op, piece in diff if op in ("same", keep))


def test_word_diff_marks_words_and_keeps_whitespace() -> None:
    diff = word_diff("Your case is open. Thanks for writing", "Your case is closed. Thanks for writing to us")
    assert diff == [
        ("same", "Your case is "),
        ("removed", "open."), ("added", "closed."),
        ("same", " Thanks for writing"),
        ("added", " to us"),
    ]
    diff = word_diff("Your case is open.\nThanks", "Your case is  closed.\nThanks!")
    assert diff == [
        ("same", "Your case is"),
        ("removed", " open."), ("added", "  closed."),  # the spacing changed too
        ("same", "\n"),
        ("removed", "Thanks"), ("added", "Thanks!"),
    ]
    assert word_diff("", "") == []
    assert word_diff("", "new") == [("added", "new")]
    assert word_diff("old", "") == [("removed", "old")]
    assert word_diff("same text", "same text") == [("same", "same text")]


def test_word_diff_keeps_markup_as_plain_text() -> None:
    diff = word_diff("hello", "hello <script>alert(1)</script>")
    assert diff == [("same", "hello"), ("added", " <script>alert(1)</script>")]


def test_word_diff_of_long_texts_is_quick() -> None:
    before = " ".join(f"word{i % 50}" for i in range(2000))
    after = " ".join(f"word{i % 50}" if i % 7 else "changed" for i in range(2000))
    diff = word_diff(before, after)
    assert _rebuild(diff, "added") == after and _rebuild(diff, "removed") == before


@settings(max_examples=300)
@given(TEXT, TEXT)
def test_word_diff_rebuilds_both_texts(before: str, after: str) -> None:
    diff = word_diff(before, after)
    assert _rebuild(diff, "added") == after
    assert _rebuild(diff, "removed") == before
    assert all(op in ("same", "added", "removed") and piece for op, piece in diff)
    assert all(a[0] != b[0] for a, b in zip(diff, diff[1:], strict=False))  # runs merged


def test_text_sha256_is_the_hash_of_the_exact_utf8_text() -> None:
    assert text_sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert text_sha256("Zoé") == hashlib.sha256("Zoé".encode()).hexdigest()
    assert text_sha256("Café") != text_sha256("Cafe\u0301")  # no normalisation: the bytes sent
    assert text_sha256("a\n") != text_sha256("a")
