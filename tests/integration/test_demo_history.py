"""The demo's backfill arrives as history (`collectors.demo_history`): queued at post time, mostly
handled by the desk back then through the models' actions, replies recorded as sent with their
audit events, and a bounded open backlog left for the live demo."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from collectors.demo_history import claim_delay, replay_history
from config.settings import Settings
from config.sources import SourceConfig
from models.db import Database
from models.reply_tables import Reply
from models.tables import AuditEvent, Mention, QueueItem, SourceRow
from vigie.cli_users import seed_demo

HOURS = 0.5
RATE = 40  # posts a minute: about 1,200 posts, the desk handling most


def _history(db: Database, settings: Settings, now: datetime) -> Settings:
    source = SourceConfig("demo", "demo", 2.0, True, {"seed": 7, "rate_per_minute": RATE, "backfill_hours": HOURS})
    settings = replace(settings, sources=(source,))
    seed_demo(settings, db, desk=True)  # accounts and the library, as `vigie demo` makes them first
    report = replay_history(db, settings, now=now)
    assert report is not None and report.stored > 1000
    return settings


@pytest.mark.slow  # about 20 s on an idle 2-core machine: half an hour of the stream, replayed
def test_the_backfill_arrives_as_history_handled_back_then_with_replies_sent(db: Database, settings: Settings) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    settings = _history(db, settings, now)
    naive_now = now.replace(tzinfo=None)
    start = naive_now - timedelta(hours=HOURS)
    with db.read() as s:
        items = s.execute(select(QueueItem, Mention.created_at).join(Mention, Mention.id == QueueItem.mention_id)).all()
        assert s.scalar(select(SourceRow.cursor).where(SourceRow.name == "demo")) is not None  # live goes on from it
    assert len(items) > 700
    for item, posted in items:  # queued at its post time (within the poll's minute), not at the start
        assert start <= item.created_at <= naive_now
        assert timedelta(0) <= item.created_at - posted <= timedelta(minutes=1, seconds=1)
        assert item.due_at > item.created_at
        if item.claimed_at is not None:
            assert item.created_at <= item.claimed_at <= naive_now
        if item.resolved_at is not None and item.status == "resolved":
            assert item.claimed_at is not None and item.claimed_at <= item.resolved_at <= naive_now
    handled = [i for i, _p in items if i.status in ("resolved", "dismissed") and i.assignee]
    opened = [i for i, _p in items if i.status in ("new", "claimed")]
    assert len(handled) > len(opened)  # mostly handled back then
    per_team = {t: sum(1 for i in opened if i.team == t) for t in settings.team_keys}
    assert all(n <= 600 for n in per_team.values()), per_team  # a backlog, not the whole backfill
    assert sum(1 for i in opened if i.created_at < naive_now - timedelta(minutes=30)) < len(opened) / 4
    late = [i for i in handled if i.claimed_at and i.claimed_at - i.created_at > timedelta(minutes=12)]
    assert late and len(late) < len(handled) / 10  # a few slow ones, not many
    assert all(claim_delay(i.id, "low") >= timedelta(0) for i in handled[:50])

    # the replies of history: sent, with their audit events, at their times
    with db.read() as s:
        sent = s.scalars(select(Reply).where(Reply.status == "sent")).all()
        assert len(sent) > 150
        for reply in sent[:200]:
            assert reply.platform_id == f"demo-history-{reply.id}"
            assert reply.created_at <= reply.sent_at <= naive_now  # type: ignore[operator]
            events = s.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.at)
                               .where(AuditEvent.subject == f"reply:{reply.id}").order_by(AuditEvent.id)).all()
            actions = [a for a, _actor, _at in events]
            assert actions[0] == "reply.compose" and actions[-2:] == ["reply.sending", "reply.sent"]
            assert [at for _a, _actor, at in events] == sorted(at for _a, _actor, at in events)
            assert events[0][1].startswith("desk.")
            if reply.needs_approval:  # approved by someone who did not write it
                assert "reply.approve" in actions and reply.approved_by not in (None, reply.author)
            answered = s.get(QueueItem, reply.queue_item_id)
            assert answered is not None and answered.status == "resolved" and answered.resolved_at >= reply.sent_at  # type: ignore[operator]
        states = dict(s.execute(select(Reply.status, func.count()).group_by(Reply.status)).all())
    assert set(states) <= {"sent", "pending", "queued"}  # waiting for compliance or the sender: the last minutes
    assert states.get("pending", 0) < states["sent"]
    # a database with its history is not replayed again at the next start
    assert replay_history(db, settings, now=now + timedelta(minutes=5)) is None
