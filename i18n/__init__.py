"""The interface's languages: English (the source strings) and French, through gettext catalogues.

Strings shown to people are written in English inside ``_()`` (``ngettext()`` for plurals; ``N_()``
marks a string translated later, where it is shown). Their French lives in the `.po` files under
``i18n/locales/fr/LC_MESSAGES/``: one catalogue split into files by area (``vigie.po`` for the
shell, others per group of pages) so that translators work on one file at a time; they are read
with Babel at first use and merged (the same msgid twice with two translations fails the
catalogue test, tests/unit/test_catalogue.py, which also fails on a string in the code that the
catalogue does not translate, and on a string shown to people that is not inside ``_()``).
`python -m i18n.extract` lists what the catalogue lacks.

Who reads decides: a `Reader` (language and time zone). In a web request it is the signed-in
account's choice, or the browser's languages and the firm's time zone (`dashboard/reader.py`, worked
out at the request's first string); a job that writes for someone (a notification, the summary PDF) says whom
with `use_reader()`. Outside both: English, UTC.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import current_app, g, has_request_context

LANGUAGES: tuple[str, ...] = ("en", "fr")  # the first is the source language, the default
DEFAULT_LANGUAGE = LANGUAGES[0]
LOCALES = Path(__file__).resolve().parent / "locales"
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Reader:
    """The person a text is written for: their language and their time zone."""

    language: str = DEFAULT_LANGUAGE
    zone: ZoneInfo = UTC

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language {self.language!r}: one of {', '.join(LANGUAGES)}")


_READER: ContextVar[Reader | None] = ContextVar("vigie_reader", default=None)


def current_reader() -> Reader:
    """The reader of the text being written: `use_reader()`'s (a notice for a channel, even when a click in a
    request sends it), else the web request's, else English/UTC."""
    explicit = _READER.get()
    if explicit is not None:  # a job or a notice written for someone else, even inside a request
        return explicit
    if has_request_context():
        reader = g.get("vigie_reader")
        if reader is None:  # worked out at the first string of the request, once the guard knows who asks
            factory = current_app.extensions.get("vigie.reader")
            if factory is None:
                return Reader()
            reader = factory()
            if "vigie_principal" in g:  # kept once the guard has said who asks (before, the browser's language)
                g.vigie_reader = reader
        return reader  # type: ignore[no-any-return]
    return Reader()


@contextmanager
def use_reader(reader: Reader) -> Iterator[Reader]:
    """Write for ``reader`` inside the block (a notification's recipient, a PDF's reader)."""
    token = _READER.set(reader)
    try:
        yield reader
    finally:
        _READER.reset(token)


def catalogue_files(language: str) -> list[Path]:
    return sorted((LOCALES / language / "LC_MESSAGES").glob("*.po"))


def read_catalogue(language: str) -> Catalog:
    """Every ``.po`` file of ``language`` merged into one catalogue (fuzzy entries are left out, as
    gettext does). Two files giving one msgid two translations is an error naming both."""
    merged = Catalog(locale=language, domain="vigie")
    origin: dict[object, Path] = {}
    for path in catalogue_files(language):
        with path.open("rb") as handle:
            part = read_po(handle, locale=language)
        merged.mime_headers = part.mime_headers  # the files' Plural-Forms: Babel's own French has three forms
        for message in part:
            if not message.id or message.fuzzy or not message.string:
                continue
            earlier = merged.get(message.id, message.context)
            if earlier is not None and earlier.string != message.string:
                raise ValueError(f"{path.name} and {origin[message.id].name} translate {message.id!r} differently")
            merged[message.id] = message
            merged[message.id].string = message.string
            origin[message.id] = path
    return merged


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> Translations:
    """The compiled translations of ``language`` (the source language translates to itself)."""
    if language == DEFAULT_LANGUAGE:
        return Translations()
    buffer = io.BytesIO()
    write_mo(buffer, read_catalogue(language))
    buffer.seek(0)
    return Translations(fp=buffer, domain="vigie")


def gettext(message: str) -> str:
    return translations(current_reader().language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_reader().language).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for the catalogue without translating it here (it is passed to ``_()`` where shown)."""
    return message


_ = gettext


def negotiate(accept_languages: list[str]) -> str:
    """The first of the browser's languages (as sent, best first) that Vigie speaks, else the default.
    ``fr-CA`` counts as French."""
    for asked in accept_languages:
        primary = asked.strip().lower().replace("_", "-").split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE
