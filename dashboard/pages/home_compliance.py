"""Compliance's home (/home/compliance, and / for compliance officers): the drafts waiting for
approval, the oldest first, each with where it stands against the approval SLA, and the supervision
reviews due, the soonest first; each list links to its page (/approvals, /supervision). A tick
re-reads the two small lists and sends them only when they changed (or a minute passed).

Reply texts and names are shown as plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.auth.guard import current_principal
from dashboard.auth.policy import can_read_team
from dashboard.components.home_lists import live_home, minute, short, signature, sla_text
from dashboard.components.names import review_reason
from dashboard.components.outbound import sla_state
from dashboard.components.when import due, number, when
from dashboard.context import current
from i18n import N_, _
from models import outbox, supervision
from models.tables import utcnow

ROLES: tuple[str, ...] = ("compliance", "admin")
SHOWN = 10  # rows of each list


def _page_title(**_kw: Any) -> str:
    return _("Compliance") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/home/compliance", title=_page_title, name="Compliance home", roles=ROLES)


def _table(head: list[str], rows: list[Any], ident: str, empty: str) -> Any:
    if not rows:
        return html.P(empty, className="text-muted", id=ident)
    return dbc.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in head])), html.Tbody(rows)],
                     size="sm", striped=True, id=ident)


def build_drafts(waiting: list[tuple[Any, Any]], now: datetime, sla_minutes: int, labels: dict[str, str]) -> Any:
    rows = []
    for reply, mention in waiting:
        state = sla_state(reply.submitted_at, now, sla_minutes)
        answers = html.A(_("Mention {number}").format(number=mention.id), href=f"/mention/{mention.id}") \
            if mention is not None else "—"
        rows.append(html.Tr([
            html.Td(html.A(_("Draft {number}").format(number=reply.id), href="/approvals")),
            html.Td(labels.get(reply.team or "", reply.team or "—")),
            html.Td(reply.author),
            html.Td(when(reply.submitted_at, now)),
            html.Td(dbc.Badge(sla_text(state.label), color=state.colour, text_color="dark" if state.colour == "warning"
                              else None, id=f"home_compliance-sla-{reply.id}")),
            html.Td(answers),
            html.Td(html.Span(short(reply.text), className="small")),
        ], id=f"home_compliance-drafts-{reply.id}"))
    return _table([_("Draft"), _("Team"), _("Writer"), _("Waiting since"), _("Approval SLA"), _("Answers"),
                   _("Text")], rows, "home_compliance-drafts", _("Nothing waits for approval."))


def build_reviews(reviews: list[tuple[Any, Any, Any]], now: datetime, labels: dict[str, str]) -> Any:
    rows = [html.Tr([
        html.Td(html.A(_("Review {number}").format(number=review.id), href="/supervision")),
        html.Td(review_reason(review.reason)),
        html.Td(labels.get(review.team or "", review.team or "—")),
        html.Td(review.network or "—"),
        html.Td(due(review.due_at, now)),
        html.Td(html.A(_("Mention {number}").format(number=mention.id), href=f"/mention/{mention.id}")
                if mention is not None else "—"),
    ], id=f"home_compliance-reviews-{review.id}") for review, mention, _reply in reviews]
    return _table([_("Review"), _("Reason"), _("Team"), _("Network"), _("Due"), _("Post")], rows,
                  "home_compliance-reviews", _("No review is waiting."))


def _lists() -> tuple[list[Any], str]:
    ctx, principal, now = current(), current_principal(), utcnow()
    labels = {t.key: t.label for t in ctx.settings.teams}
    with ctx.db.pages() as session:
        waiting = [(r, m) for r, m in outbox.waiting(session, limit=SHOWN)
                   if r.team is None or can_read_team(principal, r.team)]
        pending = outbox.counts(session, ("pending",)).get("pending", 0)
        reviews = supervision.open_reviews(session, limit=SHOWN)
        open_reviews, late = supervision.open_counts(session, now)
    children = [
        html.H3([_("Drafts waiting for approval"), dbc.Badge(number(pending), color="info", className="ms-2",
                                                            id="home_compliance-count-drafts")], className="mt-3"),
        build_drafts(waiting, now, ctx.settings.outbound.sla_minutes, labels),
        html.P(html.A(_("Decide them on the approvals page"), href="/approvals")),
        html.H3([_("Supervision reviews due"), dbc.Badge(number(open_reviews), color="info", className="ms-2",
                                                        id="home_compliance-count-reviews")], className="mt-4"),
        html.P(_("{late} past their due time.").format(late=number(late)), className="small text-muted")
        if late else None,
        build_reviews(reviews, now, labels),
        html.P(html.A(_("Review them on the supervision page"), href="/supervision")),
    ]
    digest = signature([(r.id, r.status) for r, _m in waiting], pending, [r.id for r, _m, _p in reviews],
                       open_reviews, late, minute(now))
    return children, digest


layout = live_home("home_compliance", N_("Compliance"), _lists, ROLES)
