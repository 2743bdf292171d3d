"""A library file: reply and post templates written in YAML, imported as drafts for compliance.

Vigie ships the demo's library (`DEMO_LIBRARY`, ``models/data/demo_library.yaml``, bilingual);
a firm writes its own in the same shape and imports it with ``vigie library import FILE --actor
NAME``. Importing never approves anything: every entry becomes a draft version by the importing
actor, for someone else to approve on /library (four eyes, `models.library.decide`). A template
whose key and language exist already is skipped, never overwritten (edit it on /library).

::

    templates:
      - key: blocked-card          # lower-case letters, digits and '-'; the English and French share it
        language: en               # en | fr
        kind: reply                # reply (to a mention) | post (a new post from the firm's account)
        category: cards
        title: Blocked card
        body: "Hi {{first_name}}, sorry your card is blocked… reference {{case_ref}}."
        teams: [customer_service]  # the teams that may use it (teams.yaml)
        networks: [x]              # optional: the networks it fits (absent: every one)
        expires_in_days: 90        # optional: the approved version stops being usable after this

Unknown keys, a bad placeholder (``{{ }}``, ``{first_name}``, unbalanced braces), a team not in
teams.yaml or a body over a named network's length limit are refused with the file and the
entry named (`LibraryFileError`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.outbound import DEFAULT_LIMITS
from models.compose import PLACEHOLDER
from models.library import KEY, MAX_BODY, Draft, create, decide
from models.reply_tables import Template
from models.tables import utcnow

DEMO_LIBRARY = Path(__file__).parent / "data" / "demo_library.yaml"
BRACES = re.compile(r"\{+[^{}]*\}+|\{|\}")
PLACEHOLDER_STAND_IN = "x" * 12  # a filled placeholder, for the length check of a named network


class LibraryFileError(Exception):
    """The library file cannot be read or an entry is wrong; the message names the file and the entry."""


class Entry(BaseModel):
    """One template of a library file (unknown keys refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=rf"^{KEY.pattern}$")  # (a pattern is searched: anchored here)
    language: Literal["en", "fr"]
    kind: Literal["reply", "post"]
    category: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    teams: tuple[str, ...] = Field(min_length=1)
    networks: tuple[str, ...] = ()
    expires_in_days: int | None = Field(None, gt=0, le=3650)

    @field_validator("body")
    @classmethod
    def _placeholders_well_formed(cls, body: str) -> str:
        """Every brace belongs to a ``{{name}}``: a typo would otherwise be published as it is."""
        for found in BRACES.findall(PLACEHOLDER.sub("", body)):
            raise ValueError(f"a placeholder is written {{{{name}}}} (lower-case letters, digits, _): "
                             f"found {found!r}")
        return body.strip()

    def length_problem(self) -> str | None:
        """The body too long for a network it names (placeholders counted as 12 characters)."""
        text = PLACEHOLDER.sub(PLACEHOLDER_STAND_IN, self.body)
        for network in self.networks:
            limit = DEFAULT_LIMITS.get(network)
            if limit is not None and len(text) > limit:
                return f"{len(text)} characters, over {network}'s {limit}"
        return None


def load_library(path: Path) -> list[Entry]:
    """The entries of a library file, validated (`LibraryFileError` names the file, the entry and the key)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LibraryFileError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(data, dict) or set(data) != {"templates"} or not isinstance(data["templates"], list):
        keys = ", ".join(sorted(map(str, data))) if isinstance(data, dict) else type(data).__name__
        raise LibraryFileError(f"{path}: expected one top-level key 'templates' holding a list, got {keys}")
    entries: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(data["templates"]):
        where = f"{path}: templates[{index}]" + (f" ({raw.get('key')})" if isinstance(raw, dict) else "")
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(entry)'}: "
                                 f"{'unknown key' if e['type'] == 'extra_forbidden' else e['msg']}"
                                 for e in exc.errors())
            raise LibraryFileError(f"{where}: {problems}") from None
        if (entry.key, entry.language) in seen:
            raise LibraryFileError(f"{where}: {entry.key} ({entry.language}) appears twice")
        too_long = entry.length_problem()
        if too_long:
            raise LibraryFileError(f"{where}: body: {too_long}")
        seen.add((entry.key, entry.language))
        entries.append(entry)
    return entries


@dataclass
class ImportCounts:
    created: int = 0
    skipped: int = 0  # key and language already in the library: never overwritten
    version_ids: tuple[int, ...] = ()  # the drafts made, for whoever decides them


def import_library(session: Session, entries: Iterable[Entry], actor: str, known_teams: Iterable[str]) -> ImportCounts:
    """Draft every entry whose key and language are new (by ``actor``, through `models.library.create`).
    An entry naming a team not in ``known_teams`` is refused before anything is written."""
    entries, teams = list(entries), set(known_teams)
    for entry in entries:
        unknown = sorted(set(entry.teams) - teams)
        if unknown:
            raise LibraryFileError(f"template {entry.key} ({entry.language}): unknown team(s) "
                                   f"{', '.join(unknown)} (teams.yaml has {', '.join(sorted(teams))})")
    # a library is hundreds of templates at most: bounded all the same
    existing = {(str(k), str(lang)) for k, lang in
                session.execute(select(Template.key, Template.language).limit(100_000)).all()}
    counts, now = ImportCounts(), utcnow()
    made: list[int] = []
    for entry in entries:
        if (entry.key, entry.language) in existing:
            counts.skipped += 1
            continue
        expires = now + timedelta(days=entry.expires_in_days) if entry.expires_in_days else None
        draft = Draft(entry.title, entry.category, entry.body, entry.teams, entry.networks, expires)
        made.append(create(session, actor, entry.key, entry.language, entry.kind, draft, teams).id)
        existing.add((entry.key, entry.language))
        counts.created += 1
    counts.version_ids = tuple(made)
    return counts


DEMO_AUTHOR = "demo.library"  # drafts the demo's library…
DEMO_APPROVER = "demo.compliance"  # …and someone else approves it: four eyes hold in the demo too


def seed_demo_library(session: Session, known_teams: Iterable[str], path: Path = DEMO_LIBRARY) -> int:
    """The demo's library, once, when the library is empty: drafted by `DEMO_AUTHOR` and approved by
    `DEMO_APPROVER` through `models.library.decide`. Returns how many templates were approved."""
    if session.scalar(select(Template.id).limit(1)) is not None:
        return 0
    counts = import_library(session, load_library(path), DEMO_AUTHOR, known_teams)
    for version_id in counts.version_ids:
        decide(session, DEMO_APPROVER, version_id, approve=True, reason="demo library, checked by compliance")
    return len(counts.version_ids)
