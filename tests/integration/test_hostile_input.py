"""Hostile items and valid posts mixed, through `vigie import` and the webhook route, on SQLite and
PostgreSQL: every valid post stored once, every bad item kept in `rejected_items` with its reason,
one bad item never costing its neighbours, and the printed counts equal to the rows kept."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from collectors.importer import FileImport
from collectors.mapping import FieldMapping
from config.settings import Settings
from models.db import Database
from models.tables import Mention, RejectedItem, SourceRow
from tests.hostile import HOSTILE, Case, hook, jsonl, mix, post  # noqa: F401 (hook: a fixture)
from tests.kit import config_dir, vigie_env
from tests.support import VIGIE


def _mentions(db: Database, source: str) -> dict[str, Mention]:
    with db.read() as s:
        rows = s.scalars(select(Mention).join(SourceRow).where(SourceRow.name == source)).all()
    return {m.external_id: m for m in rows}


def _rejected(db: Database, source: str) -> list[RejectedItem]:
    with db.read() as s:
        return list(s.scalars(select(RejectedItem).join(SourceRow).where(SourceRow.name == source)
                              .order_by(RejectedItem.id)).all())


def _check_outcome(db: Database, source: str, cases: list[Case]) -> None:
    """Each stored case stored once with its values, each rejected case kept once with its reason."""
    stored = _mentions(db, source)
    rejected = _rejected(db, source)
    expect_stored = [c for c in cases if c.stored is not None]
    expect_rejected = [c for c in cases if c.reason is not None]
    assert sorted(stored) == sorted(c.id for c in expect_stored)
    for case in expect_stored:
        got = {k: getattr(stored[case.id], k) for k in case.stored or {}}
        assert got == case.stored, case.name
    assert len(rejected) == len(expect_rejected), [(r.external_id, r.reason) for r in rejected]
    left = list(rejected)
    for case in expect_rejected:
        row = next((r for r in left if r.external_id == case.id and (case.reason or "") in r.reason), None)
        assert row is not None, (case.name, [(r.external_id, r.reason) for r in left])
        left.remove(row)
        json.loads(row.raw)  # the raw form is kept as valid JSON, whatever it held


@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_hostile_lines_import_in_one_run_whatever_the_batch_size(
        db: Database, settings: Settings, tmp_path: Path, batch_size: int) -> None:
    cases = mix()
    path = tmp_path / "mix.jsonl"
    path.write_bytes(jsonl(cases))
    mapping = FieldMapping.from_options(None, "test", "listening")
    job = FileImport(db, replace(settings, batch_size=batch_size), path, "mix", "jsonl", mapping)
    job.prepare()
    report = job.run()
    _check_outcome(db, "mix", cases)
    rows = len(_rejected(db, "mix"))
    assert report.rejected == rows  # printed count = rows kept, whatever the batch size
    assert report.stored == len(_mentions(db, "mix"))
    assert report.stored + report.duplicates + report.rejected == len(cases)

    again = FileImport(db, replace(settings, batch_size=batch_size), path, "mix", "jsonl", mapping)
    again.prepare(rescan=True)
    second = again.run()
    assert (second.stored, second.rejected, second.duplicates) == (0, 0, len(cases))
    assert len(_rejected(db, "mix")) == rows


def test_vigie_import_prints_the_counts_of_what_it_kept(db_url: str, db: Database, tmp_path: Path) -> None:
    cases = mix()
    path = tmp_path / "mix.jsonl"
    path.write_bytes(jsonl(cases))
    env = vigie_env(db_url, config=config_dir(tmp_path), log_level="WARNING")
    result = subprocess.run([VIGIE, "import", str(path), "--source", "mix"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    stored, rejected = sum(c.stored is not None for c in cases), sum(c.reason is not None for c in cases)
    assert result.stdout.strip() == (f"mix.jsonl lines 1-{len(cases)} into source 'mix': {stored} stored "
                                     f"({stored} queued, 0 copies), 0 duplicates, {rejected} rejected "
                                     "(kept in rejected_items)")
    _check_outcome(db, "mix", cases)


def test_webhook_stores_the_valid_items_beside_hostile_ones(hook: Any, db: Database) -> None:  # noqa: F811 (the fixture)
    cases = mix()
    body = ("[" + ",".join(c.line for c in cases) + "]").encode()
    stored, rejected = sum(c.stored is not None for c in cases), sum(c.reason is not None for c in cases)
    status, answer = post(hook, body)
    assert (status, answer) == (200, {"stored": stored, "duplicates": 0, "rejected": rejected, "queued": stored,
                                      "copies": 0})
    _check_outcome(db, "relay", cases)
    # The sender retries the same delivery: nothing stored or kept twice, and it says so.
    assert post(hook, body) == (200, {"stored": 0, "duplicates": len(cases), "rejected": 0, "queued": 0,
                                      "copies": 0})
    assert len(_rejected(db, "relay")) == rejected


@pytest.mark.parametrize("case", HOSTILE, ids=lambda c: c.name)
def test_each_hostile_item_alone_gets_a_json_answer_never_a_500(hook: Any, case: Case) -> None:  # noqa: F811 (the fixture)
    status, answer = post(hook, ("[" + case.line + "]").encode())
    assert status == 200, answer
    assert answer["stored"] + answer["rejected"] + answer["duplicates"] == 1
