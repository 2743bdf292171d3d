"""What the outbound pages (/approvals, /library, /outbox) share: the compiled reply rules, the
one question "can this source be answered through Vigie?", and pure builders (approval SLA,
word diffs, short texts) tested without a browser.

Everything people or platforms wrote (reply text, template text, post text, names, errors) is
put in plain components only: Dash escapes a string child, never a Markdown or HTML one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import html

from collectors import replies as writers
from config.settings import Settings
from i18n import N_, UTC, _, current_reader
from i18n import formats as fmt
from models import replies
from models.replies import Rules, compile_rules

_rules: dict[int, tuple[Settings, Rules]] = {}
_rules_lock = threading.Lock()
SLA_AT_RISK = 0.75  # past 75 % of the approval SLA a waiting reply is "at risk"


def rules_for(settings: Settings) -> Rules:
    """The rules compiled once per settings object (the screening lexicon is compiled once per process)."""
    with _rules_lock:
        kept = _rules.get(id(settings))
        if kept is None or kept[0] is not settings:
            kept = (settings, compile_rules(settings))
            _rules[id(settings)] = kept
        return kept[1]


def answerable(settings: Settings, source_name: str | None) -> bool:
    """Can ``source_name`` be answered (or posted to) through Vigie? The one place the pages ask:
    a source configured and enabled whose kind has a writer and whose write credentials are set
    (`collectors.replies.answerable`)."""
    if not source_name:
        return False
    return any(s.name == source_name and s.enabled and writers.answerable(s) for s in settings.sources)


@dataclass(frozen=True)
class SlaState:
    label: str  # on time, at risk, breached (English: `sla_label` says it in the reader's language)
    colour: str  # Bootstrap colour of its badge
    minutes: int  # minutes waited so far


def sla_state(submitted_at: datetime | None, now: datetime, sla_minutes: int) -> SlaState:
    """Where a waiting reply stands against compliance's approval SLA."""
    waited = max(0, int((now - submitted_at).total_seconds() // 60)) if submitted_at else 0
    if waited >= sla_minutes:
        return SlaState(N_("breached"), "danger", waited)
    if waited >= sla_minutes * SLA_AT_RISK:
        return SlaState(N_("at risk"), "warning", waited)
    return SlaState(N_("on time"), "success", waited)


def sla_label(state: SlaState) -> str:
    return _(state.label)


def diff_spans(parts: Sequence[tuple[str, str]]) -> list[Any]:
    """A word diff (`models.compose.word_diff`) as plain spans: added and removed words carry a class."""
    classes = {"added": "diff-added", "removed": "diff-removed", "same": "diff-same"}
    return [html.Span(text, className=classes.get(kind, "diff-same")) for kind, text in parts]


def short(text: str | None, size: int = 160) -> str:
    """The start of a text on one line (a post or reply in a list)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def minutes_text(minutes: float) -> str:
    """A length of time in minutes for the reader: ``25 min``, ``1 h 15``, ``2 d 3 h``."""
    return fmt.duration(max(0.0, minutes) * 60, current_reader())


# Why a reply waits, as `models.reply_rules.why_waiting` stores it in its audit event (English, kept
# as written): each known phrase said again in the reader's language where it is shown.
WAIT_PHRASES = {p: p for p in (
    N_("policy all: every reply is approved"),
    N_("the template's fixed text was edited, or a placeholder holds a link, a mention or free text"),
    N_("free text under policy template_only"))}
SCREENING = "outbound screening: "  # untranslated: how the stored reason reads


def reason_text(stored: str | None, policy: str) -> str:
    """A waiting reply's stored reason (``waits for approval: a; b``) in the reader's language."""
    if not stored:
        return _("policy {policy}").format(policy=policy)
    parts = []
    for phrase in stored.removeprefix("waits for approval: ").split("; "):  # untranslated: the stored form
        if phrase.startswith(SCREENING):
            parts.append(_("outbound screening: {found}").format(found=phrase.removeprefix(SCREENING)))
        else:
            parts.append(_(WAIT_PHRASES[phrase]) if phrase in WAIT_PHRASES else phrase)
    return "; ".join(parts)


def hits_text(hits: Sequence[dict[str, str]] | None) -> str:
    """Outbound screening hits as one line: 'found' (term)."""
    return "; ".join(f"'{h.get('found', '')}' ({h.get('term', '')})" for h in (hits or []))


def send_time(day: str | None, clock: str | None, zone: ZoneInfo = UTC) -> datetime | None:
    """The time a post is scheduled for, as stored (naive UTC), from a date and a time field read in
    ``zone``, the reader's time zone (no date: now)."""
    if not day:
        return None
    try:
        moment = datetime.fromisoformat(f"{str(day)[:10]}T{(clock or '00:00')[:5]}")
    except ValueError:
        raise replies.ReplyError(_("the time is a date (YYYY-MM-DD) and a time (HH:MM), in {zone}").format(
            zone=zone.key)) from None
    return moment.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
