"""Who may do what: pure functions of a `Principal` (a signed-in user or a kiosk screen).

Roles (README, "Users and roles"):
- operator: the wall and source health, read-only (the wall shows every team's critical items,
  so agents and leads, who see their own teams only, do not get it).
- agent: works its teams' queues (claim, release, resolve, dismiss, reopen, escalate, reroute).
- lead: what an agent does for its teams, plus the triage page and assigning to others.
- compliance: reads every team's queue and item, exports the audit trail; changes nothing.
- manager: overviews and summaries, read-only.
- admin: everything.
- kiosk: not a user role but a wall screen signed in with a kiosk token: the wall only.

Pages and callbacks name the roles allowed (`dash.register_page(..., roles=...)`, the
`guard.guarded(...)` decorator); this module answers the team-level questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from i18n import N_, _
from models.tables import ROLES

KIOSK = "kiosk"
ALL_ROLES: tuple[str, ...] = (*ROLES, KIOSK)
SIGNED_IN: tuple[str, ...] = ROLES  # every person (not kiosks)
WORKERS: tuple[str, ...] = ("agent", "lead", "admin")  # change items
QUEUE_READERS: tuple[str, ...] = ("agent", "lead", "compliance", "admin")  # read items
LEADS: tuple[str, ...] = ("lead", "admin")
# The wall shows every team's newest critical items: not for agents and leads, who see their teams only.
WALL: tuple[str, ...] = ("operator", "compliance", "manager", "admin", KIOSK)
EVERY_TEAM_ROLES = ("compliance", "admin")  # see items of every team
# The daily summary covers every team (and quotes notable posts of each): managers, compliance, admins.
SUMMARY_READERS: tuple[str, ...] = ("manager", "compliance", "admin")
# The roles as people read them (the keys stay English: they are stored and typed at the command line).
ROLE_LABELS: dict[str, str] = {"agent": N_("agent"), "lead": N_("lead"), "compliance": N_("compliance"),
                               "manager": N_("manager"), "admin": N_("admin"), "operator": N_("operator"),
                               KIOSK: N_("wall screen")}


def role_label(role: str) -> str:
    """``role`` in the reader's language (an unknown one as it is)."""
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    teams: tuple[str, ...] = ()
    language: str | None = None  # the account's choice; None: the browser's (dashboard/reader.py)
    timezone: str | None = None  # the account's; None: the firm's

    @property
    def is_kiosk(self) -> bool:
        return self.role == KIOSK


def allowed(principal: Principal | None, roles: Iterable[str]) -> bool:
    return principal is not None and principal.role in tuple(roles)


def can_read_team(principal: Principal | None, team: str) -> bool:
    """May read the items of ``team`` (its queue, an item's page)."""
    if principal is None:
        return False
    if principal.role in EVERY_TEAM_ROLES:
        return True
    return principal.role in ("agent", "lead") and team in principal.teams


def can_work_team(principal: Principal | None, team: str) -> bool:
    """May change the items of ``team``."""
    if principal is None:
        return False
    if principal.role == "admin":
        return True
    return principal.role in ("agent", "lead") and team in principal.teams


def can_lead_team(principal: Principal | None, team: str) -> bool:
    """May assign items of ``team`` to others and see its triage."""
    if principal is None:
        return False
    return principal.role == "admin" or (principal.role == "lead" and team in principal.teams)


def readable_teams(principal: Principal | None, teams: Iterable[str]) -> list[str]:
    return [t for t in teams if can_read_team(principal, t)]


def led_teams(principal: Principal | None, teams: Iterable[str]) -> list[str]:
    return [t for t in teams if can_lead_team(principal, t)]


def can_reroute(principal: Principal | None, from_team: str, to_team: str) -> bool:
    """An agent or lead may send its own team's item to any team (that is what reroute is for)."""
    return can_work_team(principal, from_team) and from_team != to_team
