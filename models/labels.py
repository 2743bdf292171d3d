"""Words people read for the values the data stores: an item's status, a mention's priority and
sentiment, an item's SLA state, why triage shows it, the actions of its history.

The database keeps the English keys (``claimed``, ``at risk``); pages show ``label(kind, key)``
in the reader's language (`i18n`), and grids get the whole table (`table()`) to format their
cells in the browser while sorting and filtering on the keys. A key with no label is shown as it is.
"""

from __future__ import annotations

from i18n import N_, _

LABELS: dict[str, dict[str, str]] = {
    "status": {"new": N_("new"), "claimed": N_("claimed"), "resolved": N_("resolved"),
               "dismissed": N_("dismissed")},
    "priority": {"critical": N_("critical"), "high": N_("high"), "medium": N_("medium"), "low": N_("low")},
    "sentiment": {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")},
    "sla": {"breached": N_("breached"), "at risk": N_("at risk"), "on time": N_("on time")},
    "why": {"escalated": N_("escalated"), "breached": N_("breached"), "at risk": N_("at risk"),
            "unassigned": N_("unassigned")},
    "action": {"claim": N_("claim"), "release": N_("release"), "resolve": N_("resolve"), "dismiss": N_("dismiss"),
               "reopen": N_("reopen"), "escalate": N_("escalate"), "reroute": N_("reroute"),
               "assign": N_("assign"), "rescore": N_("routed again by the firm's model"),
               "correct": N_("judgement marked wrong")},
    "field": {"team": N_("team"), "status": N_("status"), "assignee": N_("assignee"), "due_at": N_("due"),
              "at_risk_at": N_("at risk from"), "claimed_at": N_("claimed at"), "escalated_at": N_("escalated at"),
              "escalation_reason": N_("escalation reason"), "resolved_at": N_("closed at")},
}


def label(kind: str, key: str | None) -> str:
    """``key`` of ``kind`` in the reader's language (``label("status", "claimed")`` → ``pris en charge``)."""
    if key is None:
        return ""
    known = LABELS.get(kind, {}).get(key)
    return _(known) if known is not None else key


def table(*kinds: str) -> dict[str, dict[str, str]]:
    """The labels of ``kinds`` in the reader's language, for a grid's formatters."""
    return {kind: {key: _(text) for key, text in LABELS[kind].items()} for kind in kinds}
