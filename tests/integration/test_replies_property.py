"""Property test (hypothesis): random sequences of composing, editing, approving, rejecting, expiring,
cancelling and sending, by agents and compliance officers, under each approval policy, on SQLite
and PostgreSQL. Whatever the order:

* no reply is ever sent that the policy required to be approved and that was not approved, after
  its last edit, by someone who never wrote or edited it;
* no author approves or rejects their own reply;
* the sent text's hash always equals the approved text's (and the stored text's).

The checks read the audit trail, not the test's own bookkeeping: the record must prove it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from config.settings import Settings
from models import library, outbox, replies
from models.compose import text_sha256
from models.db import Database
from models.library import Draft
from models.replies import ReplyError, Target
from models.reply_tables import Reply
from models.tables import AuditEvent, Mention, QueueItem, utcnow
from tests.kit import seed_items

AGENTS = ("agent.a", "agent.b")
OFFICERS = ("compliance.a", "compliance.b")
PEOPLE = AGENTS + OFFICERS
TEXTS = ("We are on it, sorry.", "Please send us a private message.", "Thanks, fixed now.",
         "Hello {{first_name}}, your case is {{case_ref}}.", "A guaranteed return, risk-free!")
BODY = "Hello {{first_name}}, your case is {{case_ref}}."
VALUES = {"first_name": "Ana", "case_ref": "AUR-1"}
SLOW_DB = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

STEP = st.one_of(
    st.tuples(st.just("compose"), st.sampled_from(PEOPLE), st.sampled_from((None, *TEXTS)), st.booleans()),
    st.tuples(st.just("edit"), st.sampled_from(PEOPLE), st.integers(0, 2), st.sampled_from(TEXTS)),
    st.tuples(st.just("approve"), st.sampled_from(PEOPLE), st.integers(0, 2)),
    st.tuples(st.just("reject"), st.sampled_from(PEOPLE), st.integers(0, 2)),
    st.tuples(st.just("cancel"), st.sampled_from(PEOPLE), st.integers(0, 2)),
    st.tuples(st.just("expire"), st.integers(1, 48)),
    st.tuples(st.just("send"), st.integers(0, 2)),
)


def _do(db: Database, rules: replies.Rules, target: Target, version_id: int, ids: list[int],
        step: tuple[Any, ...]) -> None:
    kind = step[0]
    pick = (lambda n: ids[n % len(ids)]) if ids else None
    try:
        with db.write.begin() as s:
            if kind == "compose":
                _, who, text, use_template = step
                reply = replies.compose(s, rules, who, target, text, version_id if use_template else None, VALUES)
                ids.append(reply.id)
            elif pick is None:
                return
            elif kind == "edit":
                replies.edit(s, rules, pick(step[2]), step[1], step[3], VALUES)
            elif kind == "approve":
                replies.approve(s, pick(step[2]), step[1])
            elif kind == "reject":
                replies.reject(s, pick(step[2]), step[1], "not this wording")
            elif kind == "cancel":
                replies.cancel(s, pick(step[2]), step[1], "not needed")
            elif kind == "expire":
                replies.expire_waiting(s, rules.config.expire_hours, utcnow() + timedelta(hours=step[1]))
            elif kind == "send":
                claimed = outbox.claim(s, pick(step[1]), "sender", utcnow() + timedelta(days=3))
                if claimed is not None and claimed.status == "sending":
                    outbox.record_sent(s, claimed.id, f"p{claimed.id}", None)
    except ReplyError:
        pass  # a refusal is an allowed outcome; what matters is what the record then proves


def _check_record(db: Database, ids: list[int]) -> None:
    with db.read() as s:
        for reply_id in ids:
            events = list(s.scalars(select(AuditEvent).where(AuditEvent.subject == f"reply:{reply_id}")
                                    .order_by(AuditEvent.id)))
            reply = s.get(Reply, reply_id)
            assert reply is not None
            writers: set[str] = set()
            needs, approved_by, approved_hash, text_hash = False, None, None, None
            for event in events:
                if event.action in ("reply.compose", "reply.edit"):
                    writers.add(event.actor)
                    needs, approved_by, approved_hash = event.after["needs_approval"], None, None
                    text_hash = event.after["text_sha256"]
                elif event.action in ("reply.approve", "reply.reject"):
                    assert event.actor not in writers, f"reply {reply_id}: {event.actor} decided their own reply"
                    if event.action == "reply.approve":
                        approved_by, approved_hash = event.actor, event.after["approved_sha256"]
                        assert approved_hash == text_hash
                elif event.action == "reply.sent":
                    if needs:
                        assert approved_by is not None, f"reply {reply_id} sent without the approval it needed"
                        assert event.after["sent_sha256"] == approved_hash
                    assert event.after["sent_sha256"] == text_hash
            if reply.status == "sent":
                assert reply.sent_sha256 == reply.text_sha256 == text_sha256(reply.text)
                if reply.needs_approval:
                    assert reply.approved_sha256 == reply.sent_sha256
                    assert reply.approved_by not in writers


@given(policy=st.sampled_from(("none", "template_only", "all")), on_hit=st.sampled_from(("approve", "block")),
       steps=st.lists(STEP, min_size=1, max_size=25))
@SLOW_DB
def test_no_unapproved_send_no_self_approval_and_hashes_match(db: Database, settings: Settings, policy: str,
                                                              on_hit: str, steps: list[tuple[Any, ...]]) -> None:
    outbound = replace(settings.outbound, default_policy=policy, rules=(), on_hit=on_hit)
    rules = replies.compile_rules(replace(settings, outbound=outbound))
    with db.write.begin() as s:
        count = s.scalar(select(QueueItem.id).order_by(QueueItem.id.desc()).limit(1)) or 0
        version = library.create(s, "lib.author", f"prop-{count}-{len(steps)}", "en", "reply",
                                 Draft("Case", "cases", BODY, ("customer_service",)), ("customer_service",))
        library.decide(s, "compliance.lib", version.id, approve=True)
        version_id = version.id
    item_id = seed_items(db, settings, [f"Aurelia Bank blocked my card ({count})"], prefix=f"q{count}-",
                         network="mastodon")[0]
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        m = s.get(Mention, item.mention_id)
        assert m is not None
        target = Target("reply", m.network, "demo", item.team, m.brand, m.language, item.id, m.id)
    ids: list[int] = []
    for step in steps:
        _do(db, rules, target, version_id, ids, step)
    _check_record(db, ids)
