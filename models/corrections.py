"""Corrections: a person marks a judgement on an item wrong, with one click on its page.

Three kinds: ``sentiment`` (the label is wrong; the right one is given), ``flag`` (a risk flag
should not have fired) and ``team`` (the item belongs to another team; the right one is given).
A correction records what a person thinks, it does not change the item: rerouting stays its own
action, with its reason. Each correction is an audit event (action ``correct``) in the same
transaction; the same person marking the same judgement twice is told it is recorded already.
Leads read them per team (`recent`); `vigie model train --with-corrections` reads the sentiment
ones (`sentiment_examples`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from i18n import _
from models.actions import ActionError, lock_item, snapshot
from models.audit_log import record_event
from models.judgement_tables import Correction, ModelScore
from models.tables import Mention, utcnow

KINDS = ("sentiment", "flag", "team")
SENTIMENTS = ("negative", "neutral", "positive")
MAX_LIST = 200


@dataclass(frozen=True)
class Listed:
    id: int
    item_id: int
    mention_id: int
    kind: str
    wrong: str
    right: str | None
    team: str
    actor: str
    at: datetime
    text: str


def describe(kind: str, wrong: str, right: str | None) -> str:
    """The correction in words, for the audit trail (English, as stored)."""
    if kind == "sentiment":
        return f"sentiment {wrong} is wrong: {right}"
    if kind == "flag":
        return f"risk flag {wrong} should not have fired"
    return f"team {wrong} is wrong: {right}"


_DESCRIBED = (  # `describe`'s sentences read back: (pattern, kind)
    (re.compile(r"sentiment (\S+) is wrong: (\S+)"), "sentiment"),
    (re.compile(r"risk flag (\S+) should not have fired"), "flag"),
    (re.compile(r"team (\S+) is wrong: (\S+)"), "team"),
)


def described(reason: str | None) -> tuple[str, str, str | None] | None:
    """(kind, wrong, right) of an audit reason `describe` wrote, for a page to say it in the
    reader's language; None for any other text."""
    for pattern, kind in _DESCRIBED:
        found = pattern.fullmatch(reason or "")
        if found:
            return kind, found.group(1), found.group(2) if found.lastindex == 2 else None
    return None


def correct(session: Session, item_id: int, actor: str, kind: str, value: str, teams: tuple[str, ...],
            at: datetime | None = None) -> Correction:
    """Record that ``actor`` marks a judgement of item ``item_id`` wrong: ``value`` is the right
    label (``sentiment``), the flag that should not have fired (``flag``) or the right team
    (``team``). ActionError when it does not hold (the item changed meanwhile, an unknown label
    or team) or is recorded already. The sentiment marked wrong is the one that decided: the
    firm's model's when it did (models/judgement_tables.ModelScore), else the shipped model's."""
    actor = (actor or "").strip()[:200]
    if not actor:
        raise ActionError(_("who is acting? an actor name is required"))
    item = lock_item(session, item_id)
    if item is None:
        raise ActionError(_("item {id} does not exist").format(id=item_id))
    mention = session.get(Mention, item.mention_id)
    assert mention is not None
    by_model = session.get(ModelScore, mention.id)
    sentiment = by_model.label if by_model is not None and by_model.decided_by == "model" else mention.sentiment_label
    wrong, right = {"sentiment": (sentiment, value), "flag": (value, None), "team": (item.team, value)}.get(
        kind, (value, None))
    holds = {
        "sentiment": right in SENTIMENTS and right != wrong,
        "flag": wrong in (mention.risk_flags or []) and right is None,
        "team": wrong == item.team and right in teams and right != wrong,
    }
    if not holds.get(kind, False):
        raise ActionError(_("that judgement is not the item's any more; reload the page"))
    already = session.scalar(select(Correction.id).where(
        Correction.queue_item_id == item.id, Correction.actor == actor, Correction.kind == kind,
        Correction.wrong == wrong).limit(1))
    if already is not None:
        raise ActionError(_("you marked this judgement wrong already"))
    now = at or utcnow()
    row = Correction(queue_item_id=item.id, mention_id=mention.id, kind=kind, wrong=wrong, right=right,
                     team=item.team, language=mention.language, actor=actor, created_at=now)
    session.add(row)
    state = snapshot(item)
    record_event(session, actor, "correct", item_id=item.id, before=state, after=state,
                 reason=describe(kind, wrong, right), at=now)
    return row


def recent(session: Session, teams: tuple[str, ...] | None, limit: int = MAX_LIST) -> list[Listed]:
    """The newest corrections, of ``teams`` only (None: every team), newest first."""
    query = (select(Correction, Mention.text).join(Mention, Mention.id == Correction.mention_id)
             .order_by(Correction.created_at.desc(), Correction.id.desc()).limit(min(limit, MAX_LIST)))
    if teams is not None:
        query = query.where(Correction.team.in_(teams))
    return [Listed(c.id, c.queue_item_id, c.mention_id, c.kind, c.wrong, c.right, c.team, c.actor, c.created_at,
                   text[:280]) for c, text in session.execute(query)]


def sentiment_examples(session: Session, limit: int = 100_000) -> list[tuple[str, str, str]]:
    """(text, language, right label) of the newest ``limit`` sentiment corrections; the newest
    person's word wins when several corrected one post."""
    rows = session.execute(select(Mention.id, Mention.text, Mention.language, Correction.right)
                           .join(Mention, Mention.id == Correction.mention_id)
                           .where(Correction.kind == "sentiment")
                           .order_by(Correction.created_at.desc(), Correction.id.desc()).limit(limit)).all()
    latest: dict[int, tuple[str, str, str]] = {}
    for mention_id, text, language, right in rows:  # newest first: the first seen per post wins
        latest.setdefault(mention_id, (text, language, str(right)))
    return list(latest.values())
