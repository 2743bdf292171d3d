"""Run a lifecycle action on items for the signed-in principal (used by queue, item and triage pages).

Row data sent by the browser is untrusted: only the item ids are used, every one checked
(`models.ids.parse_id`: 1 … 2**63 - 1) before any item is changed, and each item's team is read
from the database and checked against the principal's rights before the action runs. Each item
is changed in its own transaction, so one refusal (already claimed, closed…) or failure leaves
the others done, and none half-done; every item's outcome comes back for the page to show.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dashboard.auth.policy import Principal, can_lead_team, can_work_team
from dashboard.context import AppContext
from i18n import _, ngettext
from models import actions
from models.ids import parse_ids
from models.notifications import notify_item
from models.sla import SlaClock
from models.tables import QueueItem

log = logging.getLogger("vigie.actions")
ACTIONS = ("claim", "release", "resolve", "dismiss", "reopen", "escalate", "reroute", "assign")
MAX_ITEMS = 200  # per click: a bulk action is bounded like every query
# What the page says once items are done, for a count of items.
DONE: dict[str, Callable[[int], str]] = {
    "claim": lambda n: ngettext("Claimed {n} item.", "Claimed {n} items.", n),
    "release": lambda n: ngettext("Released {n} item.", "Released {n} items.", n),
    "resolve": lambda n: ngettext("Resolved {n} item.", "Resolved {n} items.", n),
    "dismiss": lambda n: ngettext("Dismissed {n} item.", "Dismissed {n} items.", n),
    "reopen": lambda n: ngettext("Reopened {n} item.", "Reopened {n} items.", n),
    "escalate": lambda n: ngettext("Escalated {n} item.", "Escalated {n} items.", n),
    "reroute": lambda n: ngettext("Rerouted {n} item.", "Rerouted {n} items.", n),
    "assign": lambda n: ngettext("Assigned {n} item.", "Assigned {n} items.", n),
}


@dataclass
class Outcome:
    done: list[dict[str, Any]] = field(default_factory=list)  # {id, team, status, assignee}
    errors: list[str] = field(default_factory=list)

    def message(self, action: str) -> tuple[str, str]:
        """(text, colour) for the page's alert."""
        text = DONE[action](len(self.done)).format(n=len(self.done)) if self.done else ""
        if self.errors:  # the same refusal for several items is said once, with their count
            counted = Counter(self.errors)
            shown = [error if n == 1 else ngettext("{error} ({n} item)", "{error} ({n} items)", n).format(
                error=error, n=n) for error, n in counted.items()]
            text = (text + " " if text else "") + " ".join(_sentence(m) for m in shown[:5])
            if len(shown) > 5:
                text += " " + _("(+{n} more)").format(n=sum(list(counted.values())[5:]))
        colour = "danger" if self.errors and not self.done else "warning" if self.errors else "success"
        return text, colour


def _sentence(message: str) -> str:
    """A refusal ends with its full stop, so that several read apart ("… (4 items). item 9 is closed.")."""
    return message if message.endswith((".", "!", "?")) else message + "."


def _allowed(principal: Principal, action: str, team: str) -> bool:
    if action == "assign":
        return can_lead_team(principal, team)
    return can_work_team(principal, team)


def perform(
    ctx: AppContext, principal: Principal, action: str, item_ids: Iterable[Any], *, reason: str | None = None,
    team: str | None = None, assignee: str | None = None,
) -> Outcome:
    if action not in ACTIONS:
        raise ValueError(action)
    outcome = Outcome()
    clock = SlaClock.from_settings(ctx.settings)
    given = list(item_ids)
    ids, outcome.errors = parse_ids(given[:MAX_ITEMS])  # all checked before any is changed
    if len(given) > MAX_ITEMS:
        outcome.errors.append(_("Only the first {n} items were taken; {left} left as they were.").format(
            n=MAX_ITEMS, left=len(given) - MAX_ITEMS))
    for item_id in ids:
        try:
            with ctx.db.write.begin() as session:
                # Locked before the check: a reroute committing in between cannot slip another
                # team's item past it.
                found = actions.lock_item(session, item_id)
                if found is None or not _allowed(principal, action, found.team):
                    raise actions.ActionError(_("item {id} does not exist or is not in your teams").format(
                        id=item_id))
                item = _run(session, principal.name, action, item_id, clock, reason, team, assignee)
                if action == "escalate":
                    _notify_escalation(ctx, session, item, principal.name, reason or "")
                result = {"id": item.id, "team": item.team, "status": item.status,
                          "assignee": item.assignee or ""}
            outcome.done.append(result)  # only once it is committed: a failed commit is a failure
        except actions.ActionError as exc:
            outcome.errors.append(str(exc))
        except Exception:  # its transaction is rolled back; the other items still get their turn
            log.exception("%s of item %d by %s failed", action, item_id, principal.name)
            outcome.errors.append(_("item {id} could not be changed (error logged).").format(id=item_id))
    return outcome


def _run(session: Any, actor: str, action: str, item_id: int, clock: SlaClock, reason: str | None,
         team: str | None, assignee: str | None) -> QueueItem:
    if action == "claim":
        return actions.claim(session, item_id, actor)
    if action == "release":
        return actions.release(session, item_id, actor)
    if action == "resolve":
        return actions.resolve(session, item_id, actor, reason)
    if action == "dismiss":
        return actions.dismiss(session, item_id, actor, reason)
    if action == "reopen":
        return actions.reopen(session, item_id, actor, reason or "", clock)
    if action == "escalate":
        return actions.escalate(session, item_id, actor, reason or "")
    if action == "reroute":
        return actions.reroute(session, item_id, actor, team or "", reason or "", clock)
    return actions.assign(session, item_id, actor, assignee or "")


def _notify_escalation(ctx: AppContext, session: Any, item: QueueItem, actor: str, reason: str) -> None:
    """Escalations reach the channels subscribed to them, in the same transaction (outbox)."""
    # Written for the subscribed channels' readers, not for this page's reader.
    text = f"escalated by {actor}: {reason}"  # untranslated: a channel notification
    notify_item(session, ctx.settings, "escalation", item.id, text)
