"""Writes made by people (and the SLA watch) to queue items. Each one writes an audit event.

The lifecycle: new → claimed → resolved or dismissed, with reopen back to new; an open
item can be released (back to new), assigned by a lead, escalated to the lead, or rerouted
to another team with a mandatory reason. Functions take the session first and never
commit: the caller opens ``with db.write.begin()`` around them, so the change and its audit
event land together or not at all. State changes are conditional updates (``WHERE status =
'new'``), which makes claiming atomic: of two agents claiming at once, exactly one wins and
the other is told who has the item. Each audit event holds the item's whole mutable state
before and after (`snapshot`), so the trail alone rebuilds every item's history.

Who may do what is decided by the dashboard (`dashboard.auth.policy`); this layer checks
what the data itself forbids (state, teams, the assignee's membership).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.settings import PRIORITIES
from i18n import N_, _
from models.audit_log import record_event
from models.labels import label
from models.sla import SlaClock
from models.tables import CLOSED_STATUSES, OPEN_STATUSES, AuditEvent, Mention, QueueItem, User, utcnow

SNAPSHOT_FIELDS = ("team", "status", "assignee", "due_at", "at_risk_at", "claimed_at", "escalated_at",
                   "escalation_reason", "resolved_at")
MAX_REASON = 2000
REASON_REQUIRED = {"escalate": N_("a reason is required to escalate an item"),
                   "reroute": N_("a reason is required to reroute an item"),
                   "reopen": N_("a reason is required to reopen an item")}


class ActionError(Exception):
    """The action cannot be done (already claimed, unknown team, missing reason…)."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def snapshot(item: QueueItem) -> dict[str, Any]:
    """The item's mutable state, as the audit trail keeps it."""
    return {
        "team": item.team,
        "status": item.status,
        "assignee": item.assignee,
        "due_at": _iso(item.due_at),
        "at_risk_at": _iso(item.at_risk_at),
        "claimed_at": _iso(item.claimed_at),
        "escalated_at": _iso(item.escalated_at),
        "escalation_reason": item.escalation_reason,
        "resolved_at": _iso(item.resolved_at),
    }


def lock_item(session: Session, item_id: int) -> QueueItem | None:
    """The item read afresh and locked for this transaction (FOR UPDATE on PostgreSQL; SQLite's
    writer lock is already held), or None when there is no such item."""
    return session.get(QueueItem, item_id, populate_existing=True, with_for_update=True)


def _load(session: Session, item_id: int) -> QueueItem:
    # Locked: the "before" of the audit event is the state this change replaces.
    item = lock_item(session, item_id)
    if item is None:
        raise ActionError(_("item {id} does not exist").format(id=item_id))
    return item


def _clean_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise ActionError(_("who is acting? an actor name is required"))
    return actor[:200]


def _reason(reason: str | None, required_for: str | None = None) -> str | None:
    text = (reason or "").strip()
    if not text:
        if required_for:
            raise ActionError(_(REASON_REQUIRED[required_for]))
        return None
    return text[:MAX_REASON]


def _change(
    session: Session, item: QueueItem, actor: str, action: str, allowed: tuple[str, ...], values: dict[str, Any],
    refuse: str, reason: str | None = None, extra_where: Any = None,
) -> QueueItem:
    """One conditional update of ``item`` (loaded and locked by `_start`) from the ``allowed``
    statuses, then its audit event."""
    before = snapshot(item)
    statement = update(QueueItem).where(QueueItem.id == item.id, QueueItem.status.in_(allowed))
    if extra_where is not None:
        statement = statement.where(extra_where)
    result = session.execute(statement.values(**values).execution_options(synchronize_session=False))
    item = _load(session, item.id)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ActionError(_(refuse).format(id=item.id, status=label("status", item.status), assignee=item.assignee,
                                           team=item.team))
    record_event(session, _clean_actor(actor), action, item_id=item.id, before=before, after=snapshot(item),
                 reason=reason, at=values["updated_at"])
    return item


def _start(session: Session, item_id: int, actor: str, at: datetime | None = None) -> tuple[QueueItem, datetime]:
    """Load and lock the item first, then read the clock: an action that waited for the lock
    (SQLite's BEGIN IMMEDIATE, PostgreSQL's FOR UPDATE) is stamped after the change it waited
    for, so times follow commit order (the live pages read changes by time). ``at`` replaces the
    clock for the demo's history only (`collectors.jobs.demo_history`: the past replayed)."""
    _clean_actor(actor)
    item = _load(session, item_id)
    return item, at or utcnow()


def claim(session: Session, item_id: int, actor: str, at: datetime | None = None) -> QueueItem:
    """Take a new item. Of two agents claiming at once exactly one wins; the other learns who has it."""
    item, now = _start(session, item_id, actor, at)
    if item.status == "claimed":
        raise ActionError(_("item {id} is already claimed by {name}").format(id=item_id, name=item.assignee))
    return _change(session, item, actor, "claim", ("new",),
                   {"status": "claimed", "assignee": _clean_actor(actor), "updated_at": now,
                    "claimed_at": item.claimed_at or now},
                   N_("item {id} is {status}, not new"))


def release(session: Session, item_id: int, actor: str) -> QueueItem:
    """Give a claimed item back to the team's queue."""
    item, now = _start(session, item_id, actor)
    return _change(session, item, actor, "release", ("claimed",), {"status": "new", "assignee": None,
                                                                     "updated_at": now},
                   N_("item {id} is {status}; only a claimed item can be released"))


def assign(session: Session, item_id: int, actor: str, assignee: str) -> QueueItem:
    """A lead hands an open item to an agent of the item's team (claimed on the agent's behalf)."""
    item, now = _start(session, item_id, actor)
    user = session.scalars(select(User).where(User.name == assignee, User.active.is_(True))).first()
    if user is None:
        raise ActionError(_("there is no active user called {name}").format(name=repr(assignee)))
    if user.role not in ("agent", "lead") or item.team not in (user.teams or []):
        raise ActionError(_("{name} does not work for team {team}").format(name=assignee, team=item.team))
    return _change(
        session, item, actor, "assign", OPEN_STATUSES,
        {"status": "claimed", "assignee": assignee, "updated_at": now, "claimed_at": item.claimed_at or now},
        N_("item {id} is {status}; only open items can be assigned"), extra_where=QueueItem.team == item.team,
    )


def resolve(session: Session, item_id: int, actor: str, note: str | None = None,
            at: datetime | None = None) -> QueueItem:
    item, now = _start(session, item_id, actor, at)
    return _change(session, item, actor, "resolve", OPEN_STATUSES,
                   {"status": "resolved", "resolved_at": now, "updated_at": now,
                    "assignee": item.assignee or _clean_actor(actor), "claimed_at": item.claimed_at or now},
                   N_("item {id} is {status}; only new or claimed items can be resolved"), _reason(note))


def dismiss(session: Session, item_id: int, actor: str, reason: str | None = None,
            at: datetime | None = None) -> QueueItem:
    """Close an item that needs no action (spam, not about us, already handled elsewhere)."""
    item, now = _start(session, item_id, actor, at)
    return _change(session, item, actor, "dismiss", OPEN_STATUSES,
                   {"status": "dismissed", "resolved_at": now, "updated_at": now},
                   N_("item {id} is {status}; only new or claimed items can be dismissed"), _reason(reason))


def reopen(session: Session, item_id: int, actor: str, reason: str, clock: SlaClock) -> QueueItem:
    """Bring a resolved or dismissed item back as new and unassigned; its SLA starts again now."""
    text = _reason(reason, "reopen")
    item, now = _start(session, item_id, actor)
    mention = session.get(Mention, item.mention_id)
    assert mention is not None
    at_risk, due = clock.deadlines(item.team, mention.priority, now)
    return _change(session, item, actor, "reopen", CLOSED_STATUSES,
                   {"status": "new", "assignee": None, "resolved_at": None, "escalated_at": None,
                    "escalation_reason": None, "due_at": due, "at_risk_at": at_risk, "updated_at": now},
                   N_("item {id} is {status}; only resolved or dismissed items can be reopened"), text)


def escalate(session: Session, item_id: int, actor: str, reason: str) -> QueueItem:
    """Flag an open item for the team's lead (it shows on the triage page until closed or rerouted)."""
    text = _reason(reason, "escalate")
    item, now = _start(session, item_id, actor)
    return _change(session, item, actor, "escalate", OPEN_STATUSES,
                   {"escalated_at": now, "escalation_reason": text, "updated_at": now},
                   N_("item {id} is {status} or already escalated; only open items not yet escalated can be "
                      "escalated"),
                   text, extra_where=QueueItem.escalated_at.is_(None))


def reroute(session: Session, item_id: int, actor: str, team: str, reason: str, clock: SlaClock) -> QueueItem:
    """Move an open item to another team's queue, new, unassigned and not escalated (the new team's
    lead decides; the SLA watch escalates it again if it is critical or late), due by that team's
    SLA counted from when the post was collected, as for items routed there at first."""
    text = _reason(reason, "reroute")
    if not clock.knows(team):
        raise ActionError(_("unknown team {team}").format(team=repr(team)))
    item, now = _start(session, item_id, actor)
    if item.team == team:
        raise ActionError(_("item {id} is already in {team}").format(id=item_id, team=team))
    mention = session.get(Mention, item.mention_id)
    assert mention is not None
    at_risk, due = clock.deadlines(team, mention.priority, mention.collected_at)
    return _change(session, item, actor, "reroute", OPEN_STATUSES,
                   {"team": team, "status": "new", "assignee": None, "due_at": due, "at_risk_at": at_risk,
                    "escalated_at": None, "escalation_reason": None, "updated_at": now},
                   N_("item {id} is {status} in {team}; only open items can be rerouted"), text,
                   extra_where=QueueItem.team == item.team)


AUTOMATIC_ACTORS = ("sla-watch",)  # plus "model:<file>": actors whose events are not a person's decision


def rescore(session: Session, item_id: int, actor: str, team: str, priority: str, rule_id: str, explanation: str,
            reason: str, clock: SlaClock) -> tuple[QueueItem, str]:
    """Route an item again after a firm's own model changed its post's sentiment (the
    `sentiment:rescore` job): its team, priority, rule and explanation, due by the SLA counted from
    when the post was collected; moved to another team, it is no longer escalated (as with
    Reroute). Only an item no person has acted on: one claimed, released, assigned, rerouted,
    escalated, reopened, closed or corrected by someone keeps where they put it (ActionError). The
    change is read from the locked item and written into the audit event's reason after ``reason``
    (priority, rule and explanation are not in the snapshot); returned with the item ("" and no
    event when nothing would change)."""
    if not clock.knows(team):
        raise ActionError(_("unknown team {team}").format(team=repr(team)))
    item, now = _start(session, item_id, actor)
    person = session.scalar(select(AuditEvent.actor).where(
        AuditEvent.queue_item_id == item.id, AuditEvent.actor.not_in(AUTOMATIC_ACTORS),
        AuditEvent.actor.not_like("model:%")).limit(1))
    if person is not None:
        raise ActionError(_("{actor} has acted on item {id}: their decision stands").format(actor=person, id=item.id))
    mention = session.get(Mention, item.mention_id)
    assert mention is not None
    changes = "; ".join(f"{what} {old} → {new}" for what, old, new in (
        ("team", item.team, team), ("priority", mention.priority, priority), ("rule", item.rule_id, rule_id))
        if old != new)
    if not changes:
        return item, ""  # nothing to write, no event
    at_risk, due = clock.deadlines(team, priority, mention.collected_at)
    values: dict[str, Any] = {"team": team, "priority_rank": PRIORITIES.index(priority), "rule_id": rule_id,
                              "explanation": explanation, "due_at": due, "at_risk_at": at_risk, "updated_at": now}
    if team != item.team:
        values.update(escalated_at=None, escalation_reason=None)
    changed = _change(session, item, actor, "rescore", ("new",), values,
                      N_("item {id} is {status} in {team}; only new items are routed again"),
                      _reason(f"{reason}: {changes}"),
                      extra_where=(QueueItem.assignee.is_(None)) & (QueueItem.team == item.team))
    mention.priority = priority  # what the pages show (its sentiment: `summary_fold.relabel`, by the job)
    return changed, changes


def history(session: Session, item_id: int, limit: int = 1000) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.queue_item_id == item_id)
                                .order_by(AuditEvent.id).limit(limit)))
