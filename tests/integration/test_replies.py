"""The outbound rules on a real database (SQLite, and PostgreSQL when configured): the library's
versions and four eyes, the approval policies, screening, disclosures, editing after approval,
expiry, the sender's claim, and an audit event for every change."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from config.outbound import OutboundConfig, PolicyRule
from config.settings import Settings
from models import library, outbox, replies
from models.audit import verify_chains
from models.compose import text_sha256
from models.db import Database
from models.library import Draft, LibraryError
from models.replies import ReplyError, Target
from models.reply_tables import Reply, TemplateVersion
from models.tables import AuditEvent, Mention, QueueItem, utcnow
from tests.kit import seed_items

TEAMS = ("customer_service", "legal", "marketing")
CARD = "Hello {{first_name}}, we are sorry your card was blocked. Your case is {{case_ref}}; we will call you today."


def _template(db: Database, body: str = CARD, key: str = "blocked-card", language: str = "en", kind: str = "reply",
              networks: tuple[str, ...] = (), teams: tuple[str, ...] = ("customer_service",)) -> int:
    """A template approved for use: drafted by lib.author, approved by lib.compliance; its version id."""
    with db.write.begin() as s:
        version = library.create(s, "lib.author", key, language, kind,
                                 Draft("Blocked card", "cards", body, teams, networks), TEAMS)
        library.decide(s, "lib.compliance", version.id, approve=True)
        return version.id


def _rules(settings: Settings, **changes: object) -> replies.Rules:
    return replies.compile_rules(replace(settings, outbound=replace(settings.outbound, **changes)))


def _target(db: Database, item_id: int, source: str = "demo") -> Target:
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        m = s.get(Mention, item.mention_id)
        assert m is not None
        return Target("reply", m.network, source, item.team, m.brand, m.language, item.id, m.id)


def _events(db: Database, subject: str) -> list[AuditEvent]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.id)))


@pytest.fixture
def item(db: Database, settings: Settings) -> int:
    return seed_items(db, settings, ["My Aurelia Bank card was blocked again, what is going on?"],
                      network="mastodon")[0]


def test_library_versions_four_eyes_expiry_and_retirement(db: Database) -> None:
    with db.write.begin() as s:
        first = library.create(s, "lib.author", "fees", "fr", "reply",
                               Draft("Frais", "fees", "Bonjour {{first_name}}, voici nos tarifs.",
                                     ("customer_service",)), TEAMS)
        template_id, first_id = first.template_id, first.id
        assert library.usable_version(s, template_id) is None  # a draft is not usable
        with pytest.raises(LibraryError, match="four eyes"):
            library.decide(s, "lib.author", first_id, approve=True)
        with pytest.raises(LibraryError, match="reason"):
            library.decide(s, "lib.compliance", first_id, approve=False)
        library.decide(s, "lib.compliance", first_id, approve=True)
        assert library.usable_version(s, template_id).id == first_id  # type: ignore[union-attr]
        with pytest.raises(LibraryError, match="only a draft"):
            library.decide(s, "lib.other", first_id, approve=False, reason="late")
    with db.write.begin() as s:
        second = library.edit(s, "lib.author", template_id,
                              Draft("Frais", "fees", "Bonjour {{first_name}}, voici nos tarifs 2027.",
                                    ("customer_service",)), TEAMS)
        assert second.version == 2
        assert library.usable_version(s, template_id).id == first_id  # type: ignore[union-attr]
        library.decide(s, "lib.compliance", second.id, approve=True)
        assert library.usable_version(s, template_id).id == second.id  # type: ignore[union-attr]
        # expired: not usable
        s.execute(update(TemplateVersion).where(TemplateVersion.id == second.id)
                  .values(expires_at=utcnow() - timedelta(minutes=1)))
        assert library.usable_version(s, template_id) is None
        s.execute(update(TemplateVersion).where(TemplateVersion.id == second.id).values(expires_at=None))
        retired = library.retire(s, "lib.compliance", template_id, "new tariff sheet")
        assert retired.version == 3 and retired.status == "retired"
        assert library.usable_version(s, template_id) is None
        assert [v.body for v in library.versions(s, template_id)][1:] == [
            "Bonjour {{first_name}}, voici nos tarifs 2027.", "Bonjour {{first_name}}, voici nos tarifs."]
    actions = [e.action for e in _events(db, f"template:{template_id}")]
    assert actions == ["template.draft", "template.approve", "template.draft", "template.approve", "template.retire"]


@pytest.mark.parametrize(("policy", "from_template", "edited", "expected"), [
    ("template_only", True, False, "queued"),
    ("template_only", False, False, "pending"),
    ("template_only", True, True, "pending"),
    ("none", False, False, "queued"),
    ("all", True, False, "pending"),
])
def test_the_approval_policy_decides_what_waits(db: Database, settings: Settings, item: int, policy: str,
                                                from_template: bool, edited: bool, expected: str) -> None:
    version_id = _template(db)
    rules = _rules(settings, default_policy=policy, rules=())
    values = {"first_name": "Ana", "case_ref": "AUR-123456"}
    text = None
    if not from_template:
        text, version_id_used = "We are looking into it, sorry for the trouble.", None
    else:
        version_id_used = version_id
        if edited:
            text = "Hello Ana, so sorry your card was blocked. Your case is AUR-123456; we will call you today."
    with db.write.begin() as s:
        reply = replies.compose(s, rules, "agent.cs", _target(db, item), text, version_id_used, values)
        assert reply.status == expected
        assert reply.needs_approval is (expected == "pending")
        assert reply.text_sha256 == text_sha256(reply.text)
        if from_template and not edited:
            assert reply.text == "Hello Ana, we are sorry your card was blocked. Your case is AUR-123456; " \
                                 "we will call you today."


def test_team_rule_in_the_shipped_config_makes_legal_wait(settings: Settings) -> None:
    assert settings.outbound.policy("legal", "x", "Aurelia Bank") == "all"
    assert settings.outbound.policy("customer_service", "x", "Aurelia Bank") == "template_only"
    custom = OutboundConfig(rules=(PolicyRule("none", network="mastodon", brand="Aurelia Bank"),))
    assert custom.policy("legal", "mastodon", "Aurelia Bank") == "none"
    assert custom.policy("legal", "mastodon", None) == "template_only"


def test_refused_replies_store_nothing(db: Database, settings: Settings, item: int) -> None:
    version_id = _template(db)
    rules = _rules(settings, length_limits={"mastodon": 60})
    target = _target(db, item)
    with db.write.begin() as s:
        with pytest.raises(ReplyError, match=r"fill \{\{case_ref\}\}"):
            replies.compose(s, _rules(settings), "agent.cs", target, None, version_id, {"first_name": "Ana"})
        with pytest.raises(ReplyError, match="too many"):
            replies.compose(s, rules, "agent.cs", target, "x" * 61)
        with pytest.raises(ReplyError, match="empty"):
            replies.compose(s, rules, "agent.cs", target, "   ")
        with pytest.raises(ReplyError, match="answered elsewhere|cannot be answered"):
            replies.compose(s, rules, "agent.cs", replace(target, source_name=None), "Hello")
        other_team = replace(target, team="marketing")
        with pytest.raises(ReplyError, match="may not use"):
            replies.compose(s, rules, "agent.m", other_team, None, version_id, {"first_name": "A", "case_ref": "B"})
    with db.read() as s:
        assert s.scalars(select(Reply)).all() == []


def test_screening_forces_approval_or_blocks(db: Database, settings: Settings, item: int) -> None:
    text = "Switch to our savings plan: a guaranteed return and completely risk-free!"
    with db.write.begin() as s:
        reply = replies.compose(s, _rules(settings, default_policy="none"), "agent.cs", _target(db, item), text)
        assert reply.status == "pending" and reply.screening
        with pytest.raises(ReplyError, match="may not be published"):
            replies.compose(s, _rules(settings, default_policy="none", on_hit="block"), "agent.cs",
                            _target(db, item), text)


def test_disclosure_is_added_once(db: Database, settings: Settings, item: int) -> None:
    target = replace(_target(db, item), network="x", brand="Aurelia Bank")
    disclosure = settings.outbound.disclosure("Aurelia Bank", "x")
    assert disclosure
    with db.write.begin() as s:
        reply = replies.compose(s, _rules(settings), "agent.cs", target, "We are on it.")
        assert reply.text.endswith(disclosure) and reply.text.count(disclosure) == 1
        again = replies.compose(s, _rules(settings), "agent.cs", target, f"We are on it.\n\n{disclosure}")
        assert again.text.count(disclosure) == 1


def test_four_eyes_and_editing_after_approval(db: Database, settings: Settings, item: int) -> None:
    rules = _rules(settings)
    with db.write.begin() as s:
        reply = replies.compose(s, rules, "agent.cs", _target(db, item), "Sorry about this, we are on it.")
        reply_id = reply.id
        with pytest.raises(ReplyError, match="four eyes"):
            replies.approve(s, reply_id, "agent.cs")
        replies.edit(s, rules, reply_id, "compliance", "Sorry about this, we are looking into it now.")
        with pytest.raises(ReplyError, match="four eyes"):  # an editor is an author too
            replies.approve(s, reply_id, "compliance")
        approved = replies.approve(s, reply_id, "compliance2")
        assert approved.status == "queued" and approved.approved_sha256 == text_sha256(approved.text)
    with db.write.begin() as s:
        edited = replies.edit(s, rules, reply_id, "agent.cs", "Sorry, we are looking into it right now.")
        assert edited.status == "pending" and edited.approved_by is None and edited.approved_sha256 is None
        with pytest.raises(ReplyError, match="reason"):
            replies.reject(s, reply_id, "compliance2", " ")
        rejected = replies.reject(s, reply_id, "compliance2", "say when we will call")
        assert rejected.status == "rejected"
        again = replies.edit(s, rules, reply_id, "agent.cs", "Sorry, we will call you within the hour.")
        assert again.status == "pending"
    actions = [e.action for e in _events(db, f"reply:{reply_id}")]
    assert actions == ["reply.compose", "reply.edit", "reply.approve", "reply.edit", "reply.reject", "reply.edit"]
    with db.read() as s:
        assert list(verify_chains(s)) == []  # reply events do not break the items' chains


def test_waiting_replies_expire_and_can_be_submitted_again(db: Database, settings: Settings, item: int) -> None:
    rules = _rules(settings)
    with db.write.begin() as s:
        reply_id = replies.compose(s, rules, "agent.cs", _target(db, item), "We will look into it.").id
    with db.write.begin() as s:
        assert replies.expire_waiting(s, 24, utcnow() + timedelta(hours=23)) == []
        assert replies.expire_waiting(s, 24, utcnow() + timedelta(hours=25)) == [reply_id]
        with pytest.raises(ReplyError, match="only a waiting reply"):
            replies.approve(s, reply_id, "compliance")
    with db.write.begin() as s:
        assert replies.edit(s, rules, reply_id, "agent.cs", "We will look into it today.").status == "pending"
    assert [e.action for e in _events(db, f"reply:{reply_id}")][-2:] == ["reply.expire", "reply.edit"]


def test_the_sender_claims_once_and_never_sends_an_unapproved_text(db: Database, settings: Settings,
                                                                    item: int) -> None:
    rules = _rules(settings)
    with db.write.begin() as s:
        reply_id = replies.compose(s, rules, "agent.cs", _target(db, item), "We will look into it.").id
        replies.approve(s, reply_id, "compliance")
    with db.write.begin() as s:
        assert outbox.claim(s, reply_id, "w1") is not None
    with db.write.begin() as s:
        assert outbox.claim(s, reply_id, "w2") is None  # taken
        sent = outbox.record_sent(s, reply_id, "109", "https://example.social/@aurelia/109")
        assert sent is not None and sent.sent_sha256 == sent.approved_sha256 == sent.text_sha256
    # a text changed around the models layer after approval is refused by the sender
    with db.write.begin() as s:
        other = replies.compose(s, rules, "agent.cs", _target(db, item), "Another answer.").id
        replies.approve(s, other, "compliance")
        s.execute(update(Reply).where(Reply.id == other).values(text="Another answer, guaranteed!"))
    with db.write.begin() as s:
        refused_claim = outbox.claim(s, other, "w1")
        assert refused_claim is not None and refused_claim.status == "failed"
    with db.read() as s:
        refused = s.get(Reply, other)
        assert refused is not None and refused.status == "failed"
        assert "not the text approved" in (refused.last_error or "")


def test_answered_elsewhere_is_recorded(db: Database, settings: Settings, item: int) -> None:
    target = replace(_target(db, item), source_name=None)
    with db.write.begin() as s:
        with pytest.raises(ReplyError, match="http"):
            replies.answered_elsewhere(s, "agent.cs", target, "javascript:alert(1)", "called back")
        done = replies.answered_elsewhere(s, "agent.cs", target, "https://example.com/thread/1", "called back")
        assert done.status == "elsewhere" and done.platform_url == "https://example.com/thread/1"
    assert [e.action for e in _events(db, f"reply:{done.id}")] == ["reply.elsewhere"]


def test_compliance_channels_hear_of_a_reply_waiting(db: Database, settings: Settings, item: int) -> None:
    from config.notifications import NotificationChannel
    from config.sources import Secret
    from models.tables import Notification

    channels = (NotificationChannel("compliance-mail", Secret("json://127.0.0.1:9/none"), frozenset({"approval"})),
                NotificationChannel("cs-only", Secret("json://127.0.0.1:9/none"), frozenset({"critical"})))
    rules = replies.compile_rules(replace(settings, notifications=channels))
    version_id = _template(db)
    with db.write.begin() as s:
        replies.compose(s, rules, "agent.cs", _target(db, item), None, version_id,
                        {"first_name": "Ana", "case_ref": "AUR-1"})  # goes at once: nobody to tell
        waiting = replies.compose(s, rules, "agent.cs", _target(db, item), "Free text <b>bold</b>, sorry.")
    with db.read() as s:
        rows = s.scalars(select(Notification).where(Notification.event == "approval")).all()
    assert [(r.channel, r.queue_item_id) for r in rows] == [("compliance-mail", item)]
    assert "waits for approval" in rows[0].title and "/approvals" in rows[0].body
    assert "Free text <b>bold</b>, sorry." in rows[0].body  # plain text: channels escape it themselves
    assert waiting.status == "pending"


def test_review_findings_hold(db: Database, settings: Settings, item: int) -> None:
    """Each of these was a way around the rules found in review; each is refused now."""
    rules = _rules(settings)
    version_id = _template(db)
    target = _target(db, item)
    key = "ab" * 16
    with db.write.begin() as s:
        # Send pressed twice: the form's key stores one reply only.
        first = replies.compose(s, rules, "agent.cs", target, "We are on it.", key=key)
        with pytest.raises(ReplyError, match="stored already"):
            replies.compose(s, rules, "agent.cs", target, "We are on it.", key=key)
        # An approver approves the text shown, not one edited since.
        with pytest.raises(ReplyError, match="changed since"):
            replies.approve(s, first.id, "compliance", expected_sha256=text_sha256("something else"))
        assert replies.approve(s, first.id, "compliance", expected_sha256=first.text_sha256).status == "queued"
        # A placeholder value holding a link or many words is free text under an approved template.
        linked = replies.compose(s, rules, "agent.cs", target, None, version_id,
                                 {"first_name": "Ana, unblock it at aurelia-refunds.example", "case_ref": "AUR-1"})
        assert linked.status == "pending"
        plain_values = replies.compose(s, rules, "agent.cs", target, None, version_id,
                                       {"first_name": "Ana", "case_ref": "AUR-204518"})
        assert plain_values.status == "queued"
    # A reply already sent to the network once (outcome unclear) is neither edited nor cancelled.
    with db.write.begin() as s:
        claimed = outbox.claim(s, first.id, "w1")
        assert claimed is not None and claimed.status == "sending"
        outbox.record_retry(s, first.id, utcnow(), "timed out", check_first=True, fence=("w1", 1))
        with pytest.raises(ReplyError, match="already sent to the network once"):
            replies.edit(s, rules, first.id, "agent.cs", "We are on it, sorry.")
        with pytest.raises(ReplyError, match="may be posted already"):
            replies.cancel(s, first.id, "agent.cs")
    # An outcome arriving after its claim was settled and claimed again changes nothing.
    with db.write.begin() as s:
        assert outbox.claim(s, first.id, "w2") is not None
        assert outbox.record_sent(s, first.id, "late-1", None, fence=("w1", 2)) is None
        assert outbox.record_sent(s, first.id, "p-2", None, fence=("w2", 2)) is not None
    # A template retired before its reply went out sends the reply back to review.
    with db.write.begin() as s:
        version = s.get(TemplateVersion, version_id)
        assert version is not None
        library.retire(s, "lib.compliance", version.template_id, "wording withdrawn")
        back = outbox.claim(s, plain_values.id, "w1")
        assert back is not None and back.status == "pending" and back.needs_approval
    # Every edit keeps the text it replaced in the record.
    with db.write.begin() as s:
        edited = replies.compose(s, rules, "agent.cs", target, "First wording.")
        replies.edit(s, rules, edited.id, "agent.cs", "Second wording.")
    events = _events(db, f"reply:{edited.id}")
    assert [e.after["text"] for e in events] == ["First wording.", "Second wording."]
    assert events[1].before["text"] == "First wording."


def test_a_reply_about_a_competitor_speaks_for_the_firm(db: Database, settings: Settings, item: int) -> None:
    """The disclosure and the policy follow the firm's brand the reply speaks for, not whatever
    brand the mention (or a browser) names."""
    disclosure = settings.outbound.disclosure("Aurelia Bank", "x")
    assert disclosure
    for brand in ("Northwind Bank", None, "<script>alert(1)</script>"):
        target = replace(_target(db, item), network="x", brand=brand)
        with db.write.begin() as s:
            reply = replies.compose(s, _rules(settings), "agent.cs", target, "We can help you switch.")
            assert reply.text.endswith(disclosure) and reply.brand == "Aurelia Bank"
