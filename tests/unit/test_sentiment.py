"""score_sentiment on banking complaints and praise, in English and French."""

from __future__ import annotations

import pytest

from collectors.nlp.sentiment import LABELS, MODEL_PATH, explain_sentiment, features, score_sentiment, tokenize


def test_model_file_ships() -> None:
    assert MODEL_PATH.exists()


COMPLAINTS = [  # (text, language)
    ("my card got blocked again", "en"), ("@AureliaBank app down for the third time", "en"),
    ("hidden fees everywhere", "en"), ("worst bank ever, total scam", "en"),
    ("carte bloquée", "fr"), ("frais cachés", "fr"), ("appli en panne", "fr"), ("arnaque", "fr"),
    ("Impossible de me connecter à l'appli Aurelia depuis ce matin", "fr"),
]
PRAISE = [
    ("thanks for the quick help", "en"), ("great service, problem solved in minutes", "en"),
    ("super service, merci", "fr"), ("Conseillère au top, merci beaucoup !", "fr"),
]


@pytest.mark.parametrize(("text", "language"), COMPLAINTS)
def test_complaints_are_negative(text: str, language: str) -> None:
    score, label = score_sentiment(text, language)
    assert label == "negative"
    assert score < 0


@pytest.mark.parametrize(("text", "language"), PRAISE)
def test_praise_is_positive(text: str, language: str) -> None:
    score, label = score_sentiment(text, language)
    assert label == "positive"
    assert score > 0


def test_monotone_cases() -> None:
    assert score_sentiment("great", "en")[0] > score_sentiment("terrible", "en")[0]
    assert score_sentiment("I love this bank", "en")[0] > score_sentiment("I hate this bank", "en")[0]
    assert score_sentiment("génial", "fr")[0] > score_sentiment("nul", "fr")[0]
    assert score_sentiment("I am happy", "en")[0] > score_sentiment("I am not happy", "en")[0]


def test_neutral_question() -> None:
    assert score_sentiment("What time does the branch open on Saturday?", "en")[1] == "neutral"


@pytest.mark.parametrize("language", ["es", "de", "und", ""])
def test_unsupported_languages_are_neutral(language: str) -> None:
    assert score_sentiment("Mi tarjeta está bloqueada, qué desastre", language) == (0.0, "neutral")


@pytest.mark.parametrize("text", ["", "   ", "😡", "x" * 10_000, "Service nul. " * 1000])
def test_bounds_and_labels(text: str) -> None:
    for language in ("en", "fr"):
        score, label = score_sentiment(text, language)
        assert -1.0 <= score <= 1.0
        assert label in LABELS


def test_tokenize_splits_french_elisions_and_drops_urls() -> None:
    assert tokenize("L'appli @Bank https://x.y/z n'est PAS top!!!") == [
        "l'", "appli", "n'", "est", "pas", "top", "!"
    ]
    assert tokenize("don't") == ["don't"]


def test_threats_and_fraud_reports_read_negative_to_a_bank() -> None:
    # A tweet corpus scores these neutral; the banking lexicon must not.
    from collectors.nlp.sentiment import score_sentiment

    cases = [
        ("Talked to a lawyer about the way Aurelia handled my mortgage. Legal action is next", "en"),
        ("Si Banque Aurelia ne me rembourse pas 1 509 € je porte plainte, point final", "fr"),
        ("Un faux conseiller Aurelia m'a appelé et m'a demandé mon code, tentative d'hameçonnage", "fr"),
    ]
    for text, lang in cases:
        score, label = score_sentiment(text, lang)
        assert label == "negative" and score < -0.2, (text, score, label)


@pytest.mark.parametrize("content", [b"not gzip at all", "format-1"])
def test_a_model_file_of_another_format_or_broken_is_refused_with_what_to_do(
        tmp_path, monkeypatch: pytest.MonkeyPatch, content: bytes | str) -> None:
    import gzip
    import json

    from collectors.nlp import sentiment

    path = tmp_path / "sentiment_model.json.gz"
    if content == "format-1":  # the previous release's file: read by this scorer it would score wrongly
        path.write_bytes(gzip.compress(json.dumps({"format": 1, "languages": {"en": {"bias": [0, 0, 0],
                                                                                      "weights": {}}}}).encode()))
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    monkeypatch.setattr(sentiment, "MODEL_PATH", path)
    sentiment._models.cache_clear()
    try:
        with pytest.raises(ValueError, match="retrain it \\(vigie model train\\)"):
            sentiment.score_sentiment("my card got blocked again", "en")
    finally:
        sentiment._models.cache_clear()


def test_literal_unicode_escapes_read_as_the_characters_they_stand_for() -> None:
    # SemEval's and TweetEval's files (and text through JSON twice) write ’ and , as \u2019, \u002c
    assert tokenize("I don\\u2019t like it\\u002c really") == tokenize("I don’t like it, really") == \
        ["i", "don't", "like", "it", ",", "really"]
    assert score_sentiment("I don\\u2019t like it", "en") == score_sentiment("I don’t like it", "en")
    assert tokenize("love it \\ud83d\\ude0d") == ["love", "it", "😍"]  # an emoji as JSON writes it


def test_a_negation_and_a_bigram_stop_at_a_clause_punctuation() -> None:
    feats = features("nobody answers, unacceptable. Not happy; bad", "en")
    assert {"nobody", "~answers", "nobody answers", "unacceptable", "not", "~happy", "bad"} <= set(feats)
    assert not {"~unacceptable", "answers unacceptable", "~bad", "happy bad"} & set(feats)
    shown = dict(explain_sentiment("@AureliaBank my card was blocked again and nobody answers, unacceptable", "en"))
    assert "~unacceptable" not in shown and shown.get("unacceptable", 0) < 0
