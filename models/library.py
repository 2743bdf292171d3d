"""The pre-approved library: reply and post templates, in versions, approved by compliance.

A template is one message in one language (``blocked-card`` in English and in French are two
templates sharing a key). Its content lives in versions that are never edited: drafting,
editing and retiring each add a version. A draft is approved or rejected by someone other than
its author (four eyes); the template's usable version is its newest approved one, if it is not
past its expiry and no retirement came after it. Every change writes an audit event whose
subject is ``template:<id>``, with the version's state before and after.

Functions take the session first and never commit; who may call them (compliance approves,
leads and compliance draft) is the dashboard's decision, what the data forbids is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from i18n import N_, _
from models.audit_log import record_event
from models.compose import placeholders, text_sha256
from models.reply_tables import Template, TemplateVersion
from models.tables import utcnow

KINDS = ("reply", "post")
LANGUAGES = ("en", "fr")
VERSION_STATUSES = {"draft": N_("draft"), "approved": N_("approved"), "rejected": N_("rejected"),
                    "retired": N_("retired")}


def version_status(status: str) -> str:
    """A template version's state in the reader's language."""
    return _(VERSION_STATUSES[status]) if status in VERSION_STATUSES else status
MAX_BODY = 5000
KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")


class LibraryError(Exception):
    """The library change cannot be made (the author approving, a version already decided…)."""


@dataclass(frozen=True)
class Draft:
    """What a person writes for a template version."""

    title: str
    category: str
    body: str
    teams: tuple[str, ...]
    networks: tuple[str, ...] = ()
    expires_at: datetime | None = None


def _state(v: TemplateVersion) -> dict[str, Any]:
    return {"version": v.version, "status": v.status, "title": v.title, "category": v.category,
            "body_sha256": v.body_sha256, "teams": list(v.teams or []), "networks": list(v.networks or []),
            "expires_at": v.expires_at.isoformat(timespec="seconds") if v.expires_at else None,
            "decided_by": v.decided_by}


def _audit(session: Session, actor: str, action: str, template_id: int, before: dict[str, Any] | None,
           version: TemplateVersion, reason: str | None = None) -> None:
    record_event(session, actor, action, before=before or {}, after=_state(version), reason=reason,
                 subject=f"template:{template_id}", at=version.decided_at or version.created_at)


def _actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise LibraryError(_("who is acting? an actor name is required"))
    return actor[:200]


def _checked(draft: Draft, known_teams: Iterable[str]) -> Draft:
    title, category, body = draft.title.strip(), draft.category.strip(), draft.body.strip()
    if not title or not category or not body:
        raise LibraryError(_("a template needs a title, a category and a text"))
    if len(body) > MAX_BODY:
        raise LibraryError(_("a template’s text is at most {limit} characters").format(limit=MAX_BODY))
    teams = tuple(dict.fromkeys(t for t in draft.teams if t))
    unknown = [t for t in teams if t not in set(known_teams)]
    if unknown or not teams:
        raise LibraryError(_("a template names the teams that may use it (unknown: {teams})").format(
            teams=", ".join(unknown) or _("none given")))
    return Draft(title[:200], category[:60], body, teams, tuple(dict.fromkeys(n for n in draft.networks if n)),
                 draft.expires_at)


def _latest(session: Session, template_id: int) -> TemplateVersion | None:
    return session.scalars(select(TemplateVersion).where(TemplateVersion.template_id == template_id)
                           .order_by(TemplateVersion.version.desc()).limit(1).with_for_update()).first()


def create(session: Session, actor: str, key: str, language: str, kind: str, draft: Draft,
           known_teams: Iterable[str]) -> TemplateVersion:
    """A new template with its first version, a draft."""
    actor = _actor(actor)
    if not KEY.fullmatch(key or ""):
        raise LibraryError(_("a template key is lower-case letters, digits and '-' (e.g. blocked-card)"))
    if language not in LANGUAGES or kind not in KINDS:
        raise LibraryError(_("language is one of {languages}, kind one of {kinds}").format(
            languages=", ".join(LANGUAGES), kinds=", ".join(KINDS)))
    draft = _checked(draft, known_teams)
    if session.scalars(select(Template.id).where(Template.key == key, Template.language == language)).first():
        raise LibraryError(_("template {key} ({language}) exists already: edit it to make a new version").format(
            key=key, language=language))
    now = utcnow()
    template = Template(key=key, language=language, kind=kind, created_at=now, created_by=actor)
    session.add(template)
    session.flush()
    return _add_version(session, template.id, 1, actor, draft, now, None)


def _add_version(session: Session, template_id: int, number: int, actor: str, draft: Draft, now: datetime,
                 before: TemplateVersion | None, status: str = "draft") -> TemplateVersion:
    version = TemplateVersion(template_id=template_id, version=number, status=status, title=draft.title,
                              category=draft.category, body=draft.body, body_sha256=text_sha256(draft.body),
                              teams=list(draft.teams), networks=list(draft.networks), expires_at=draft.expires_at,
                              author=actor, created_at=now)
    session.add(version)
    session.flush()
    _audit(session, actor, "template.retire" if status == "retired" else "template.draft", template_id,
           _state(before) if before else None, version)
    return version


def edit(session: Session, actor: str, template_id: int, draft: Draft, known_teams: Iterable[str]) -> TemplateVersion:
    """A new draft version of the template (the version in use stays in use until it is approved)."""
    actor = _actor(actor)
    draft = _checked(draft, known_teams)
    latest = _latest(session, template_id)
    if latest is None:
        raise LibraryError(_("template {id} does not exist").format(id=template_id))
    return _add_version(session, template_id, latest.version + 1, actor, draft, utcnow(), latest)


def retire(session: Session, actor: str, template_id: int, reason: str) -> TemplateVersion:
    """A new version marking the template retired: nothing uses it any more (it stays in the record)."""
    actor, reason = _actor(actor), (reason or "").strip()
    if not reason:
        raise LibraryError(_("a reason is required to retire a template"))
    latest = _latest(session, template_id)
    if latest is None:
        raise LibraryError(_("template {id} does not exist").format(id=template_id))
    if latest.status == "retired":
        raise LibraryError(_("this template is already retired"))
    draft = Draft(latest.title, latest.category, latest.body, tuple(latest.teams or ()), tuple(latest.networks or ()),
                  latest.expires_at)
    version = _add_version(session, template_id, latest.version + 1, actor, draft, utcnow(), latest, "retired")
    version.decision_reason = reason[:2000]
    return version


def decide(session: Session, actor: str, version_id: int, approve: bool, reason: str | None = None) -> TemplateVersion:
    """Approve or reject a draft version. Never by its author; a rejection needs a reason."""
    actor = _actor(actor)
    version = session.get(TemplateVersion, version_id, populate_existing=True, with_for_update=True)
    if version is None:
        raise LibraryError(_("template version {id} does not exist").format(id=version_id))
    if version.status != "draft":
        raise LibraryError(_("this version is {status}: only a draft can be decided").format(
            status=version_status(version.status)))
    if version.author == actor:
        raise LibraryError(_("the author of a version cannot approve or reject it (four eyes)"))
    reason = (reason or "").strip() or None
    if not approve and not reason:
        raise LibraryError(_("a reason is required to reject a version"))
    before = _state(version)
    version.status = "approved" if approve else "rejected"
    version.decided_by, version.decided_at, version.decision_reason = actor, utcnow(), reason
    session.flush()
    _audit(session, actor, "template.approve" if approve else "template.reject", version.template_id, before,
           version, reason)
    return version


# --- reading ---------------------------------------------------------------------------------


def usable_version(session: Session, template_id: int, now: datetime | None = None) -> TemplateVersion | None:
    """The version a reply may use now: the newest approved one, unexpired, with no retirement after it."""
    now = now or utcnow()
    rows = session.scalars(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                         TemplateVersion.status.in_(("approved", "retired")))
                           .order_by(TemplateVersion.version.desc()).limit(1)).first()
    if rows is None or rows.status != "approved":
        return None
    if rows.expires_at is not None and rows.expires_at <= now:
        return None
    return rows


@dataclass(frozen=True)
class Usable:
    """A template version that can be used now, as composing lists it."""

    version_id: int
    template_id: int
    key: str
    language: str
    kind: str
    version: int
    title: str
    category: str
    body: str
    teams: tuple[str, ...]
    networks: tuple[str, ...]
    placeholders: tuple[str, ...]
    expires_at: datetime | None


def usable(session: Session, now: datetime | None = None, limit: int = 500) -> list[Usable]:
    """Every template usable now (bounded), as `Usable`."""
    now = now or utcnow()
    newest = (select(TemplateVersion.template_id, func.max(TemplateVersion.version).label("v"))
              .where(TemplateVersion.status.in_(("approved", "retired"))).group_by(TemplateVersion.template_id)
              .subquery())
    rows = session.execute(
        select(TemplateVersion, Template)
        .join(newest, (newest.c.template_id == TemplateVersion.template_id) & (newest.c.v == TemplateVersion.version))
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(TemplateVersion.status == "approved")
        .order_by(Template.key, Template.language).limit(limit)
    ).all()
    return [Usable(v.id, t.id, t.key, t.language, t.kind, v.version, v.title, v.category, v.body,
                   tuple(v.teams or ()), tuple(v.networks or ()), placeholders(v.body), v.expires_at)
            for v, t in rows if v.expires_at is None or v.expires_at > now]


def suggest(options: Sequence[Usable], team: str | None, language: str, network: str, kind: str = "reply",
            ) -> list[Usable]:
    """The templates that may be used for an item, those fitting its language and network first.

    A pure function of the usable list: a template is offered only to the teams it names, for
    its kind and for the networks it fits (none named: every one); those in the item's language
    come first, and among them those written for its network, then by category and title."""
    fits = [u for u in options if u.kind == kind and (team is None or team in u.teams)
            and (not u.networks or network in u.networks)]
    return sorted(fits, key=lambda u: (u.language != language, not u.networks, u.category, u.title))


def versions(session: Session, template_id: int, limit: int = 100) -> list[TemplateVersion]:
    return list(session.scalars(select(TemplateVersion).where(TemplateVersion.template_id == template_id)
                                .order_by(TemplateVersion.version.desc()).limit(limit)))


def catalogue(session: Session, limit: int = 500) -> list[dict[str, Any]]:
    """Each template with its newest version (for the library page), bounded."""
    newest = (select(TemplateVersion.template_id, func.max(TemplateVersion.version).label("v"))
              .group_by(TemplateVersion.template_id).subquery())
    rows = session.execute(
        select(Template, TemplateVersion)
        .join(newest, newest.c.template_id == Template.id)
        .join(TemplateVersion, (TemplateVersion.template_id == Template.id) & (TemplateVersion.version == newest.c.v))
        .order_by(Template.key, Template.language).limit(limit)
    ).all()
    now = utcnow()
    out = []
    for t, v in rows:
        in_use = usable_version(session, t.id, now)
        out.append({"template_id": t.id, "key": t.key, "language": t.language, "kind": t.kind,
                    "latest": v, "in_use": in_use})
    return out


def drafts_waiting(session: Session, limit: int = 200) -> list[tuple[TemplateVersion, Template]]:
    """Template drafts waiting for a decision, oldest first."""
    return [(v, t) for v, t in session.execute(
        select(TemplateVersion, Template).join(Template, Template.id == TemplateVersion.template_id)
        .where(TemplateVersion.status == "draft").order_by(TemplateVersion.id).limit(limit)).all()]
