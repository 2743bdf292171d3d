"""The demo's desk (the collector's ``demo:desk`` job): one simulated agent per team working the
queues, in `vigie demo` only (never in `vigie collect`; `vigie demo --no-desk` turns it off).

Without it nobody claims or resolves anything in a demo until someone signs in, so the wall's
first responses, the queues' claimed items and the daily summary's SLA figures stay empty.
Every 10 s (its line in `collectors.jobs.JOBS`) each team's desk agent (``desk.<team>``, an account without a password:
nobody can sign in as it) first closes the items it has held long enough, then claims the most
urgent new items of its team (critical first, then the earliest due) until it holds
``CAPACITY``. An item is held ``HOLD_MINUTES`` (1 to 6 minutes, chosen from its id); about one in
six is dismissed as needing no action, the others are resolved. Items someone else claimed are
never touched. Every step goes through ``models.actions`` in its own short transaction, so it is
audited under the desk agent's name like anyone's, and an item a person took meanwhile is
simply skipped.

Before resolving, the desk answers like an agent would: the library template fitting the item's
risk flags, in its language (`template_for`, `models.library.suggest`), its placeholders filled
(`values_for`: the author's first name, a case reference ``AUR-<6 digits>`` fixed by the id),
composed through `models.replies.compose` under the desk agent's name. About one answered item
in ``FREE_FORM_ONE_IN`` gets a free-form reply instead, which waits for compliance on /approvals
(the legal team's policy makes every one of its replies wait). The desk never approves anything.
An item whose reply waits stays claimed, as a real agent keeps a case until the customer has the
answer: it is resolved once compliance decided (approved: the answer is out or on its way;
rejected or expired: closed with a note saying so). Waiting items do not count against
``CAPACITY`` (the agent works on meanwhile), but an agent with ``WAITING_MAX`` replies waiting
answers nothing that would wait more, and closes those items without a public reply.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.replies import answerable
from config.settings import Settings
from models import actions, replies
from models.db import Database
from models.library import Usable, suggest, usable
from models.reply_tables import Reply
from models.tables import Mention, QueueItem, User, utcnow
from models.users import add_user, get_user

log = logging.getLogger("vigie.collect")

CAPACITY = 4  # items one desk agent holds at once
HOLD_MINUTES = (1.0, 6.0)
DISMISS_ONE_IN = 6
RESOLVE_NOTE = "demo desk: answered the customer"
DISMISS_REASON = "demo desk: no action needed"
UNANSWERED_NOTE = "demo desk: handled without a public reply"
NOT_APPROVED_NOTE = "demo desk: the reply was not approved; the customer was contacted privately"
FREE_FORM_ONE_IN = 12
WAITING_MAX = 3  # replies of one desk agent waiting for compliance at once
# items one agent may be found holding: the demo's history leaves a desk agent with its last
# minutes' items (up to a few hundred), all of which count, so the read must see them all
HELD_MAX = 2000
STATUS_URL = "https://status.aurelia-bank.example"
FREE_FORM = {
    "en": "Hi {first_name}, thanks for your patience. A colleague is looking into this with you under "
          "reference {case_ref}; please send us a private message with the details.",
    "fr": "Bonjour {first_name}, merci de votre patience. Un collègue suit votre demande sous la référence "
          "{case_ref} ; envoyez-nous les détails en message privé.",
}
# risk flag -> library key, the first flag of this order found on the item wins
FLAG_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("phishing", "phishing-warning"), ("fraud", "fraud-report"), ("data_breach", "fraud-report"),
    ("regulator", "complaint-acknowledged"), ("legal_threat", "complaint-acknowledged"),
    ("outage", "app-outage"), ("card_issue", "blocked-card"), ("account_access", "account-locked"),
    ("fees", "fees-question"), ("product_question", "product-info"), ("sales_lead", "product-info"),
)
ABROAD = ("abroad", "overseas", "foreign", "étranger", "etranger")


def desk_agent(team: str) -> str:
    return f"desk.{team.replace('_', '-')}"


def _draw(item_id: int, what: str) -> int:
    """A number from 0 to 2**32 - 1 fixed by the item and the question (the same on every run)."""
    return int.from_bytes(hashlib.blake2b(f"{what}:{item_id}".encode(), digest_size=4).digest(), "big")


def hold_for(item_id: int) -> timedelta:
    """How long the desk keeps ``item_id`` before closing it: spread over HOLD_MINUTES by the id (pure)."""
    low, high = HOLD_MINUTES
    return timedelta(minutes=low + (high - low) * _draw(item_id, "hold") / 0xFFFFFFFF)


def closes_as(item_id: int) -> str:
    """``dismiss`` for about one item in DISMISS_ONE_IN, ``resolve`` for the others (pure)."""
    return "dismiss" if _draw(item_id, "close") % DISMISS_ONE_IN == 0 else "resolve"


def due_to_close(held: list[tuple[int, datetime]], now: datetime) -> list[int]:
    """Of (item id, claimed at), the items held long enough, oldest claim first (pure)."""
    return [i for i, at in sorted(held, key=lambda h: (h[1], h[0])) if now - at >= hold_for(i)]


def template_key(flags: list[str] | tuple[str, ...], sentiment: str, competitor: bool, text: str) -> str | None:
    """The library key answering an item (pure): its risk flags first, then its mood; None when
    a bank would not answer in public (competitor chatter)."""
    if competitor:
        return None
    for flag, key in FLAG_TEMPLATES:
        if flag in flags:
            if key == "blocked-card" and any(word in text.casefold() for word in ABROAD):
                return "card-declined-abroad"
            return key
    return "thanks-praise" if sentiment == "positive" else "contact-privately"


def case_ref(item_id: int) -> str:
    return f"AUR-{_draw(item_id, 'case') % 1_000_000:06d}"


def first_name(author_name: str | None, handle: str | None) -> str:
    """The first word of the author's name (letters, '-', apostrophes), else the handle."""
    words = (author_name or "").split()
    if words and all(c.isalpha() or c in "-'’" for c in words[0]):
        return words[0][:30]
    return (handle or "").lstrip("@")[:30] or "there"


def values_for(item_id: int, mention: Mention) -> dict[str, str]:
    return {"first_name": first_name(mention.author_name, mention.author_handle), "case_ref": case_ref(item_id)}


def free_form(item_id: int) -> bool:
    """About one answered item in FREE_FORM_ONE_IN gets a free-form reply (pure)."""
    return _draw(item_id, "free") % FREE_FORM_ONE_IN == 0


def reply_source(settings: Settings, source_name: str) -> str | None:
    """The source a reply to this source's mention goes out through, None when it cannot be
    answered through Vigie (`collectors.replies.answerable`: the demo network accepts replies)."""
    config = next((s for s in settings.sources if s.name == source_name), None)
    return source_name if config is not None and answerable(config) else None


def template_for(options: list[Usable], item: QueueItem, mention: Mention) -> Usable | None:
    key = template_key(list(mention.risk_flags or ()), mention.sentiment_label, mention.is_competitor, mention.text)
    if key is None:
        return None
    fitting = [u for u in suggest(options, item.team, mention.language, mention.network) if u.key == key]
    return fitting[0] if fitting else None


def answer(session: Session, rules: replies.Rules, settings: Settings, options: list[Usable], item_id: int,
           agent: str, now: datetime | None = None, may_wait: bool = True) -> Reply | None:
    """Compose the desk's reply to the item (a template, or now and then free text), None when it
    does not answer it in public. ``may_wait`` False: nothing that would wait for compliance."""
    item = session.get(QueueItem, item_id)
    mention = session.get(Mention, item.mention_id) if item is not None else None
    if item is None or mention is None or mention.network == "news":
        return None  # (a news article is not answered under it)
    source = reply_source(settings, mention.source.name)
    template = template_for(options, item, mention)
    if source is None or template is None:
        return None
    target = replies.Target("reply", mention.network, source, item.team, mention.brand, template.language,
                            item.id, mention.id)
    values = values_for(item.id, mention)
    if free_form(item.id) and may_wait:
        text = FREE_FORM.get(template.language, FREE_FORM["en"]).format_map(values)
        try:
            return replies.compose(session, rules, agent, target, text, now=now)
        except replies.ReplyError:
            pass  # (too long for the network, say): the template then
    if not may_wait and replies.check(session, rules, target, None, template.version_id, values, now).needs_approval:
        return None
    try:
        return replies.compose(session, rules, agent, target, None, template.version_id, values, now=now)
    except replies.ReplyError:
        return None


@dataclass
class DeskReport:
    claimed: int = 0
    resolved: int = 0
    dismissed: int = 0
    answered: int = 0  # replies composed (queued, or waiting for compliance)
    waiting: int = 0  # of which waiting for compliance
    skipped: int = 0  # taken or closed by someone else between our read and our action
    errors: list[str] = field(default_factory=list)


def log_line(report: DeskReport) -> str | None:
    """The collector's log line about a round, None when the desk did nothing."""
    if not (report.claimed or report.resolved or report.dismissed):
        return None
    return (f"demo desk: {report.claimed} claimed, {report.answered} answered ({report.waiting} waiting for "
            f"compliance), {report.resolved} resolved, {report.dismissed} dismissed")


@dataclass(frozen=True)
class Held:
    item_id: int
    claimed_at: datetime
    replies: frozenset[str]  # the states of the item's replies (none yet: empty)

    @property
    def waiting(self) -> bool:
        return "pending" in self.replies


def _held(db: Database, agent: str) -> list[Held]:
    with db.read() as s:
        rows = s.execute(select(QueueItem.id, QueueItem.claimed_at)
                         .where(QueueItem.status == "claimed", QueueItem.assignee == agent)
                         .order_by(QueueItem.id).limit(HELD_MAX)).all()
        ids = [int(i) for i, _at in rows]
        states: dict[int, set[str]] = {}
        for item_id, status in s.execute(select(Reply.queue_item_id, Reply.status)
                                         .where(Reply.queue_item_id.in_(ids)).limit(len(ids) * 10)).all():
            if item_id is not None:
                states.setdefault(int(item_id), set()).add(status)
    return [Held(int(i), at, frozenset(states.get(int(i), ()))) for i, at in rows if at is not None]


def _most_urgent(db: Database, team: str, limit: int) -> list[int]:
    with db.read() as s:
        return [int(i) for i in s.scalars(
            select(QueueItem.id).where(QueueItem.status == "new", QueueItem.team == team)
            .order_by(QueueItem.priority_rank, QueueItem.due_at, QueueItem.id).limit(limit))]


@dataclass
class Answering:
    """What answering needs, read once per round: the rules and the usable templates."""

    settings: Settings
    rules: replies.Rules
    options: list[Usable]
    may_wait: bool = True


def _close(s: Session, report: DeskReport, what: str, item_id: int, agent: str, answering: Answering | None,
           replied: frozenset[str]) -> None:
    if what == "dismiss" and not replied:
        actions.dismiss(s, item_id, agent, DISMISS_REASON)
        report.dismissed += 1
        return
    if not replied and answering is not None:
        reply = answer(s, answering.rules, answering.settings, answering.options, item_id, agent,
                       may_wait=answering.may_wait)
        if reply is not None:
            report.answered += 1
            if reply.status == "pending":  # kept until compliance decides
                report.waiting += 1
                return
    note = NOT_APPROVED_NOTE if replied and replied <= {"rejected", "expired", "cancelled"} else RESOLVE_NOTE
    actions.resolve(s, item_id, agent, note)
    report.resolved += 1


def _act(db: Database, report: DeskReport, what: str, item_id: int, agent: str,
         answering: Answering | None = None, replied: frozenset[str] = frozenset()) -> None:
    try:
        with db.write.begin() as s:
            if what == "claim":
                actions.claim(s, item_id, agent)
                report.claimed += 1
                return
            item = s.get(QueueItem, item_id, populate_existing=True, with_for_update=True)
            if item is None or (item.status, item.assignee) != ("claimed", agent):
                report.skipped += 1  # reassigned or closed since we read it: no longer ours to close
                return
            _close(s, report, what, item_id, agent, answering, replied)
    except (actions.ActionError, replies.ReplyError):
        report.skipped += 1


def ensure_desk_accounts(session: Session, settings: Settings) -> list[str]:
    """The desk agents' accounts, one per team, made when missing (an agent of that team, no
    password: nobody signs in as them); their names."""
    for team in settings.team_keys:
        if get_user(session, desk_agent(team)) is None:
            add_user(session, desk_agent(team), "agent", [team], None, settings.team_keys, actor="demo")
    return [desk_agent(t) for t in settings.team_keys]


def active_desk_agents(db: Database, settings: Settings) -> dict[str, str]:
    """team -> desk agent, for the teams whose desk account exists and is active."""
    wanted = {desk_agent(t): t for t in settings.team_keys}
    with db.read() as s:
        names = s.scalars(select(User.name).where(User.name.in_(list(wanted)), User.active.is_(True))).all()
    return {wanted[n]: n for n in names}


_RULES: dict[int, tuple[Settings, replies.Rules]] = {}


def _rules(settings: Settings) -> replies.Rules:
    """The compiled rules of these settings, built once per process (the screening lexicon)."""
    kept = _RULES.get(id(settings))
    if kept is None or kept[0] is not settings:
        kept = _RULES[id(settings)] = (settings, replies.compile_rules(settings))
    return kept[1]


def run_demo_desk(db: Database, settings: Settings, now: datetime | None = None,
                  stop: threading.Event | None = None) -> DeskReport:
    """One round of every team's desk agent, ended between two actions once ``stop`` is set (the
    demo shutting down). Never raises for one team's failure: the others go on."""
    report = DeskReport()
    stopping = stop.is_set if stop is not None else lambda: False
    now = now or utcnow()
    with db.read() as s:
        options = usable(s, now)
    rules = _rules(settings)
    for team, agent in sorted(active_desk_agents(db, settings).items()):
        try:
            held = _held(db, agent)
            waiting = [h for h in held if h.waiting]
            answering = Answering(settings, rules, options, may_wait=len(waiting) < WAITING_MAX)
            decided = [h for h in held if h.replies and not h.waiting]  # compliance decided: close now
            closing = [h for h in held if not h.replies and h.item_id in set(due_to_close(
                [(x.item_id, x.claimed_at) for x in held if not x.replies], now))]
            waiting_now = len(waiting)
            for h in decided + closing:
                if stopping():
                    return report
                before = report.waiting
                _act(db, report, "resolve" if h.replies else closes_as(h.item_id), h.item_id, agent, answering,
                     h.replies)
                waiting_now += report.waiting - before
                answering.may_wait = waiting_now < WAITING_MAX
            held = _held(db, agent)
            free = CAPACITY - sum(1 for h in held if not h.waiting)
            for item_id in _most_urgent(db, team, max(0, free)):
                if stopping():
                    return report
                _act(db, report, "claim", item_id, agent)
        except Exception as exc:  # the database refused (locked, gone): next round tries again
            report.errors.append(f"{team}: {exc}")
            log.warning("demo desk %s failed: %s", agent, exc)
    return report
