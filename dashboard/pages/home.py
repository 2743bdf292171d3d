"""Home (/): the signed-in person's own home, by role: an agent's items (pages/home_agent.py), a
lead's teams (home_lead.py), compliance's approvals and reviews (home_compliance.py), a manager's
yesterday and week (home_manager.py), the system's health for admins and operators (home_admin.py).

The home is that page's layout, built here (its ids, its tick and its guarded callback come with
it); `HOMES` is the one place that says which role lands where.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.auth.guard import current_principal, page_for_path
from dashboard.auth.policy import SIGNED_IN

dash.register_page(__name__, path="/", title="Vigie", name="Home", roles=SIGNED_IN)

# Each role's home page (Dash loads the page files itself: they are found in its registry, by path).
HOMES: dict[str, str] = {"agent": "/home/agent", "lead": "/home/lead", "compliance": "/home/compliance",
                         "manager": "/home/manager", "admin": "/home/admin", "operator": "/home/admin"}


def layout(**_query: Any) -> Any:
    principal = current_principal()
    page = page_for_path(HOMES[principal.role]) if principal is not None and principal.role in HOMES else None
    # The registry's layout is the checked one: it builds only for the roles that page names.
    return html.Div(page["layout"]() if page is not None else None, id="home-page")
