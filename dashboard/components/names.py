"""The names people read for the configuration's keys: a team (``legal``, teams.yaml) and a risk
flag (``card_issue``, lexicons.yaml), each in the reader's language (``labels: {fr: …}``), and why
supervision reviews a post (``flag:fraud,scam``). Stored data keeps the keys; pages, grids and the
summary show these names. A key the configuration no longer has is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from dashboard.context import current
from i18n import _


def team_name(key: str | None) -> str:
    """A team's name in the reader's language (its key when the configuration no longer has it)."""
    if key is None:
        return "—"
    team = next((t for t in current().settings.teams if t.key == key), None)
    return team.label if team is not None else key


def team_names() -> dict[str, str]:
    """Every configured team's name by key, in the reader's language."""
    return {t.key: t.label for t in current().settings.teams}


def flag_names() -> dict[str, str]:
    """Every risk flag's name by key, in the reader's language (a grid's ``flag`` labels)."""
    return {f.name: f.label for f in current().settings.lexicon}


def flag_name(key: str) -> str:
    """A risk flag's name in the reader's language (its key when lexicons.yaml no longer has it)."""
    return flag_names().get(key, key)


def flags_text(keys: Iterable[str]) -> str:
    """Several flags' names, comma-separated: ``Fraude, Hameçonnage``."""
    names = flag_names()
    return ", ".join(names.get(key, key) for key in keys)


def rule_name(rule_id: str, stored: str) -> str:
    """A routing rule's sentence in the reader's language (``stored``: the one the figures kept, shown
    when routing.yaml no longer has the rule)."""
    rule = next((r for r in current().settings.rules if r.id == rule_id), None)
    return rule.label if rule is not None else stored


def review_reason(reason: str) -> str:
    """Why supervision reviews a post or reply (stored ``flag:fraud,scam``, ``sample``, ``free_form``)."""
    if reason.startswith("flag:"):
        return _("flagged: {flags}").format(flags=flags_text(k for k in reason.removeprefix("flag:").split(",") if k))
    if reason == "sample":
        return _("random sample")
    if reason == "free_form":
        return _("free-form reply")
    return reason
