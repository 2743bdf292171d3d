"""detect_language on short banking posts in English and French, noise, hints and long texts."""

from __future__ import annotations

import time

import pytest

from collectors.nlp.language import clean_for_detection, detect_language, normalize_hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Impossible de me connecter à l'appli Aurelia depuis ce matin", "fr"),
        ("@AureliaBank my card got blocked again", "en"),
        ("app down for the third time", "en"),
        ("thanks for the quick help", "en"),
        ("carte bloquée", "fr"),
        ("frais cachés", "fr"),
        ("super service, merci", "fr"),
        ("MA CARTE EST ENCORE BLOQUÉE C'EST UNE HONTE", "fr"),
        ("Hola, mi tarjeta está bloqueada desde ayer", "es"),
        ("Meine Karte wurde schon wieder gesperrt, unglaublich", "de"),
        ("La mia carta è stata bloccata di nuovo", "it"),
        ("O meu cartão foi bloqueado outra vez", "pt"),
    ],
)
def test_detects_language_of_short_posts(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_urls_handles_and_hashtag_signs_do_not_decide() -> None:
    text = "@AureliaBank @support https://t.co/abc123 #fail Je n'arrive plus à payer avec ma carte #aurelia"
    assert detect_language(text) == "fr"
    assert clean_for_detection("@bank voir https://x.y/z #panne 😡 2024") == "voir panne"


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "🙂👍", "https://t.co/abc @AureliaBank #", "12345 !!!", "x"])
def test_no_language_is_und(text: str) -> None:
    assert detect_language(text) == "und"
    assert detect_language(text, hint="fr") == "und"


def test_hint_trusted_only_for_short_or_unsure_text() -> None:
    assert detect_language("ok", hint="fr") == "fr"
    assert detect_language("ok", hint="en-GB") == "en"
    # a long, clear text wins over a wrong hint
    assert detect_language("Impossible de me connecter à l'appli Aurelia depuis ce matin", hint="en") == "fr"


def test_normalize_hint() -> None:
    assert normalize_hint("FR") == "fr"
    assert normalize_hint("pt_BR") == "pt"
    assert normalize_hint("und") is None
    assert normalize_hint("zxx") is None
    assert normalize_hint("") is None
    assert normalize_hint(None) is None


def test_ten_thousand_characters_are_cheap() -> None:
    text = "Le service client de cette banque est vraiment lent. " * 200
    assert len(text) >= 10_000
    detect_language("warm up")
    start = time.perf_counter()
    assert detect_language(text) == "fr"
    assert time.perf_counter() - start < 0.05
