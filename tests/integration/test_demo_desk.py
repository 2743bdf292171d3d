"""The demo's simulated agents (`vigie demo`): they claim the most urgent items of their own team,
close them after their hold time through the audited actions, and never touch anyone else's."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from collectors.jobs.demo_desk import (
    CAPACITY,
    DISMISS_REASON,
    RESOLVE_NOTE,
    WAITING_MAX,
    DeskReport,
    _act,
    case_ref,
    closes_as,
    desk_agent,
    ensure_desk_accounts,
    free_form,
    run_demo_desk,
    template_key,
)
from config.settings import Settings
from models import actions, replies
from models.db import Database
from models.library_file import seed_demo_library
from models.reply_tables import Reply, Template, TemplateVersion
from models.tables import AuditEvent, Mention, QueueItem, User, utcnow
from models.users import add_user, set_active
from tests.streams import inject
from vigie.cli_users import seed_demo

TEXTS = (
    "@AureliaBank my card got declined again at the store",
    "Aurelia Bank app down again, can't log in, on hold 40 min",
    "Aurelia Bank charged me an overdraft fee twice this month",
    "Got a fake text pretending to be @AureliaBank asking for my password, phishing",
    "I'm going to sue Aurelia Bank, my lawyer is filing a complaint with the CFPB",
    "Does Aurelia Bank offer a savings account for kids?",
    "Love the new Aurelia Bank app design, great job",
    "Aurelia Bank locked my account for no reason, nobody answers",
)


def _seed(db: Database, settings: Settings, copies: int = 3) -> None:
    texts = [f"{text} #{n}" for n, text in enumerate(TEXTS * copies)]
    inject(db, settings, texts, utcnow() - timedelta(hours=1), 3000, prefix="desk")


def _desks(db: Database, settings: Settings) -> None:
    with db.write.begin() as s:
        ensure_desk_accounts(s, settings)


def _items(db: Database) -> list[QueueItem]:
    with db.read() as s:
        return list(s.scalars(select(QueueItem).order_by(QueueItem.id)))


def _urgent_first(items: list[QueueItem], team: str) -> list[int]:
    return [i.id for i in sorted((i for i in items if i.team == team and i.status == "new"),
                                 key=lambda i: (i.priority_rank, i.due_at, i.id))]


def test_each_desk_claims_the_most_urgent_new_items_of_its_own_team(db: Database, settings: Settings) -> None:
    _seed(db, settings)
    with db.write.begin() as s:  # a person's claim: the desk never touches it
        human = s.scalars(select(QueueItem.id).where(QueueItem.team == "customer_service")
                          .order_by(QueueItem.priority_rank, QueueItem.due_at).limit(1)).one()
        actions.claim(s, human, "agent.cs")
    _desks(db, settings)
    before = _items(db)
    expected = {team: _urgent_first(before, team)[:CAPACITY] for team in settings.team_keys}
    assert sum(len(v) for v in expected.values()) > CAPACITY  # items in more than one team

    report = run_demo_desk(db, settings)

    after = {i.id: i for i in _items(db)}
    for team, ids in expected.items():
        held = sorted(i.id for i in after.values() if i.assignee == desk_agent(team))
        assert held == sorted(ids), team
        assert all(after[i].status == "claimed" and after[i].team == team and after[i].claimed_at for i in ids)
    assert (after[human].status, after[human].assignee) == ("claimed", "agent.cs")
    assert report.claimed == sum(len(v) for v in expected.values())
    assert (report.resolved, report.dismissed, report.errors) == (0, 0, [])
    with db.read() as s:
        claims = s.execute(select(AuditEvent.actor, AuditEvent.queue_item_id).where(AuditEvent.action == "claim")).all()
    assert sorted(claims) == sorted([("agent.cs", human)] + [(desk_agent(t), i) for t, ids in expected.items()
                                                             for i in ids])

    again = run_demo_desk(db, settings)  # at capacity, nothing held long enough: nothing to do
    assert (again.claimed, again.resolved, again.dismissed) == (0, 0, 0)


def test_held_items_are_closed_after_their_hold_time_audited_then_the_next_are_claimed(
    db: Database, settings: Settings
) -> None:
    _seed(db, settings, copies=4)
    _desks(db, settings)
    run_demo_desk(db, settings)
    first = {i.id: i for i in _items(db) if i.assignee and i.assignee.startswith("desk.")}
    waiting = {t: _urgent_first(_items(db), t)[:CAPACITY] for t in settings.team_keys}

    report = run_demo_desk(db, settings, now=utcnow() + timedelta(minutes=7))  # every hold (1-6 min) is over

    after = {i.id: i for i in _items(db)}
    for item_id, held in first.items():
        want = "dismissed" if closes_as(item_id) == "dismiss" else "resolved"
        assert (after[item_id].status, after[item_id].assignee) == (want, held.assignee)
    assert report.resolved + report.dismissed == len(first)
    assert report.resolved == sum(1 for i in first if closes_as(i) == "resolve")
    for team, ids in waiting.items():  # the freed places go to the next most urgent
        assert sorted(i.id for i in after.values() if i.assignee == desk_agent(team) and i.status == "claimed") \
            == sorted(ids)
    with db.read() as s:
        closings = s.execute(select(AuditEvent.queue_item_id, AuditEvent.actor, AuditEvent.action, AuditEvent.reason)
                             .where(AuditEvent.action.in_(("resolve", "dismiss")))).all()
    assert sorted(closings) == sorted(
        (i, held.assignee, closes_as(i), DISMISS_REASON if closes_as(i) == "dismiss" else RESOLVE_NOTE)
        for i, held in first.items())


def test_an_item_taken_meanwhile_is_skipped_and_a_disabled_desk_does_nothing(db: Database, settings: Settings) -> None:
    _seed(db, settings)
    _desks(db, settings)
    run_demo_desk(db, settings)
    agent = desk_agent("customer_service")
    with db.write.begin() as s:  # a lead resolved one of the desk's items meanwhile, another was released
        taken, released = s.scalars(select(QueueItem.id).where(QueueItem.assignee == agent).order_by(QueueItem.id)
                                    .limit(2)).all()
        actions.resolve(s, taken, "lead.cs", "answered by phone")
        actions.release(s, released, agent)
        set_active(s, desk_agent("legal"), False, actor="test")
        legal_held = s.scalars(select(QueueItem.id).where(QueueItem.assignee == desk_agent("legal"))).all()
        legal_new = s.scalar(select(QueueItem.id).where(QueueItem.team == "legal", QueueItem.status == "new")
                             .limit(1))
    run_demo_desk(db, settings, now=utcnow() + timedelta(minutes=7))
    after = {i.id: i for i in _items(db)}
    assert (after[taken].status, after[taken].assignee) == ("resolved", agent)  # resolved by the lead, kept
    with db.read() as s:
        by_desk = s.scalars(select(AuditEvent.action).where(AuditEvent.queue_item_id == taken,
                                                            AuditEvent.actor == agent)).all()
    assert by_desk == ["claim"]  # the desk did not close what the lead closed
    assert legal_new is not None and after[legal_new].status == "new"  # the disabled desk claimed nothing
    assert legal_held and all(after[i].status == "claimed" for i in legal_held)  # nor closed what it held


def test_an_item_reassigned_between_the_desks_read_and_its_action_is_left_alone(
    db: Database, settings: Settings
) -> None:
    _seed(db, settings)
    _desks(db, settings)
    run_demo_desk(db, settings)
    agent = desk_agent("customer_service")
    with db.write.begin() as s:
        add_user(s, "agent.cs", "agent", ["customer_service"], None, settings.team_keys, actor="test")
        item_id = s.scalars(select(QueueItem.id).where(QueueItem.assignee == agent).limit(1)).one()
        actions.assign(s, item_id, "lead.cs", "agent.cs")  # after the desk read its held items
    report = DeskReport()
    for what in ("resolve", "dismiss"):
        _act(db, report, what, item_id, agent)
    assert (report.resolved, report.dismissed, report.skipped) == (0, 0, 2)
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None and (item.status, item.assignee) == ("claimed", "agent.cs")


def test_a_round_stops_between_two_actions_once_the_demo_is_stopping(db: Database, settings: Settings) -> None:
    _seed(db, settings)
    _desks(db, settings)
    stop = threading.Event()
    stop.set()
    assert run_demo_desk(db, settings, stop=stop).claimed == 0
    assert run_demo_desk(db, settings, stop=threading.Event()).claimed > 0


def test_seed_demo_makes_one_desk_account_per_team_that_cannot_sign_in(db: Database, settings: Settings) -> None:
    lines = seed_demo(settings, db, desk=True)
    assert any("desk." in line for line in lines)
    seed_demo(settings, db, desk=True)  # a second start: the accounts are kept, not made again
    with db.read() as s:
        desks = s.execute(select(User.name, User.role, User.teams, User.password_hash)
                          .where(User.name.like("desk.%")).order_by(User.name)).all()
    assert [(n, r, t, h) for n, r, t, h in desks] == sorted(
        (desk_agent(t), "agent", [t], None) for t in settings.team_keys)
    with db.read() as s:
        assert s.scalar(select(User.id).where(User.name == "agent.cs")) is not None
    with db.write.begin() as s:  # the desk is off (vigie demo --no-desk): no new accounts
        s.execute(update(User).where(User.name.like("desk.%")).values(active=False))
    assert not any("desk." in line for line in seed_demo(settings, db, desk=False))


# --- the desk answers from the library ----------------------------------------------------------

FR_TEXTS = (
    "Banque Aurelia a bloqué ma carte, carte refusée au supermarché",
    "L'appli Banque Aurelia est en panne, impossible de me connecter",
    "Banque Aurelia m'a prélevé des frais de tenue de compte abusifs",
)


def _library(db: Database, settings: Settings) -> None:
    with db.write.begin() as s:
        assert seed_demo_library(s, settings.team_keys) > 0


def _work(db: Database, settings: Settings, rounds: int = 8) -> None:
    """Rounds of the desk, each 7 minutes after the last (every hold is over)."""
    for n in range(rounds):
        run_demo_desk(db, settings, now=utcnow() + timedelta(minutes=7 * n))


def _replies(db: Database) -> list[tuple[Reply, Mention, QueueItem]]:
    with db.read() as s:
        return [(r, m, i) for r, m, i in s.execute(
            select(Reply, Mention, QueueItem).join(Mention, Mention.id == Reply.mention_id)
            .join(QueueItem, QueueItem.id == Reply.queue_item_id).order_by(Reply.id)).all()]


def test_the_desk_answers_from_the_library_in_the_items_language_then_resolves(
    db: Database, settings: Settings
) -> None:
    texts = [f"{text} #{n}" for n, text in enumerate((TEXTS + FR_TEXTS) * 3)]
    inject(db, settings, texts, utcnow() - timedelta(hours=1), 3000, prefix="answer")
    _desks(db, settings)
    _library(db, settings)
    _work(db, settings)
    found = _replies(db)
    with db.read() as s:
        templates = {v.id: (t.key, t.language) for v, t in s.execute(
            select(TemplateVersion, Template).join(Template, Template.id == TemplateVersion.template_id)).all()}
    from_library = [(r, m, i) for r, m, i in found if r.template_version_id is not None]
    assert len(from_library) >= 10
    languages = set()
    for reply, mention, item in from_library:
        key, language = templates[reply.template_version_id]  # type: ignore[index]
        assert language == mention.language == reply.language
        languages.add(language)
        assert key == template_key(mention.risk_flags, mention.sentiment_label, mention.is_competitor, mention.text)
        assert reply.author == desk_agent(item.team) and reply.source_name == "demo"
        assert case_ref(item.id) in reply.text or "{{case_ref}}" not in reply.text
        assert "{{" not in reply.text and reply.values["case_ref"] == case_ref(item.id)
        if reply.status == "queued":  # went out at once (template_only): the item is resolved
            assert (item.status, item.assignee) == ("resolved", reply.author)
    assert languages == {"en", "fr"}
    assert {"blocked-card", "app-outage", "fees-question"} <= {templates[r.template_version_id or 0][0]
                                                              for r, _m, _i in from_library}


def test_a_free_form_reply_waits_for_compliance_the_item_stays_claimed_and_the_desk_never_approves(
    db: Database, settings: Settings
) -> None:
    texts = [f"{text} #{n}" for n, text in enumerate(TEXTS * 10)]
    inject(db, settings, texts, utcnow() - timedelta(hours=1), 3000, prefix="free")
    _desks(db, settings)
    _library(db, settings)
    _work(db, settings, rounds=12)
    found = _replies(db)
    free = [(r, i) for r, _m, i in found if r.template_version_id is None]
    assert free, "no free-form reply written"
    for reply, item in free:
        assert free_form(item.id)
        assert (reply.status, reply.needs_approval, reply.approved_by) == ("pending", True, None)
        assert (item.status, item.assignee) == ("claimed", reply.author)  # kept until compliance decides
    legal = [(r, i) for r, _m, i in found if i.team == "legal"]
    assert legal and all(r.status == "pending" for r, _i in legal)  # legal's policy: every reply waits
    waiting_by: dict[str, int] = {}
    for reply, _m, _i in found:
        if reply.status == "pending":
            waiting_by[reply.author] = waiting_by.get(reply.author, 0) + 1
    assert max(waiting_by.values()) <= WAITING_MAX
    with db.read() as s:
        decisions = s.execute(select(AuditEvent.actor).where(AuditEvent.action.in_(
            ("reply.approve", "reply.reject", "template.approve")), AuditEvent.actor.like("desk.%"))).all()
    assert decisions == []

    reply, item = free[0]
    with db.write.begin() as s:  # compliance approves: the desk's next round resolves the item
        replies.approve(s, reply.id, "compliance")
    run_demo_desk(db, settings)
    with db.read() as s:
        after = s.get(QueueItem, item.id)
        assert after is not None and (after.status, after.assignee) == ("resolved", reply.author)


def test_a_desk_holding_many_items_after_the_history_claims_no_more(db: Database, settings: Settings) -> None:
    _seed(db, settings, copies=12)
    _desks(db, settings)
    agent = desk_agent("customer_service")
    rules = replies.compile_rules(settings)
    with db.write.begin() as s:  # as the demo's history leaves it: replies waiting, then items being handled
        ids = s.scalars(select(QueueItem.id).where(QueueItem.team == "customer_service", QueueItem.status == "new")
                        .order_by(QueueItem.id).limit(36)).all()
        for n, item_id in enumerate(ids):
            actions.claim(s, item_id, agent)
            if n < 30:
                item = s.get(QueueItem, item_id)
                assert item is not None
                replies.compose(s, rules, agent, replies.Target("reply", "x", "demo", "customer_service", None, "en",
                                                                item_id, item.mention_id), "Free text: we look into it")
    assert len(ids) == 36 and 30 > CAPACITY * 4 + WAITING_MAX * 4  # more waiting than one read used to see
    report = run_demo_desk(db, settings)  # 6 held without a reply, none held long enough: no claim
    with db.read() as s:
        held = s.scalar(select(func.count()).select_from(QueueItem).where(QueueItem.assignee == agent))
    assert (held, report.resolved) == (36, 0)  # (the other teams' desks claim their own)
