"""The library file (`models.library_file`): the shipped demo library is valid, bilingual, short
enough for X with the brand's disclosure and free of promissory language; bad files are refused
with the file, the entry and the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.outbound import DEFAULT_LIMITS
from config.settings import load_settings
from models.compose import fill, placeholders, with_disclosure
from models.library_file import DEMO_LIBRARY, LibraryFileError, load_library
from models.replies import compile_rules
from models.screening import screen

GOOD: dict[str, object] = {
    "key": "blocked-card", "language": "en", "kind": "reply", "category": "cards", "title": "Blocked card",
    "body": "Hi {{first_name}}, your card ({{case_ref}})", "teams": ["customer_service"]}
LONG_VALUES = {"first_name": "Marie-Charlotte", "case_ref": "AUR-123456", "status_url": "https://status.example/a",
               "points": "1,234", "date": "Saturday 14 March"}


def _file(tmp_path: Path, *entries: dict[str, object], top: str = "templates") -> Path:
    import yaml
    path = tmp_path / "library.yaml"
    path.write_text(yaml.safe_dump({top: list(entries)}), encoding="utf-8")
    return path


def test_the_demo_library_is_bilingual_short_enough_for_x_and_not_promissory() -> None:
    entries = load_library(DEMO_LIBRARY)
    replies = {(e.key, e.language) for e in entries if e.kind == "reply"}
    keys = {k for k, _lang in replies}
    assert replies == {(k, lang) for k in keys for lang in ("en", "fr")}  # every reply in English AND French
    assert {"blocked-card", "card-declined-abroad", "app-outage", "fees-question", "fraud-report",
            "phishing-warning", "contact-privately", "account-locked", "thanks-praise", "complaint-acknowledged",
            "delayed-transfer"} <= keys
    assert {"market-day", "maintenance-notice", "fraud-awareness"} <= {e.key for e in entries if e.kind == "post"}
    rules = compile_rules(load_settings(env={}))
    disclosure = max((d.text for d in rules.config.disclosures), key=len)
    for entry in entries:
        text = with_disclosure(fill(entry.body, LONG_VALUES).text, disclosure)
        assert not fill(entry.body, LONG_VALUES).missing, entry.key
        if entry.kind == "reply" and (not entry.networks or "x" in entry.networks):
            assert len(text) <= DEFAULT_LIMITS["x"], (entry.key, entry.language, len(text))
        assert screen(rules.screen, text) == (), (entry.key, entry.language)
        assert set(entry.teams) <= {"customer_service", "legal", "marketing"}
    assert "{{case_ref}}" in next(e.body for e in entries if e.key == "complaint-acknowledged")
    assert "never ask for your code" in next(e.body for e in entries if (e.key, e.language) ==
                                             ("phishing-warning", "en"))
    assert placeholders(next(e.body for e in entries if e.key == "market-day")) == ("points",)


@pytest.mark.parametrize(("change", "named"), [
    ({"colour": "red"}, "colour: unknown key"),
    ({"language": "de"}, "language"),
    ({"kind": "tweet"}, "kind"),
    ({"key": "Blocked Card"}, "key"),
    ({"teams": []}, "teams"),
    ({"body": "Hi {first_name}, sorry"}, "'{first_name}'"),
    ({"body": "Hi {{first-name}}, sorry"}, "{{first-name}}"),
    ({"body": "Hi {{first_name}, sorry"}, "{{first_name}"),
    ({"body": "Hi {{ }}, sorry"}, "{{ }}"),
    ({"expires_in_days": 0}, "expires_in_days"),
    ({"networks": ["x"], "body": "word " * 60}, "over x's 280"),
])
def test_a_bad_entry_is_refused_naming_the_file_the_entry_and_the_key(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    path = _file(tmp_path, GOOD, {**GOOD, "language": "fr"}, {**GOOD, "key": "other", **change})
    with pytest.raises(LibraryFileError) as refused:
        load_library(path)
    message = str(refused.value)
    assert str(path) in message and "templates[2]" in message and named in message


def test_a_file_of_another_shape_or_a_twice_named_template_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LibraryFileError, match="top-level key 'templates'"):
        load_library(_file(tmp_path, GOOD, top="replies"))
    with pytest.raises(LibraryFileError, match=r"templates\[1\].*appears twice"):
        load_library(_file(tmp_path, GOOD, GOOD))
    (tmp_path / "broken.yaml").write_text("templates: [\n", encoding="utf-8")
    with pytest.raises(LibraryFileError, match="cannot read it"):
        load_library(tmp_path / "broken.yaml")
    assert [e.key for e in load_library(_file(tmp_path, GOOD))] == ["blocked-card"]
