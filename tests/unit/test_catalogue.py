"""The interface's catalogue: every string of the code translated into French, placeholders kept,
no entry left that no code uses, and no literal shown to people that skips ``_()``."""

from __future__ import annotations

from pathlib import Path

import pytest

from i18n import Reader, read_catalogue, translations, use_reader
from i18n.check import catalogue_problems, shown_files, untranslated_literals


def test_french_translates_every_string_of_the_code() -> None:
    assert catalogue_problems("fr") == []


def test_strings_shown_to_people_go_through_the_catalogue() -> None:
    files = shown_files()
    assert len(files) > 30  # the pages and components are found
    found = [line for path in files for line in untranslated_literals(path)]
    assert found == [], "wrap these in _() (or mark a line '# untranslated: why'):\n" + "\n".join(found)


def test_the_literal_check_finds_an_unwrapped_string(tmp_path: Path) -> None:
    module = tmp_path / "page.py"
    module.write_text('from dash import html\nfrom i18n import _\n'
                      'A = html.Div("Open queue", id="home-open", className="text-muted small")\n'
                      'B = html.Div(_("Open queue"), title=f"{3} items waiting")\n'
                      'C = html.Div("Vigie")\n'
                      'D = {"Closed items": 1}\n'
                      'E = html.P("Sign in")  # untranslated: shown before the language is known\n'
                      'def f(x):\n    """Docstring Words."""\n    raise ValueError("Bad value here")\n',
                      encoding="utf-8")
    import i18n.check as check

    original = check.ROOT
    check.ROOT = tmp_path
    try:
        found = list(untranslated_literals(module))
    finally:
        check.ROOT = original
    assert found == ["page.py:3: 'Open queue'", "page.py:4: ' items waiting'"]


def test_one_msgid_translated_two_ways_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    for name, text in (("a.po", "Ouvrir"), ("b.po", "Ouvre")):
        (folder / name).write_text(f'msgid "Open"\nmsgstr "{text}"\n', encoding="utf-8")
    monkeypatch.setattr("i18n.LOCALES", tmp_path)
    with pytest.raises(ValueError, match="translate 'Open' differently"):
        read_catalogue("fr")


def test_the_reader_decides_the_language() -> None:
    from i18n import _

    assert _("due now") == "due now"
    with use_reader(Reader("fr")):
        assert _("due now") == "échéance maintenant"
    assert translations("fr").gettext("no such string") == "no such string"
    with pytest.raises(ValueError):
        Reader("de")


def test_french_plurals_follow_the_files_plural_forms() -> None:
    from i18n import ngettext

    with use_reader(Reader("fr")):
        assert ngettext("{count} file", "{count} files", 1) == "{count} fichier"
        assert ngettext("{count} file", "{count} files", 0) == "{count} fichier"
        assert ngettext("{count} file", "{count} files", 3) == "{count} fichiers"


def test_a_notice_written_for_someone_inside_a_request_follows_them() -> None:
    """A click that sends a notice to an English channel writes it in English, whoever clicked."""
    from flask import Flask, g

    from i18n import _

    app = Flask("reader-test")
    app.extensions["vigie.reader"] = lambda: Reader("fr")
    with app.test_request_context("/"):
        g.vigie_principal = None
        assert _("due now") == "échéance maintenant"  # the request's reader
        with use_reader(Reader("en")):
            assert _("due now") == "due now"  # the channel's
        assert _("due now") == "échéance maintenant"


def test_zones_that_are_not_places_are_not_offered_nor_stored() -> None:
    from dashboard.components.preferences import zones
    from models.users import UserError, check_preferences

    assert "Europe/Paris" in zones() and not {"Factory", "localtime", "posixrules"} & set(zones())
    with pytest.raises(UserError):
        check_preferences("fr", "Factory")


def test_an_id_that_is_not_one_is_answered_in_the_readers_language() -> None:
    from models.ids import no_such

    assert no_such("item", "abc") == "no such item: 'abc'"
    with use_reader(Reader("fr")):
        assert no_such("item", "abc") == "aucun élément : 'abc'"
        assert no_such("widget", 5) == "no such widget: 5"  # a kind with no message of its own
