"""The rules a reply or post is checked against before it is stored: its template still usable by its
team on its network, every placeholder filled (and no free text smuggled in a value), the
network's length limit as the network counts, the brand's disclosure, outbound screening, and the
approval policy that decides whether it waits. `check` is the preview the compose box shows and
the test `models.replies.compose` and `edit` make; nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from config.outbound import OutboundConfig
from i18n import N_, _
from models.compose import check_length, fill, fixed_text_changed, placeholders, with_disclosure
from models.library import usable_version
from models.reply_tables import TemplateVersion
from models.screening import DEFAULT_SCREEN_TERMS, Screen, compile_screen, screen
from models.tables import utcnow

if TYPE_CHECKING:
    from config.settings import Settings

MAX_TEXT = 10000
# A reply's states and kinds as people read them (the stored value is the key).
STATUS_NAMES = {"pending": N_("waiting for approval"), "queued": N_("queued"), "sending": N_("sending"),
                "sent": N_("sent"), "failed": N_("failed"), "unknown": N_("outcome unknown — check"),
                "rejected": N_("rejected"), "expired": N_("expired"), "cancelled": N_("cancelled"),
                "elsewhere": N_("answered elsewhere")}
KIND_NAMES = {"reply": N_("reply"), "post": N_("post")}


def status_name(status: str) -> str:
    """A reply's state in the reader's language (an unknown one as it is stored)."""
    return _(STATUS_NAMES[status]) if status in STATUS_NAMES else status


def kind_name(kind: str) -> str:
    return _(KIND_NAMES[kind]) if kind in KIND_NAMES else kind


class ReplyError(Exception):
    """The reply cannot be composed or changed; the message says why, for the writer to read."""


@dataclass(frozen=True)
class Rules:
    """`outbound.yaml` with its screening lexicon compiled once (build with `compile_rules`), and
    the settings whose notification channels hear of replies waiting for approval."""

    config: OutboundConfig
    screen: Screen
    settings: Settings | None = None


def compile_rules(settings: Settings) -> Rules:
    config = settings.outbound
    terms: dict[str, list[str]] = {lang: list(words) for lang, words in config.terms.items()}
    if config.default_terms:
        for lang, words in DEFAULT_SCREEN_TERMS.items():
            terms.setdefault(lang, []).extend(words)
    return Rules(config, compile_screen(terms), settings)


@dataclass(frozen=True)
class Target:
    """Where a reply goes: the item it answers (None for a new post) and how it leaves."""

    kind: str  # reply or post
    network: str
    source_name: str | None
    team: str | None
    brand: str | None
    language: str
    queue_item_id: int | None = None
    mention_id: int | None = None


@dataclass(frozen=True)
class Checked:
    """A text run through the rules: what would be stored, and why it would wait (a preview)."""

    text: str
    count: int
    limit: int
    missing: tuple[str, ...]
    hits: tuple[dict[str, str], ...]
    policy: str
    needs_approval: bool
    edited: bool
    problems: tuple[str, ...]  # reasons it cannot be sent as it is (missing values, too long, blocked)
    disclosure: str | None
    brand: str | None = None  # the firm's brand the reply speaks for (`speaking_brand`)
    language: str | None = None  # the text's: its template's, else the target's (its disclosure line's)


def _template(session: Session, version_id: int, target: Target, now: datetime) -> TemplateVersion:
    version = session.get(TemplateVersion, version_id)
    if version is None:
        raise ReplyError(_("template version {id} does not exist").format(id=version_id))
    current = usable_version(session, version.template_id, now)
    if current is None:
        raise ReplyError(_("this template is not approved for use (retired, expired or never approved)"))
    if current.id != version.id:
        raise ReplyError(_("a newer version of this template is in use (version {version}): choose it again")
                         .format(version=current.version))
    if target.team is not None and target.team not in (version.teams or []):
        raise ReplyError(_("team {team} may not use this template").format(team=target.team))
    if version.networks and target.network not in version.networks:
        raise ReplyError(_("this template is not for {network}").format(network=target.network))
    if version.template.kind != target.kind:
        raise ReplyError(_("this template is for a {kind}, not a {wanted}").format(
            kind=kind_name(version.template.kind), wanted=kind_name(target.kind)))
    return version


def speaking_brand(rules: Rules, brand: str | None) -> str | None:
    """The firm's brand a reply speaks for: the mention's brand when it is one of the firm's own,
    else the firm's first brand (a reply to a post about a competitor, or about no brand, still
    comes from the firm's account and carries its disclosure and its policy); anything a browser
    sent that is not a firm brand is never trusted."""
    own = [b.name for b in rules.settings.brands if not b.competitor] if rules.settings is not None else []
    if not own or brand in own:
        return brand
    return own[0]


def check(session: Session, rules: Rules, target: Target, text: str | None, version_id: int | None,
          values: Mapping[str, str], now: datetime | None = None) -> Checked:
    """Run a text (or a template and its values) through the rules without storing anything: the
    preview the compose box shows, and the check `compose` and `edit` make."""
    now = now or utcnow()
    config = rules.config
    brand = speaking_brand(rules, target.brand)
    missing: tuple[str, ...] = ()
    edited = False
    version = _template(session, version_id, target, now) if version_id is not None else None
    # The text's language: a template's own (the panel offers templates of other languages than the
    # post's detected one), else the target's. The disclosure line is that language's.
    language = version.template.language if version is not None else target.language
    disclosure = config.disclosure(brand, target.network, language)
    if version is not None:
        filled = fill(version.body, values)
        missing = filled.missing
        if text is None or not text.strip():
            text = filled.text
        edited = fixed_text_changed(version.body, text, values, disclosure)
    text = (text or "").strip()
    problems: list[str] = []
    if not text:
        problems.append(_("the reply is empty"))
    if len(text) > MAX_TEXT:
        problems.append(_("the text is over {limit} characters").format(limit=f"{MAX_TEXT:,}"))
    text = with_disclosure(text, disclosure) if text else text
    left = tuple(dict.fromkeys((*missing, *placeholders(text))))
    if left:
        problems.append(_("fill {names} before sending").format(names=", ".join("{{" + name + "}}" for name in left)))
    length = check_length(text, target.network, config.limit(target.network))
    if length.over > 0:
        problems.append(_("{count} of {limit} characters as {network} counts them: {over} too many").format(
            count=length.count, limit=length.limit, network=target.network, over=length.over))
    hits = tuple({"term": h.term, "found": h.found} for h in screen(rules.screen, text))
    if hits and config.on_hit == "block":
        problems.append(_("outbound screening: {hits} may not be published").format(
            hits="; ".join(f"'{h['found']}' ({h['term']})" for h in hits)))
    policy = config.policy(target.team, target.network, brand)
    free_values = version is not None and any(_free_text(name, values.get(name)) for name in placeholders(version.body))
    needs = (policy == "all" or (policy == "template_only" and (version is None or edited or free_values))
             or bool(hits))
    return Checked(text, length.count, length.limit, left, hits, policy, needs, edited or free_values,
                   tuple(problems), disclosure, brand, language)


# A placeholder holds a name, a reference, a date: a value with a link, a mention, a hashtag or
# many words is free text published under an approved template, so it waits like free text.
_LINKISH = re.compile(r"https?:|www\.|@|#|\b[\w-]+\.(?:[a-z]{2,})\b", re.IGNORECASE)
MAX_PLAIN_VALUE = 60


_HANDLE = re.compile(r"@?[\w.-]+(?:@[\w.-]+)?")  # @name or @name@instance: what {{handle}} holds


def _free_text(name: str, value: object) -> bool:
    text = str(value or "").strip()
    if name == "handle" and _HANDLE.fullmatch(text):
        return False  # the customer's own handle, as the mention gives it
    return len(text) > MAX_PLAIN_VALUE or len(text.split()) > 6 or bool(_LINKISH.search(text))


def why_waiting(checked: Checked) -> str:
    """Why a checked reply waits for approval (or that it does not), as its audit event says."""
    if not checked.needs_approval:
        return f"policy {checked.policy}: goes out without approval"
    reasons = []
    if checked.hits:
        reasons.append("outbound screening: " + ", ".join(h["found"] for h in checked.hits))
    if checked.policy == "all":
        reasons.append("policy all: every reply is approved")
    elif checked.edited:
        reasons.append("the template's fixed text was edited, or a placeholder holds a link, a mention or "
                       "free text")
    elif checked.policy == "template_only":
        reasons.append("free text under policy template_only")
    return "waits for approval: " + "; ".join(reasons)
