"""Importing a library file (`models.library_file.import_library`, `seed_demo_library`): drafts by
the importing actor, never overwriting, refused whole for an unknown team; the demo's library
drafted by one actor and approved by another (four eyes)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from models.db import Database
from models.library import usable
from models.library_file import (
    DEMO_APPROVER,
    DEMO_AUTHOR,
    DEMO_LIBRARY,
    Entry,
    LibraryFileError,
    import_library,
    load_library,
    seed_demo_library,
)
from models.reply_tables import Template, TemplateVersion


def test_import_drafts_each_new_template_once_and_refuses_an_unknown_team(db: Database, settings: Settings) -> None:
    entries = load_library(DEMO_LIBRARY)
    odd = Entry(key="odd", language="en", kind="reply", category="c", title="t", body="b", teams=("treasury",),
                expires_in_days=None)
    with pytest.raises(LibraryFileError, match="unknown team.*treasury"):
        with db.write.begin() as s:
            import_library(s, [*entries, odd], "alice", settings.team_keys)
    with db.write.begin() as s:
        assert s.scalar(select(func.count()).select_from(Template)) == 0  # refused whole
        first = import_library(s, entries, "alice", settings.team_keys)
    with db.write.begin() as s:
        again = import_library(s, entries, "bob", settings.team_keys)
        versions = s.execute(select(TemplateVersion.status, TemplateVersion.author)).all()
        assert usable(s) == []  # drafts: nothing usable before compliance approves
    assert (first.created, first.skipped, again.created, again.skipped) == (len(entries), 0, 0, len(entries))
    assert set(versions) == {("draft", "alice")}


def test_the_demo_library_is_seeded_once_drafted_and_approved_by_two_people(db: Database, settings: Settings) -> None:
    with db.write.begin() as s:
        assert seed_demo_library(s, settings.team_keys) == len(load_library(DEMO_LIBRARY))
    with db.write.begin() as s:
        assert seed_demo_library(s, settings.team_keys) == 0  # not empty any more: left alone
        rows = s.execute(select(TemplateVersion.status, TemplateVersion.author, TemplateVersion.decided_by)).all()
        assert {t.language for t in usable(s)} == {"en", "fr"}
    assert set(rows) == {("approved", DEMO_AUTHOR, DEMO_APPROVER)} and DEMO_AUTHOR != DEMO_APPROVER
