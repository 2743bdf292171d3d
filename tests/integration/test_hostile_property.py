"""Property tests (hypothesis): generated hostile items through the mapping, `vigie import` and the
webhook route, on SQLite and PostgreSQL. Whatever the items hold, nothing raises, every item sent is
counted once as stored, duplicate or rejected, the counts are the rows kept, and sending the same
again stores and keeps nothing."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from collectors.clean import clean_post
from collectors.importer import FileImport
from collectors.mapping import FieldMapping, decode_json
from collectors.types import RawPost, Rejected
from config.settings import Settings
from models.db import Database
from models.tables import Mention, RejectedItem
from tests.hostile import hook, post  # noqa: F401 (hook: a fixture)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
MAPPING = FieldMapping.from_options(None, "property", "listening")
RUNS = itertools.count()
SLOW_DB = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])

# Characters that broke storage or display: lone surrogates, NUL and other controls, invisible
# and direction marks, the BOM, combining marks, a Hangul filler; with ordinary letters and emoji.
NASTY = st.sampled_from(["\ud800", "\udfff", "\x00", "\x1f", "\x7f", "\u200b", "\u200e", "\u202e", "\u2060",
                         "\ufeff", "\u0301", "\u3164", " ", "\n", "a", "é", "Z", "1", "😡", "@", "#", "&", "<",
                         "\U0001fae8", "\uf8ff"])  # an emoji newer than Python 3.11's tables; private use
TEXT = st.one_of(st.text(NASTY, max_size=12), st.text(max_size=12))
TIME = st.one_of(
    st.sampled_from(["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00", "2026-11-25T08:15:00Z",
                     "2026-11-25T08:15:00+0100", "not a time", "", "NaN", "1e400", "-1"]),
    st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=True, allow_infinity=True), TEXT)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
                   st.floats(allow_nan=True, allow_infinity=True), TEXT)
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
ITEM = st.one_of(
    st.fixed_dictionaries({}, optional={
        "id": st.one_of(st.sampled_from(["a", "b", "c", "d", " ", "\ud800", "a\x00"]), st.integers(), VALUE),
        "text": st.one_of(TEXT, VALUE, st.just("Aurelia Bank card blocked")),
        "created_at": TIME,
        "url": st.one_of(TEXT, st.just("https://x.example/\ud800"), VALUE),
        "author": st.fixed_dictionaries({}, optional={"handle": TEXT, "name": TEXT, "followers": st.one_of(
            st.integers(min_value=-(10**40), max_value=10**40), TEXT, st.just("5" * 5000), VALUE)}),
        "links": st.one_of(VALUE, st.lists(st.one_of(TEXT, st.just("https://a.example/\x00")), max_size=3)),
        "network": VALUE, "language": VALUE,
    }),
    VALUE,
)


def _line(item: Any) -> str:
    return json.dumps(item)  # ASCII: surrogates and controls as \u escapes, as a sender would write them


@given(item=ITEM)
@settings(max_examples=400, deadline=None)
def test_mapping_and_cleaning_never_raise(item: Any) -> None:
    mapped = MAPPING.map_item(decode_json(_line(item)), NOW)
    assert isinstance(mapped, RawPost | Rejected)
    if isinstance(mapped, RawPost):
        cleaned = clean_post(mapped)
        assert isinstance(cleaned, RawPost | Rejected)
        if isinstance(cleaned, RawPost):
            for value in (cleaned.external_id, cleaned.text, cleaned.author_handle, cleaned.author_name, cleaned.url,
                          *cleaned.links):
                if value is not None:
                    value.encode("utf-8")  # no lone surrogate left
                    assert "\x00" not in value


def _counts(db: Database) -> tuple[int, int]:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Mention)) or 0), int(
            s.scalar(select(func.count()).select_from(RejectedItem)) or 0)


@given(items=st.lists(ITEM, min_size=1, max_size=12), batch_size=st.sampled_from([1, 3, 100]))
@SLOW_DB
def test_import_counts_add_up_and_a_second_run_stores_nothing(
        db: Database, settings: Settings, tmp_path: Path, items: list[Any], batch_size: int) -> None:
    path = tmp_path / f"items-{next(RUNS)}.jsonl"
    path.write_text("".join(_line(i) + "\n" for i in items))
    source = path.stem
    before = _counts(db)
    job = FileImport(db, replace(settings, batch_size=batch_size), path, source, "jsonl", MAPPING)
    job.prepare()
    report = job.run()
    after = _counts(db)
    assert report.stored + report.duplicates + report.rejected == len(items)
    assert (after[0] - before[0], after[1] - before[1]) == (report.stored, report.rejected)
    again = FileImport(db, replace(settings, batch_size=batch_size), path, source, "jsonl", MAPPING)
    again.prepare(rescan=True)
    second = again.run()
    assert (second.stored, second.rejected, second.duplicates) == (0, 0, len(items))
    assert _counts(db) == after


@given(items=st.lists(ITEM, min_size=1, max_size=12))
@SLOW_DB
def test_webhook_answers_200_counts_add_up_and_a_redelivery_stores_nothing(
        hook: Any, db: Database, items: list[Any]) -> None:  # noqa: F811 (the fixture)
    body = json.dumps(items).encode()
    before = _counts(db)
    status, answer = post(hook, body)
    assert status == 200, answer
    after = _counts(db)
    assert answer["stored"] + answer["duplicates"] + answer["rejected"] == len(items)
    assert (after[0] - before[0], after[1] - before[1]) == (answer["stored"], answer["rejected"])
    assert post(hook, body) == (200, {"stored": 0, "duplicates": len(items), "rejected": 0, "queued": 0,
                                       "copies": 0})
    assert _counts(db) == after
