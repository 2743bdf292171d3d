"""A spike alert's finding in the reader's words and numbers, from its figures (not from the English
line stored with it, `Alert.summary`): the wall's banner, the spike notification and the daily
summary (page and PDF) say it in the reader's language, a topic by its risk flag's name. Pure
but for the reader (`i18n.current_reader`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from i18n import _, current_reader, formats

FIELDS = ("kind", "scope", "scope_key", "window_minutes", "observed", "expected", "z", "mentions_in_window")


def figures_of(alert: Any) -> dict[str, Any]:
    """What the daily summary keeps of an alert to say it again in any language (with ``summary``)."""
    return {name: getattr(alert, name) for name in FIELDS}


def finding(alert: Any, flags: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(headline, the whole finding) in the current reader's words and numbers, e.g. ("Volume surge ·
    topic Outage", "Volume surge · topic Outage: 64 mentions in 10 min (usually 5.1, z 4.2)"); a
    topic is named by ``flags`` (key → the reader's name) where it has it."""
    from models.summary_export import fmt  # (which says alerts with this module: imported when called)

    reader = current_reader()
    name = (flags or {}).get(alert.scope_key, alert.scope_key) if alert.scope == "topic" else alert.scope_key
    where = {"brand": _("brand {name}"), "topic": _("topic {name}")}.get(alert.scope, _("all mentions"))
    where = where.format(name=name)
    z = fmt("", round(alert.z, 1), reader)
    if alert.kind == "volume_surge":
        headline = _("Volume surge · {where}").format(where=where)
        return headline, _("{headline}: {count} mentions in {minutes} min (usually {usual}, z {z})").format(
            headline=headline, count=fmt("", int(alert.observed), reader), minutes=alert.window_minutes,
            usual=fmt("", round(alert.expected, 1), reader), z=z)
    headline = _("Sentiment drop · {where}").format(where=where)
    return headline, _("{headline}: {share} negative in {minutes} min (usually {usual}, {count} mentions, "
                       "z {z})").format(headline=headline, share=formats.percent(alert.observed, reader),
                                        minutes=alert.window_minutes, usual=formats.percent(alert.expected, reader),
                                        count=fmt("", alert.mentions_in_window, reader), z=z)


def stored_finding(kept: Mapping[str, Any], flags: Mapping[str, str] | None = None) -> str:
    """An alert as the daily summary kept it, in the reader's words (a summary stored before its
    figures were kept: the English line it kept)."""
    if not all(name in kept for name in FIELDS):
        return str(kept.get("summary", ""))
    return finding(SimpleNamespace(**{name: kept[name] for name in FIELDS}), flags)[1]
