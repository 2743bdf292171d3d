"""The navigation bar's entries, read from the page registry.

A page that belongs in the bar says so in its own ``dash.register_page``, next to its roles, with
the fields of `NavEntry`: ``nav={"order": 20, "label": N_("Triage")}`` (Dash keeps unknown keyword
arguments in ``dash.page_registry``); a page without ``nav=`` has no link (the overview, an
item's page). The bar shows the entries of the pages the principal's role may open, by declared
order. A per-team entry (a page at ``.../<team>``, the queue) is one link per team the principal
may read, in the configured order, labelled with the team's name. Labels are marked with ``N_()``
and translated here, when the bar is built for its reader.

Hiding a link is convenience, not access control: the guard and each page check again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.auth.guard import page_roles
from dashboard.auth.policy import Principal, allowed, can_read_team
from i18n import _

TEAM = "<team>"  # the path variable a per-team page is reached by (the guard checks it too)


@dataclass(frozen=True)
class NavEntry:
    """A page's place in the navigation bar: its ``order`` (smaller first) and its ``label``, or
    ``per_team=True`` for one link per team the principal may read (then the team's name is the label)."""

    order: int
    label: str = ""
    per_team: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.order, int):
            raise ValueError(f"order must be a whole number, not {self.order!r}")
        if bool(self.label) == self.per_team:
            raise ValueError("give a label, or per_team=True (labelled by team), not both or neither")


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    ident: str  # the element id, ``nav-<path>`` or ``nav-<team>``: browser tests click it


def nav_entry(page: dict[str, Any]) -> NavEntry | None:
    """The page's declared entry; a declaration that cannot make a link fails here, naming its page
    (`create_app` reads every page's at start)."""
    declared = page.get("nav")
    if declared is None:
        return None
    try:
        entry = NavEntry(**declared)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"page {page['module']}: nav={declared!r}: {exc}") from None
    template = page.get("path_template") or ""
    if entry.per_team and TEAM not in template:
        raise ValueError(f"page {page['module']}: a per-team nav entry needs a path like /name/{TEAM}")
    if not entry.per_team and template:
        raise ValueError(f"page {page['module']}: a nav link needs a fixed path, not {template}")
    return entry


def nav_links(pages: Iterable[dict[str, Any]], principal: Principal,
              teams: Sequence[tuple[str, str]]) -> list[NavLink]:
    """The links ``principal`` may follow, from the registry's ``pages`` and the configured
    ``teams`` as (key, label) pairs; by declared order, a per-team entry's links in team order."""
    declared = sorted(((entry, page) for page in pages if (entry := nav_entry(page)) is not None),
                      key=lambda pair: pair[0].order)
    links: list[NavLink] = []
    for entry, page in declared:
        if not allowed(principal, page_roles(page) or ()):
            continue
        if entry.per_team:
            links += [NavLink(label, page["path_template"].replace(TEAM, key), f"nav-{key}")
                      for key, label in teams if can_read_team(principal, key)]
        else:
            links.append(NavLink(_(entry.label), page["path"], f"nav-{page['path'].strip('/')}"))
    return links
