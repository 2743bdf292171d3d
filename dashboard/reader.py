"""Who reads this response: the `i18n.Reader` of each request.

Language: the signed-in account's choice (`users.language`), else the browser's
``Accept-Language`` (a wall screen and the sign-in page go by the browser). Time zone: the
account's (`users.timezone`), else the firm's (``reporting.yaml`` ``timezone``). Every page's
``<html lang>`` says the language (`install` rewrites Dash's index page per request).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dash
from flask import Flask, request

from dashboard.auth.guard import current_principal
from dashboard.context import current
from i18n import LANGUAGES, Reader, current_reader, negotiate


def _zone(name: str | None, firm: str) -> ZoneInfo:
    for candidate in (name, firm):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue  # an account's zone removed from tzdata since: the firm's
    return ZoneInfo("UTC")


def reader_for_request() -> Reader:
    principal = current_principal()
    language = getattr(principal, "language", None)
    if language not in LANGUAGES:
        language = negotiate([lang for lang, _q in request.accept_languages])
    return Reader(language, _zone(getattr(principal, "timezone", None), current().settings.reporting.timezone))


def install(app: dash.Dash, server: Flask) -> None:
    """The reader of each request, worked out when its first string is translated (the guard has
    found the principal by then: `i18n.current_reader`), and ``lang`` on Dash's page."""
    server.extensions["vigie.reader"] = reader_for_request
    interpolate = app.interpolate_index

    def with_lang(**kwargs: Any) -> str:
        page: str = interpolate(**kwargs)
        return page.replace("<html>", f'<html lang="{current_reader().language}">', 1)

    app.interpolate_index = with_lang  # type: ignore[method-assign,assignment]
