"""Risk terms that survive real writing (issue 18, item 3): the fixture set, near misses, spans.

tests/fixtures/risk/cases.csv holds English and French posts whose risk term is written the way
people write it (case, accents, plurals and agreement, elisions, spaced and dotted letters, digit
and symbol swaps, hashtags, words written together); each must raise its flag with the shipped
lexicon. negatives.csv holds near misses that must raise no alarm (no critical or high flag).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from collectors.text import CompiledLexicon, compile_lexicon, fold, match_risk, strip_accents
from config.settings import Settings
from models.unmask import unmask
from vigie.bench_risk import read_cases


@pytest.fixture(scope="module")
def lexicon(base_settings: Settings) -> CompiledLexicon:
    return compile_lexicon(base_settings.lexicon)


def _terms(lexicon: CompiledLexicon, text: str) -> dict[str, list[str]]:
    return match_risk(lexicon, fold(text), strip_accents(text)).terms


def test_fixture_set_is_large_and_covers_both_languages_and_every_kind() -> None:
    cases = read_cases("cases.csv")
    assert len(cases) >= 300
    languages = Counter(c["language"] for c in cases)
    assert languages["en"] >= 150 and languages["fr"] >= 150
    kinds = Counter(c["kind"] for c in cases)
    for kind in ("case", "accents", "inflection", "elision", "spacing", "punctuation", "leet", "symbol",
                 "hashtag", "together"):
        assert kinds[kind] >= 10, kind


def test_every_fixture_raises_its_flag(lexicon: CompiledLexicon) -> None:
    missed = [(c["flag"], c["text"], _terms(lexicon, c["text"])) for c in read_cases("cases.csv")
              if c["flag"] not in _terms(lexicon, c["text"])]
    assert missed == []


def test_whole_words_alone_miss_most_fixtures(base_settings: Settings) -> None:
    # What the lexicon did before: the fixtures are not ones plain matching already passes.
    plain = compile_lexicon(base_settings.lexicon, robust=False)
    cases = read_cases("cases.csv")
    caught = sum(c["flag"] in _terms(plain, c["text"]) for c in cases)
    assert caught < len(cases) / 2


def test_near_misses_raise_no_alarm(lexicon: CompiledLexicon, base_settings: Settings) -> None:
    alarming = {flag.name for flag in base_settings.lexicon if flag.severity in ("critical", "high")}
    fired = {n["text"]: _terms(lexicon, n["text"]) for n in read_cases("negatives.csv")}
    assert {text: terms for text, terms in fired.items() if alarming & set(terms)} == {}


@pytest.mark.parametrize(
    ("text", "flag", "written"),
    [
        ("someone took it, fr4ud on my Aurelia account", "fraud", "fr4ud"),
        ("quelle arn@que, Banque Aurelia", "phishing", "arn@que"),
        ("a s c a m, that's what Aurelia is", "fraud", "s c a m"),
        ("c'est de l'a.r.n.a.q.u.e", "phishing", "l'a.r.n.a.q.u.e"),  # the chunk read as one piece
        ("#BankScam again @AureliaBank", "fraud", "bankscam"),
        ("my account h@cked, @AureliaBank", "fraud", "account h@cked"),
        ("thread: aureliabank_fraud", "fraud", "aureliabank_fraud"),
        ("mes cartes bloquées", "card_issue", "cartes bloquees"),
        ("see https://t.co/x1 then: $cam", "fraud", "$cam"),
    ],
)
def test_a_flag_names_the_words_the_author_wrote(lexicon: CompiledLexicon, text: str, flag: str,
                                                  written: str) -> None:
    assert written in _terms(lexicon, text)[flag]


def test_plain_text_has_no_second_reading() -> None:
    assert unmask(fold("My card got blocked again, can you help?")) is None
    assert unmask(fold("read https://t.co/abc.def/x-y")) is None  # links are left alone


def test_second_reading_maps_back_to_the_folded_text() -> None:
    folded = fold("Total f.r.a.u.d and h4ck3d, see #BankScam")
    masked = unmask(folded)
    assert masked is not None
    assert masked.text == "total fraud and hacked, see #bankscam"
    start = masked.text.index("hacked")
    a, b = masked.folded_span(start, start + len("hacked"))
    assert folded[a:b] == "h4ck3d"
    a, b = masked.folded_span(masked.text.index("fraud"), masked.text.index("fraud") + 5)
    assert folded[a:b] == "f.r.a.u.d"
    assert [word for _, _, word in masked.tags] == ["bankscam"]


def test_accented_one_word_terms_are_not_searched_inside_hashtags(lexicon: CompiledLexicon) -> None:
    # "procès" folds to "proces": inside "#processing" it is another word.
    assert _terms(lexicon, "#processing times are better") == {}
    assert "legal_threat" in _terms(lexicon, "#proces contre Aurelia")  # a whole hashtag still is the word


def test_bench_risk_prints_the_false_positive_figure(tmp_path: Path) -> None:
    from vigie.cli import main

    finance = tmp_path / "financial_tweets"
    finance.mkdir()
    (finance / "train.csv").write_text(
        "text,label\nMarkets rally as rates hold,2\nFed raises rates; regulators watch,2\nStocks fall,0\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main.commands["bench"], ["risk", "--eval-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "risk fixtures: " in result.output and "(0 missed)" in result.output
    assert "near misses that must raise no alarm (critical or high flag): " in result.output
    assert "fired 0" in result.output
    # 2 neutral texts, one names "regulators": 50.0% fire a flag.
    assert "false positives, finance news tweets, neutral (financial_tweets label 2): 2 texts" in result.output
    assert "raise an alarm: 1 (50.0%)" in result.output
    assert "µs a post robust" in result.output
