"""Supervision: compliance reviews, after the fact, what the review queue holds, and sees its coverage.

The queue (`models.supervision`): posts whose lexicon flags are supervised, a random sample of the
others, and free-form replies sent without pre-approval; the soonest due first, each with the post
or reply reviewed, why it is there, its network, team and due time (overdue ones marked). A
decision (no issue, follow-up, escalate; a comment required for the last two) is recorded once, by
someone other than the reply's writer (four eyes): the refusal is shown as it is. Below, the
coverage per day or week and per reviewer: sampled, flagged and free-form reviews created,
reviewed, late, overdue and the median time to review. The page asks every few seconds whether
any review changed (one cheap query) and rebuilds only then.

Every text here (post, reply, names, comments) is untrusted and shown as plain text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from babel.dates import format_date
from dash import ALL, Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import EVERY_TEAM_ROLES, Principal, can_read_team, readable_teams
from dashboard.components.names import review_reason, team_name
from dashboard.components.outbound import minutes_text, short
from dashboard.components.when import due, local, number, when
from dashboard.context import current
from i18n import N_, _, current_reader
from models import supervision
from models.ids import no_such, parse_id
from models.reply_rules import kind_name
from models.supervision import DECISION_NAMES, decision_name
from models.tables import utcnow

REVIEWERS: tuple[str, ...] = ("compliance", "admin")


def _page_title(**_kw: Any) -> str:
    return _("Supervision") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/supervision", title=_page_title, name="Supervision",
                   roles=REVIEWERS, nav={"order": 26, "label": N_("Supervision")})
TICK_MS = 5000
SHOWN = 200
PERIODS = {"day": timedelta(days=30), "week": timedelta(weeks=12)}  # the range each coverage table covers
DECISION_LABELS = DECISION_NAMES  # English; `decision_name` says them in the reader's language


def _teams(principal: Principal | None) -> list[str] | None:
    """The teams whose reviews ``principal`` may see (None: all, reviews of no team included)."""
    if principal is not None and principal.role in EVERY_TEAM_ROLES:
        return None
    return readable_teams(principal, current().settings.team_keys)


def build_header(waiting: int, overdue: int, due_hours: int) -> str:
    due_in = minutes_text(due_hours * 60)
    if not waiting:
        return _("Nothing to review. Reviews are due {delay} after they are queued.").format(delay=due_in)
    return _("{waiting} to review, {overdue} overdue (due {delay} after they are queued).").format(
        waiting=number(waiting), overdue=number(overdue), delay=due_in)


def build_subject(review: Any, mention: Any, reply: Any, now: datetime) -> list[Any]:
    """What is reviewed: the reply's text (and the post it answers) or the post, as plain text."""
    parts: list[Any] = []
    if reply is not None:
        parts.append(html.Div([_("{kind} {id} by {author} · policy {policy} · sent").format(
            kind=kind_name(reply.kind).capitalize(), id=reply.id, author=reply.author, policy=reply.policy), " ",
            when(reply.sent_at, now)], className="small"))
        parts.append(html.P(reply.text, className="vigie-detail-text mb-1"))
    if mention is not None:
        author = mention.author_handle or mention.author_name or _("unknown author")
        parts.append(html.Div([html.A(_("mention {id}").format(id=mention.id), href=f"/mention/{mention.id}"),
                               f" · {mention.network} · {author}: ",
                               html.Span(short(mention.text, 400), className="text-muted")], className="small"))
    elif reply is None:
        parts.append(html.Div(_("mention {id} (no longer stored)").format(id=review.mention_id),
                              className="small text-muted"))
    return parts


def build_review_card(review: Any, mention: Any, reply: Any, now: datetime) -> Any:
    overdue = review.due_at < now
    return dbc.Card(dbc.CardBody([
        html.Div([html.B(_("Review {id}").format(id=review.id)),
                  " · " + _("{reason} · {network} · team {team} · queued").format(
                      reason=review_reason(review.reason), network=review.network or "—", team=team_name(review.team)),
                  " ", when(review.created_at, now), " · ", _("due"), " ", html.Span(local(review.due_at)),
                  dbc.Badge(due(review.due_at, now), color="danger" if overdue else "secondary", className="ms-2",
                            id=f"supervision-due-{review.id}")]),
        *build_subject(review, mention, reply, now),
        html.Label([html.Span(_("Decision"), className="visually-hidden"),  # names the select for screen readers
                    dbc.Select(id={"type": "supervision-decision", "review": review.id}, value="no_issue",
                               className="my-2",
                               options=[{"label": decision_name(key), "value": key} for key in DECISION_LABELS])],
                   className="d-block"),
        dbc.Textarea(id={"type": "supervision-comment", "review": review.id}, maxLength=supervision.MAX_COMMENT,
                     className="mb-2", placeholder=_("Comment (required for a follow-up or an escalation)")),
        dbc.Button(_("Record decision"), id={"type": "supervision-decide", "review": review.id}, color="primary",
                   size="sm"),
    ]), className="mb-2" + (" border-danger" if overdue else ""), id=f"supervision-review-{review.id}")


def _cell(value: float | None) -> str:
    return "—" if value is None else minutes_text(int(round(value)))


def build_coverage(coverage: supervision.Coverage, period: str) -> Any:
    """The coverage table: per period its totals, then each reviewer."""
    if not coverage.rows:
        return html.P(_("No review queued in this range."), className="text-muted")
    first = _("Week of") if period == "week" else _("Day")
    head = html.Thead(html.Tr([html.Th(h) for h in (first, _("Reviewer"), _("Sampled"), _("Flagged"), _("Free-form"),
                                                     _("Reviewed"), _("Late"), _("Overdue"), _("Median to review"))]))
    reader = current_reader()
    body = [html.Tr([html.Td(format_date(r.period, format="medium", locale=reader.language)),
                     html.Td(r.reviewer or _("all reviews")),
                     html.Td(number(r.sampled)), html.Td(number(r.flagged)), html.Td(number(r.free_form)),
                     html.Td(number(r.reviewed)), html.Td(number(r.late)),
                     html.Td(number(r.overdue) if r.reviewer is None else "",
                             className="text-danger" if r.overdue else ""),
                     html.Td(_cell(r.median_minutes))],
                    className="fw-bold" if r.reviewer is None else "") for r in coverage.rows]
    note = [] if coverage.complete else [html.P(_("Only the newest {count} reviews are counted.").format(
        count=number(supervision.MAX_COVERAGE)),
                                                className="small text-warning")]
    return html.Div([*note, dbc.Table([head, html.Tbody(body)], size="sm", id="supervision-coverage-table")])


def _coverage(session: Any, period: str) -> Any:
    period = period if period in PERIODS else "day"
    now = utcnow()
    since = supervision.period_start(now - PERIODS[period], period)
    return build_coverage(supervision.coverage(session, since, now + timedelta(seconds=1), period, now), period)


def _queue(session: Any) -> tuple[Any, str]:
    now, principal = utcnow(), current_principal()
    rows = supervision.open_reviews(session, SHOWN, _teams(principal))
    waiting, overdue = supervision.open_counts(session, now)
    cards = [build_review_card(r, m, p, now) for r, m, p in rows]
    return (cards or html.P(_("Nothing to review."), className="text-muted"),
            build_header(waiting, overdue, current().settings.archive.supervision.due_hours))


def layout(**_query: Any) -> Any:
    with current().db.read() as session:
        marker = supervision.change_marker(session)
        cards, header = _queue(session)
        table = _coverage(session, "day")
    return html.Div([
        dcc.Interval(id="supervision-tick", interval=TICK_MS),
        dcc.Store(id="supervision-marker", data=marker),
        html.H2(_("Supervision")),
        html.P(header, id="supervision-header", className="lead"),
        dbc.Alert(id="supervision-alert", is_open=False, dismissable=True, duration=10000),
        html.H4(_("To review"), className="mt-3"),
        html.Div(cards, id="supervision-queue"),
        html.H4(_("Coverage"), className="mt-4"),
        dbc.RadioItems(id="supervision-period", value="day", inline=True, className="mb-2",
                       options=[{"label": _("per day (30 days)"), "value": "day"},
                                {"label": _("per week (12 weeks)"), "value": "week"}]),
        html.Div(table, id="supervision-coverage"),
    ])


def _decide(review_id: int, decision: Any, comment: Any) -> tuple[str, str]:
    ctx, principal = current(), current_principal()
    assert principal is not None  # guarded
    try:
        with ctx.db.write.begin() as session:
            found = supervision.review(session, review_id)
            if found is None or (found.team is not None and not can_read_team(principal, found.team)) or (
                    found.team is None and principal.role not in EVERY_TEAM_ROLES):
                raise supervision.SupervisionError(_("review {id} does not exist").format(id=review_id))
            supervision.decide(session, principal.name, review_id, str(decision or ""),
                               comment if isinstance(comment, str) else None)
    except supervision.SupervisionError as exc:
        return str(exc), "danger"
    return _("Review {id}: {decision} recorded.").format(id=review_id, decision=decision_name(str(decision))), \
        "success"


def _by_review(states: Any) -> dict[Any, Any]:
    return {item["id"].get("review"): item.get("value") for item in (states or [])
            if isinstance(item, dict) and isinstance(item.get("id"), dict)}


@callback(
    Output("supervision-marker", "data"),
    Output("supervision-queue", "children"),
    Output("supervision-header", "children"),
    Output("supervision-alert", "children"),
    Output("supervision-alert", "color"),
    Output("supervision-alert", "is_open"),
    Input("supervision-tick", "n_intervals"),
    Input({"type": "supervision-decide", "review": ALL}, "n_clicks"),
    State({"type": "supervision-decision", "review": ALL}, "value"),
    State({"type": "supervision-comment", "review": ALL}, "value"),
    State("supervision-marker", "data"),
    prevent_initial_call=True,
)
@guarded(*REVIEWERS)
def update_supervision(_n: int | None, _clicks: list[int | None], _decisions: list[str | None],
                       _comments: list[str | None], marker: str | None) -> tuple[Any, ...]:
    """A tick rebuilds the queue when a review changed; a click records one decision."""
    trigger = dash.ctx.triggered_id
    alert: tuple[Any, Any, Any] = (no_update, no_update, no_update)
    if isinstance(trigger, dict):
        if not any(t.get("value") for t in dash.ctx.triggered):
            raise PreventUpdate  # buttons appearing with a rebuilt queue, not a click
        review_id = parse_id(trigger.get("review"))
        decisions, comments = _by_review(dash.ctx.states_list[0]), _by_review(dash.ctx.states_list[1])
        alert = (no_such("review", trigger.get("review")), "danger", True) if review_id is None else \
            (*_decide(review_id, decisions.get(review_id), comments.get(review_id)), True)
    with current().db.read() as session:
        latest = supervision.change_marker(session)
        if latest == marker and alert[0] is no_update:
            raise PreventUpdate  # nothing changed: nothing sent
        cards, header = _queue(session)
    return (latest, cards, header, *alert)


@callback(
    Output("supervision-coverage", "children"),
    Input("supervision-period", "value"),
    Input("supervision-marker", "data"),
    prevent_initial_call=True,
)
@guarded(*REVIEWERS)
def update_coverage(period: Any, _marker: Any) -> Any:
    """The coverage table for the period chosen, again when a review changed."""
    if _teams(current_principal()) is not None:
        raise PreventUpdate  # coverage counts every team's reviews: for those who read every team
    with current().db.read() as session:
        return _coverage(session, period if isinstance(period, str) else "day")
