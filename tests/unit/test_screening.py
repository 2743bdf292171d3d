"""The outbound screen (models/screening.py): what matches a forbidden term and what must not."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.screening import _INVISIBLE, DEFAULT_SCREEN_TERMS, Hit, compile_screen, inflections, screen
from models.terms import PhraseMatcher, fold, tokenize

DEFAULTS = compile_screen(DEFAULT_SCREEN_TERMS)


def found(text: str, terms: object = None) -> list[tuple[str, str]]:
    compiled = DEFAULTS if terms is None else compile_screen(terms)  # type: ignore[arg-type]
    return [(hit.term, hit.found) for hit in screen(compiled, text)]


@pytest.mark.parametrize(("text", "term", "words"), [
    ("Rendements GARANTIS dès 5 %", "rendement garanti", "Rendements GARANTIS"),
    ("un rendement garanti", "rendement garanti", "rendement garanti"),
    ("rendements garanties", "rendement garanti", "rendements garanties"),
    ("It is risk free!", "risk-free", "risk free"),
    ("It is RISK-FREE!", "risk-free", "RISK-FREE"),
    ("a risk\u2011free plan", "risk-free", "risk\u2011free"),  # non-breaking hyphen
    ("a risk\u2013free plan", "risk-free", "risk\u2013free"),  # en dash
    ("totally riskfree", "risk-free", "riskfree"),
    ("We guarantee it", "guarantee", "guarantee"),
    ("Returns are guaranteed", "guarantee", "guaranteed"),
    ("She guarantees it", "guarantee", "guarantees"),
    ("guaranteeing it", "guarantee", "guaranteeing"),
    ("guaranteed returns of 8%", "guaranteed return", "guaranteed returns"),
    ("You can\u2019t lose", "can't lose", "can\u2019t lose"),
    ("there are no risks", "no risk", "no risks"),
    ("C'est 100 % SÛR", "100% sûr", "100 % SÛR"),
    ("c'est 100% sure", "100% sûr", "100% sure"),
    ("un gain assuré", "gain assuré", "gain assuré"),
    ("des gains assurées", "gain assuré", "gains assurées"),
    ("garantie de rendement", "garanti*", "garantie"),
    ("nous vous garantissons", "garanti*", "garantissons"),
    ("Doublez votre argent", "doublez votre argent", "Doublez votre argent"),
    ("Want to GET RICH?", "get rich", "GET RICH"),
    ("ｇｕａｒａｎｔｅｅｄ", "guarantee", "ｇｕａｒａｎｔｅｅｄ"),  # fullwidth letters fold to ASCII
    ("gu\u200baran\u00adteed", "guarantee", "guaranteed"),  # invisible characters removed
    ("Cafe\u0301 sans risque", "sans risque", "sans risque"),
])
def test_default_terms_match_their_forms(text: str, term: str, words: str) -> None:
    assert (term, words) in found(text)


@pytest.mark.parametrize("text", [
    "Our guarantor will call you",  # not an inflection of "guarantee"
    "A guaranty bond",
    "nos risques sont suivis",  # "no" is too short to inflect: "nos" is French "our"
    "a risky plan",  # -y is not one of the endings
    "Thanks for the feedback, freedom of choice",
    "a risk, free of charge",  # the comma separates the words
    "the return is guaranteeable",
    "risque sans",  # word order matters
    "we can lose nothing",
    "gagner",
])
def test_what_must_not_match(text: str) -> None:
    assert found(text) == []


def test_inflection_is_per_language_when_terms_say_their_language() -> None:
    per_language = {"en": ("win",), "fr": ("gain",)}
    assert found("wins", per_language) == [("win", "wins")]
    assert found("wine", per_language) == []  # -e is French, not English
    assert found("gaine", per_language) == [("gain", "gaine")]  # the French rule, as documented
    assert found("gaining", per_language) == []  # -ing is English
    # A plain list takes both sets of endings.
    assert found("wine", ["win"]) == [("win", "wine")]


def test_explicit_rules_of_the_inflection_hook() -> None:
    forms = inflections(("s", "es", "ed", "d", "ing"))
    assert forms("guaranteed") == ("guaranteed", "guarante", "guarantee")
    assert forms("losing") == ("losing", "los", "lose")
    assert forms("nos") == ("nos",)  # three letters or fewer: itself only
    assert forms("100s") == ("100s",)  # numbers do not inflect


def test_a_longer_hit_hides_the_one_inside_it_and_each_hit_is_reported_once() -> None:
    hits = screen(DEFAULTS, "Sans aucun risque et un rendement garanti. Sans aucun risque!")
    assert hits == (
        Hit("sans aucun risque", "Sans aucun risque"),
        Hit("rendement garanti", "rendement garanti"),
    )
    # Two terms matching the same words are both reported.
    assert found("risk free", ["risk free", "risk-free"]) == [("risk free", "risk free"), ("risk-free", "risk free")]


def test_hits_come_in_order_of_appearance_with_the_original_words() -> None:
    text = "No risk at all, and the returns are GUARANTEED. Zéro risque !"
    assert found(text) == [("no risk", "No risk"), ("guarantee", "GUARANTEED"), ("zéro risque", "Zéro risque")]


def test_firm_terms_wildcards_and_bad_terms() -> None:
    hits = found("promised returns, promising gains", ["promis*"])
    assert hits == [("promis*", "promised"), ("promis*", "promising")]
    assert found("anything", []) == []
    assert found("anything", ["", "  ", "-"]) == []
    with pytest.raises(ValueError):
        compile_screen(["ab*"])


def test_adversarial_text() -> None:
    assert found("\x00guaranteed\x00") == [("guarantee", "guaranteed")]
    assert found("\u202eguaranteed\u202c") == [("guarantee", "guaranteed")]
    assert found("") == []
    assert found("- - \u0301 \u200d") == []
    text = "Zoé 👩🏽‍💻 https://example.com/x no riskless words here " * 2000
    assert found(text) == []
    text = "guaranteed " * 5000
    hits = found(text)
    assert hits == [("guarantee", "guaranteed")]


def test_the_inbound_matcher_is_unchanged_without_forms() -> None:
    matcher = PhraseMatcher([("x", fold("guarantee"))])
    assert matcher.labels(tokenize("guaranteed")) == []
    assert PhraseMatcher([("x", "guarantee")], inflections(("d",))).labels(tokenize("guaranteed")) == ["x"]


@settings(max_examples=200)
@given(st.text(st.characters(codec="utf-8"), max_size=200))
def test_every_hit_is_text_of_the_reply(text: str) -> None:
    visible = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    for hit in screen(DEFAULTS, text):
        assert hit.found and hit.found in visible
        assert hit.term in {t for terms in DEFAULT_SCREEN_TERMS.values() for t in terms}
