"""Completeness (`models.reconcile`, `vigie archive reconcile`): dropped and duplicated pages through the
real Reddit connector against a local server leave no unreported gap; gaps made around the store are
reported. SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

import collectors.ingest
from collectors.ingest import enrich_batch
from collectors.pipeline import Enricher
from collectors.sources.reddit import TOKENS
from collectors.types import Parsed, RawPost
from config.settings import Secret, Settings, SourceConfig
from models.archive_tables import SourcePoll
from models.db import Database
from models.reconcile import reconcile
from models.tables import Mention, QueueItem, SourceRow
from tests.kit import poll, store_posts, stored_ids, vigie_env
from tests.replay import FIXTURES, ReplayServer, Reply
from tests.support import VIGIE

EXPECTED = ["t3_1h2k3cd", "t3_1h2k5ab", "t3_1h2k7xw", "t3_1h2k9zq"]  # the two fixture pages' posts


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    TOKENS.clear()
    yield
    TOKENS.clear()


def _reddit(server: ReplayServer) -> SourceConfig:
    server.route("/api/v1/access_token", Reply.file("reddit/token.json"))
    return SourceConfig("reddit", "reddit", 60, True, {
        "query": "Aurelia Bank", "auth_url": f"{server.url}/api/v1/access_token", "api_url": server.url,
        "user_agent": "server:com.example.vigie:v1 (by /u/vigie_test)", "retries": 0,
    }, {"client_id": Secret("c"), "client_secret": Secret("s")})


def _page2_with_unreadable_items() -> Reply:
    page = json.loads((FIXTURES / "reddit" / "search_page2.json").read_text(encoding="utf-8"))
    page["data"]["children"] += ["garbage", {"kind": "t1", "data": {"name": "t1_c", "body": "a comment"}}]
    return Reply.json(page)


def _ready(db: Database) -> None:
    """Skip the failure backoff: the server has recovered."""
    with db.write.begin() as s:
        s.execute(update(SourceRow).values(not_before=None))


def _polls(db: Database) -> list[tuple[int, int, int, int]]:
    with db.read() as s:
        return [tuple(r) for r in s.execute(select(SourcePoll.returned, SourcePoll.stored, SourcePoll.rejected,
                                                   SourcePoll.known).order_by(SourcePoll.id))]  # type: ignore[misc]


def test_dropped_and_duplicated_pages_leave_no_unreported_gap(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    cfg = _reddit(replay)
    page1 = Reply.file("reddit/search_page1.json")
    # A sweep: page 1, page 1 again (the same page served twice), then page 2's request fails.
    replay.route("/search", page1, page1, Reply(500, b"oops", content_type="text/plain"))
    first = poll(db, settings, cfg)
    assert first.error is not None and first.stored == 3 and first.pages == 2
    # The next run replays from the cursor (after page 1): page 2, with two more unreadable items, which
    # the run after reads again (the newest page, served again: every item already known).
    replay.route("/search", _page2_with_unreadable_items())
    _ready(db)
    second = poll(db, settings, cfg)
    assert second.error is None and (second.stored, second.rejected) == (1, 3)  # one removed post, two non-posts
    third = poll(db, settings, cfg)
    assert third.error is None and third.stored == 0 and third.rejected == 0
    assert stored_ids(db) == EXPECTED

    polls = _polls(db)
    assert polls[:2] == [(3, 3, 0, 0), (3, 0, 0, 3)]  # the page, and the same page served again
    assert all(r == st + rj + k for r, st, rj, k in polls)
    assert sum(p[1] for p in polls) == 4 and sum(p[2] for p in polls) == 3
    with db.read() as s:
        result = reconcile(s)
    assert result.ok, result.summary()
    (source,) = result.sources
    assert (source.name, source.stored, source.records, source.mentions, source.before_archive) == (
        "reddit", 4, 4, 4, 0)
    assert source.known == sum(p[3] for p in polls) > 0


def _post(n: int) -> RawPost:
    return RawPost(f"g{n}", "x", f"Aurelia Bank card blocked again {n}", datetime.now(UTC), None, f"@u{n}", "U", 5)


def test_replayed_delivery_and_chunked_batch_add_up(db: Database, settings: Settings) -> None:
    """A delivery stored again (a retrying sender) and a batch stored in chunks of 2 through `ingest`."""
    from collectors.ingest import RunReport, ingest
    from tests.kit import source_id

    sid = source_id(db, settings)
    posts = [_post(n) for n in range(5)]
    for _ in range(2):
        ingest(db, sid, Enricher(settings), Parsed(posts, []), datetime.now(UTC), RunReport("demo"), chunk_size=2,
               retry_duplicates=True)
    assert [p[0] for p in _polls(db)] == [2, 2, 1, 2, 2, 1]
    with db.read() as s:
        result = reconcile(s)
    assert result.ok, result.summary()
    assert (result.sources[0].returned, result.sources[0].stored, result.sources[0].known) == (10, 5, 5)


def test_gaps_made_around_the_store_are_reported(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_posts(db, settings, [_post(n) for n in range(3)])
    with db.read() as s:
        assert reconcile(s).ok
        sid, template = s.execute(select(Mention.source_id, Mention).limit(1)).one()
        row: dict[str, Any] = {c.name: getattr(template, c.name) for c in Mention.__table__.columns if c.name != "id"}

    # 1. a mention inserted beside store_batch, without its record
    with db.write.begin() as s:
        s.execute(insert(Mention), [{**row, "external_id": "sneaked-in", "cluster_key": "sneaked"}])
        sneaked = s.scalar(select(Mention.id).where(Mention.external_id == "sneaked-in"))
    with db.read() as s:
        result = reconcile(s)
    assert not result.ok
    assert (result.mentions_without_record.count, result.mentions_without_record.ids) == (1, [sneaked])
    assert result.sources[0].gap and result.sources[0].mentions == 4 and result.sources[0].records == 3

    # 2. a post lost between parsing and storing: its page's counts no longer add up
    def losing_one(enricher: Enricher, parsed: Parsed, at: datetime) -> Any:
        enriched, rejected = enrich_batch(enricher, parsed, at)
        return enriched[1:], rejected

    monkeypatch.setattr(collectors.ingest, "enrich_batch", losing_one)
    store_posts(db, settings, [_post(n) for n in range(10, 13)])
    with db.read() as s:
        result = reconcile(s)
        last_poll = s.scalar(select(func.max(SourcePoll.id)))
    assert (result.unbalanced_polls.count, result.unbalanced_polls.ids) == (1, [last_poll])

    # 3. a mention deleted under its record
    with db.write.begin() as s:
        gone = s.scalar(select(Mention.id).where(Mention.external_id == "g0"))
        s.execute(delete(QueueItem).where(QueueItem.mention_id == gone))
        s.execute(delete(Mention).where(Mention.id == gone))
    with db.read() as s:
        result = reconcile(s)
    assert result.records_without_mention.count == 1 and result.sources[0].source_id == sid


def test_mentions_from_before_the_archive_are_not_gaps(db: Database, settings: Settings) -> None:
    """Mentions stored before the archive began (before migration 0011: no records) are counted apart."""
    from tests.kit import source_id

    sid = source_id(db, settings)
    enricher = Enricher(settings)
    old = [enricher.enrich(_post(n), datetime.now(UTC).replace(tzinfo=None)).mention for n in range(2)]
    with db.write.begin() as s:  # as the releases before the archive stored them: no record, no poll row
        s.execute(insert(Mention), [{**m, "source_id": sid} for m in old])
    with db.read() as s:
        result = reconcile(s)
    assert result.ok and result.archive_begins is None and result.sources[0].before_archive == 2
    store_posts(db, settings, [_post(5)])
    with db.read() as s:
        result = reconcile(s)
    assert result.ok, result.summary()
    assert (result.sources[0].before_archive, result.sources[0].mentions, result.sources[0].records) == (2, 1, 1)


def test_reconcile_command_exits_1_on_a_gap(tmp_path: Any, base_settings: Settings) -> None:
    settings = base_settings
    env = vigie_env(tmp_path / "v.db", log_level="WARNING")
    from models.db import open_database
    from models.migrate import upgrade

    db = open_database(env["DATABASE_URL"])
    upgrade(db.engine)
    store_posts(db, settings, [_post(n) for n in range(2)])
    ok = subprocess.run([VIGIE, "archive", "reconcile"], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "demo: 1 poll(s) returned 2: 2 stored, 0 rejected, 0 already known; 2 post record(s), 2 mention(s)" \
        in ok.stdout and "OK: no gap" in ok.stdout
    with db.write.begin() as s:
        row = s.scalars(select(Mention)).first()
        assert row is not None
        values = {c.name: getattr(row, c.name) for c in Mention.__table__.columns if c.name != "id"}
        s.execute(insert(Mention), [{**values, "external_id": "sneaked-in", "cluster_key": "sneaked"}])
    gap = subprocess.run([VIGIE, "archive", "reconcile", "--json"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert gap.returncode == 1, gap.stdout + gap.stderr
    assert json.loads(gap.stdout)["mentions_without_record"]["count"] == 1
    with db.read() as s:  # each run is a record
        from models.archive_tables import ArchiveRecord

        assert s.scalar(select(func.count()).select_from(ArchiveRecord).where(ArchiveRecord.kind == "poll")) == 2
    db.engine.dispose()
