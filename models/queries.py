"""Queries the dashboard reads: plain functions, session first, always bounded, never committing.

Live pages ask "what changed since T" (`queue_changes`) on each tick instead of
re-reading whole tables; every query here is served by an index on the tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from models import queue_counts
from models.audit_log import of_item
from models.bulk import one_of
from models.judgement_tables import ModelScore
from models.tables import OPEN_STATUSES, AuditEvent, Mention, QueueItem, SourceRow, utcnow

QUEUE_LIMIT = 500
GRID_TEXT_CHARS = 280


def _row_select() -> Select[*tuple[Any, ...]]:
    return select(
        QueueItem.id,
        QueueItem.team,
        QueueItem.status,
        QueueItem.priority_rank,
        QueueItem.assignee,
        QueueItem.due_at,
        QueueItem.at_risk_at,
        QueueItem.escalated_at,
        QueueItem.created_at.label("queued_at"),
        QueueItem.rule_id,
        QueueItem.updated_at,
        QueueItem.copy_count,
        Mention.id.label("mention_id"),
        Mention.priority,
        Mention.network,
        Mention.author_handle,
        Mention.author_name,
        Mention.author_followers,
        func.substr(Mention.text, 1, GRID_TEXT_CHARS).label("text"),
        Mention.language,
        Mention.sentiment_score,
        Mention.sentiment_label,
        Mention.brand,
        Mention.risk_flags,
        Mention.created_at,
    ).join(Mention, Mention.id == QueueItem.mention_id)


def _as_row(r: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": r.id,
        "mention_id": r.mention_id,
        "team": r.team,
        "status": r.status,
        "priority": r.priority,
        "priority_rank": r.priority_rank,
        "assignee": r.assignee or "",
        "due_at": r.due_at.isoformat(timespec="seconds") + "Z",
        "overdue": r.status in OPEN_STATUSES and r.due_at < now,
        "at_risk_at": (r.at_risk_at or r.due_at).isoformat(timespec="seconds") + "Z",
        "sla": sla_state(r.status, r.due_at, r.at_risk_at, now),
        "escalated": r.escalated_at is not None,
        "queued_at": r.queued_at.isoformat(timespec="seconds") + "Z",
        "rule_id": r.rule_id,
        "network": r.network + (f" +{r.copy_count}" if r.copy_count else ""),  # copies on other networks
        "copies": r.copy_count,
        "author": r.author_handle or r.author_name or "",
        "followers": r.author_followers,
        "text": r.text,
        "language": r.language,
        "sentiment": round(float(r.sentiment_score), 2),
        "sentiment_label": r.sentiment_label,
        "brand": r.brand or "",
        "flags": ", ".join(r.risk_flags or []),
        "created_at": r.created_at.isoformat(timespec="seconds") + "Z",
        "updated_at": r.updated_at.isoformat(),
    }


def sla_state(status: str, due_at: datetime, at_risk_at: datetime | None, now: datetime) -> str:
    """"breached", "at risk", "on time", or "" for a closed item (pure)."""
    if status not in OPEN_STATUSES:
        return ""
    if due_at <= now:
        return "breached"
    if at_risk_at is not None and at_risk_at <= now:
        return "at risk"
    return "on time"


def open_queue(session: Session, team: str, limit: int = QUEUE_LIMIT) -> list[dict[str, Any]]:
    """A team's open items, highest priority then newest first."""
    now = utcnow()
    rows = session.execute(
        _row_select()
        .where(QueueItem.team == team, QueueItem.status.in_(OPEN_STATUSES))
        .order_by(QueueItem.priority_rank, QueueItem.created_at.desc(), QueueItem.id.desc())
        .limit(limit)
    )
    return [_as_row(r, now) for r in rows]


ChangeKey = tuple[str, int]  # (updated_at ISO, item id): a position in the stream of changes


def changes_after(session: Session, key: ChangeKey, limit: int = QUEUE_LIMIT) -> list[dict[str, Any]]:
    """Items of any team changed after ``key``, in change order (keyset paging: never stuck)."""
    at, item_id = datetime.fromisoformat(key[0]), key[1]
    rows = session.execute(
        _row_select()
        .where(tuple_(QueueItem.updated_at, QueueItem.id) > tuple_(at, item_id))
        .order_by(QueueItem.updated_at, QueueItem.id)
        .limit(limit)
    )
    now = utcnow()
    return [_as_row(r, now) for r in rows]


def changes_between(session: Session, start: datetime, end: datetime, limit: int = QUEUE_LIMIT) -> list[dict[str, Any]]:
    """Items changed in (start, end]: the window just behind a page's position, asked again in
    case a transaction stamped earlier committed later. (No team filter here: on the time
    range alone the planner always takes the change index.)"""
    rows = session.execute(
        _row_select()
        .where(QueueItem.updated_at > start, QueueItem.updated_at <= end)
        .order_by(QueueItem.updated_at, QueueItem.id)
        .limit(limit)
    )
    now = utcnow()
    return [_as_row(r, now) for r in rows]


def newest_change(session: Session) -> ChangeKey:
    row = session.execute(
        select(QueueItem.updated_at, QueueItem.id).order_by(QueueItem.updated_at.desc(), QueueItem.id.desc()).limit(1)
    ).first()
    return (row[0].isoformat(), int(row[1])) if row else (datetime(2000, 1, 1).isoformat(), 0)


def last_change(session: Session) -> datetime | None:
    return session.scalar(select(func.max(QueueItem.updated_at)))


def team_counts(session: Session, teams: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """Open, new, claimed, overdue and critical items per team.

    The counts come from ``queue_counts`` (a few rows kept through triggers: models/queue_counts.py), the
    overdue ones as open minus those not yet due, read in the same statement (one snapshot): a range
    of ``ix_queue_items_open_due`` over the items due from now on, which the SLA keeps to the last
    hours' items however long the queue."""
    now = utcnow()
    out = {t: {"open": 0, "new": 0, "claimed": 0, "overdue": 0, "critical": 0} for t in teams}
    not_due: dict[tuple[str, str], int] = {}
    for team, status, critical, n, due in queue_counts.counts_with_not_due(session, OPEN_STATUSES, now):
        counts = out.setdefault(team, {"open": 0, "new": 0, "claimed": 0, "overdue": 0, "critical": 0})
        counts[status] += int(n)
        counts["open"] += int(n)
        counts["overdue"] += int(n)
        counts["critical"] += int(n) if critical else 0
        not_due[(team, status)] = due  # one figure per (team, status): the critical pair's rows agree
    for (team, _status), due in not_due.items():
        out[team]["overdue"] -= due
    return out


def _hour_bucket(session: Session) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%dT%H:00:00", Mention.created_at)
    return func.to_char(func.date_trunc("hour", Mention.created_at), 'YYYY-MM-DD"T"HH24:00:00')


def sentiment_by_hour(session: Session, hours: int = 12, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per hour of the last ``hours``: volume, mean sentiment, negative and positive counts."""
    now = now or utcnow()
    since = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    bucket = _hour_bucket(session).label("hour")
    rows = session.execute(
        select(
            bucket,
            func.count(),
            func.avg(Mention.sentiment_score),
            func.sum(case((Mention.sentiment_label == "negative", 1), else_=0)),
            func.sum(case((Mention.sentiment_label == "positive", 1), else_=0)),
        )
        .where(Mention.created_at >= since, Mention.duplicate_of_id.is_(None))
        .group_by(bucket)
        .order_by(bucket)
        .limit(hours + 1)
    )
    return [
        {"hour": h, "count": int(n), "mean": round(float(m or 0), 3), "negative": int(neg or 0),
         "positive": int(pos or 0)}
        for h, n, m, neg, pos in rows
    ]


def newest_critical(session: Session, limit: int = 8) -> list[dict[str, Any]]:
    """The newest open critical and high items, newest first."""
    now = utcnow()
    rows = session.execute(
        _row_select()
        .where(QueueItem.status.in_(OPEN_STATUSES), QueueItem.priority_rank <= 1)
        .order_by(QueueItem.created_at.desc(), QueueItem.id.desc())
        .limit(limit)
    )
    return [_as_row(r, now) for r in rows]


def mention_detail(session: Session, mention_id: int) -> dict[str, Any] | None:
    """Everything the detail view shows: the post, its scores, its route, history and copies."""
    mention = session.get(Mention, mention_id)
    if mention is None:
        return None
    head = session.get(Mention, mention.duplicate_of_id) if mention.duplicate_of_id else mention
    assert head is not None
    item = session.scalars(select(QueueItem).where(QueueItem.mention_id == head.id)).first()
    copies = session.scalars(
        select(Mention).where(Mention.duplicate_of_id == head.id).order_by(Mention.id).limit(50)
    ).all()
    # the mark before the events: an event written between the two reads is then drawn at the next tick
    mark = item_mark(session, item) if item is not None else ""
    events = item_events(session, item.id) if item is not None else []
    source = session.get(SourceRow, mention.source_id)
    return {"mention": mention, "head": head, "item": item, "copies": list(copies), "events": events,
            "source": source.name if source else "?", "model_score": session.get(ModelScore, mention.id),
            "mark": mark}


def queue_item(session: Session, item_id: int) -> QueueItem | None:
    return session.get(QueueItem, item_id)


def item_mark(session: Session, item: QueueItem) -> str:
    """What changes when the item page must be drawn again: the item's stamp and its newest event's id
    (a correction writes an event and leaves the item as it was)."""
    newest = session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.queue_item_id == item.id))
    return f"{item.updated_at.isoformat()}|{newest or 0}"


def item_events(session: Session, item_id: int, limit: int = 200) -> list[AuditEvent]:
    """The item's newest ``limit`` events, oldest first (its history as the item page shows it)."""
    newest = session.scalars(select(AuditEvent).where(AuditEvent.queue_item_id == item_id)
                             .order_by(AuditEvent.id.desc()).limit(limit))
    return list(reversed(list(newest)))


def source_health(session: Session, limit: int = 100) -> list[SourceRow]:
    return list(session.scalars(select(SourceRow).order_by(SourceRow.name).limit(limit)))


def count_mentions(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Mention)) or 0)


TRIAGE_LIMIT = 200


def _triage_lists(teams: list[str], now: datetime, limit: int) -> list[tuple[str, bool, Select[*tuple[Any, ...]]]]:
    """The lead's bounded lists as (reason, newest first, statement of (id, sort key)): per team and
    open status its escalated items and those at risk or past their SLA (soonest due first), and
    per team its unassigned items (oldest first). Each walks its own index in order and stops at
    ``limit``; only the ids and their sort keys are read."""
    lists: list[tuple[str, bool, Select[*tuple[Any, ...]]]] = []
    for team in teams:
        for status in OPEN_STATUSES:
            mine = (QueueItem.status == status, QueueItem.team == team)
            lists.append(("escalated", True, select(QueueItem.id, QueueItem.escalated_at.label("k"))
                          .where(*mine, QueueItem.escalated_at.is_not(None))
                          .order_by(QueueItem.escalated_at.desc()).limit(limit)))
            # at_risk_at <= due_at: walking by due time, the at-risk and breached items come first (an
            # item without at_risk_at is listed once breached, not looked for through the whole queue).
            lists.append(("sla", False, select(QueueItem.id, QueueItem.due_at.label("k"))
                          .where(*mine, or_(QueueItem.at_risk_at <= now, QueueItem.due_at <= now))
                          .order_by(QueueItem.due_at).limit(limit)))
        lists.append(("unassigned", False, select(QueueItem.id, QueueItem.created_at.label("k"))
                      .where(QueueItem.status == "new", QueueItem.team == team)
                      .order_by(QueueItem.created_at, QueueItem.id).limit(limit)))
    return lists


def _triage_select() -> Select[*tuple[Any, ...]]:
    """What the triage grid shows of an item (its columns, the link's mention, the SLA's times)."""
    return select(
        QueueItem.id, QueueItem.team, QueueItem.status, QueueItem.assignee, QueueItem.due_at, QueueItem.at_risk_at,
        QueueItem.created_at.label("queued_at"), QueueItem.copy_count, Mention.id.label("mention_id"),
        Mention.priority, Mention.network, func.substr(Mention.text, 1, GRID_TEXT_CHARS).label("text"),
    ).join(Mention, Mention.id == QueueItem.mention_id)


def triage_rows(session: Session, teams: list[str], limit: int = TRIAGE_LIMIT) -> list[dict[str, Any]]:
    """What a lead must look at, for ``teams``: escalated items, items at risk or past their SLA
    (soonest due first), and unassigned items (oldest first). Each row says why it is here
    (``why``) and carries what the triage grid shows. Two statements: the lists' ids (one bounded
    index walk each, in one UNION ALL), then each item listed, once, with its post."""
    if not teams:
        return []
    now = utcnow()
    lists = _triage_lists(teams, now, limit)
    parts = []
    for number, (_reason, _newest, statement) in enumerate(lists):
        sub = statement.subquery()
        parts.append(select(sub.c.id, sub.c.k, literal(number).label("list")))
    found: dict[int, list[tuple[Any, int]]] = {number: [] for number in range(len(lists))}
    for item_id, key, number in session.execute(union_all(*parts)):
        found[int(number)].append((key, int(item_id)))
    order: dict[int, list[int]] = {}  # item id -> its lists, in list order; items in first-found order
    for number, (_reason, newest, _statement) in enumerate(lists):
        for _key, item_id in sorted(found[number], key=lambda pair: pair[0], reverse=newest):
            order.setdefault(item_id, []).append(number)
    if not order:
        return []
    listed = one_of(session.connection(), QueueItem.id, list(order))
    rows = {r.id: r for r in session.execute(_triage_select().where(listed))}
    out = []
    for item_id, numbers in order.items():
        r = rows.get(item_id)
        if r is None:  # gone between the two reads (a deleted item): not shown
            continue
        sla = sla_state(r.status, r.due_at, r.at_risk_at, now)
        why: list[str] = []
        for number in numbers:
            label = sla if lists[number][0] == "sla" else lists[number][0]
            if label and label not in why:  # no SLA label for an item closed between the two reads
                why.append(label)
        out.append({
            "id": r.id, "mention_id": r.mention_id, "team": r.team, "status": r.status, "priority": r.priority,
            "assignee": r.assignee or "", "queued_at": r.queued_at.isoformat(timespec="seconds") + "Z",
            "due_at": r.due_at.isoformat(timespec="seconds") + "Z",
            "network": r.network + (f" +{r.copy_count}" if r.copy_count else ""),  # copies on other networks
            "text": r.text, "why": ", ".join(why),
        })
    return out


def workload(session: Session, teams: list[str], limit: int = 500) -> list[dict[str, Any]]:
    """Claimed items per assignee and team, with the oldest claim (bounded)."""
    if not teams:
        return []
    rows = session.execute(
        select(QueueItem.assignee, QueueItem.team, func.count(), func.min(QueueItem.claimed_at),
               func.sum(case((QueueItem.due_at < utcnow(), 1), else_=0)))
        .where(QueueItem.status == "claimed", QueueItem.team.in_(teams))
        .group_by(QueueItem.assignee, QueueItem.team)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [{"assignee": a or "", "team": t, "claimed": int(n), "oldest": o, "breached": int(b or 0)}
            for a, t, n, o, b in rows]


def newest_audit_events(
    session: Session, since: datetime | None = None, until: datetime | None = None, item_id: int | None = None,
    actor: str | None = None, limit: int = 100,
) -> list[AuditEvent]:
    """The newest audit events matching the filters, newest first (bounded); of an item, with the
    events of the replies written on it (`models.audit_log.of_item`)."""
    statement = select(AuditEvent)
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.at < until)
    if item_id is not None:
        statement = statement.where(of_item(session, item_id))
    if actor:
        statement = statement.where(AuditEvent.actor == actor)
    return list(session.scalars(statement.order_by(AuditEvent.id.desc()).limit(limit)))


def rows_by_ids(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """Queue rows of these items (after an action: what the grid should now show)."""
    if not ids:
        return []
    now = utcnow()
    return [_as_row(r, now) for r in session.execute(_row_select().where(QueueItem.id.in_(ids[:QUEUE_LIMIT])))]
