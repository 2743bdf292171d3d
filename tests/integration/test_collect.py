"""The pipeline into a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from collectors.options import SourceOptions
from collectors.scheduler import collect_once
from collectors.sources import REGISTRY
from collectors.types import CollectorError, Page, Parsed, RawPost
from config.settings import Settings, SourceConfig
from models import queries
from models.db import Database
from models.tables import Mention, QueueItem, RejectedItem, SourceRow, utcnow
from tests.kit import poll, source_id, store_posts

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _post(pid: str, text: str, network: str = "x", followers: int | None = 120) -> RawPost:
    return RawPost(pid, network, text, NOW, f"https://{network}.example/p/{pid}", "@someone", "Some One", followers)


def test_batch_is_stored_with_its_cursor_and_replays_store_nothing(db: Database, settings: Settings) -> None:
    sid = source_id(db, settings)
    batch = [
        _post("1", "@AureliaBank my card got blocked again, third time this week"),
        _post("2", "J'ai saisi l'ACPR, vos frais cachés sont une honte @BanqueAurelia"),
        _post("3", "Thanks @AureliaBank for the super quick help with my mortgage!"),
    ]
    result = store_posts(db, settings, batch, cursor="cursor-1")
    assert (result.stored, result.queued, result.copies, result.skipped) == (3, 3, 0, 0)
    again = store_posts(db, settings, batch, cursor="cursor-1")  # the same page again, as after a crash
    assert (again.stored, again.skipped) == (0, 3)
    with db.read() as s:
        assert s.scalar(select(SourceRow.cursor).where(SourceRow.id == sid)) == "cursor-1"
        rows = s.execute(select(Mention.external_id, Mention.language, Mention.sentiment_label, QueueItem.team,
                                QueueItem.rule_id, QueueItem.explanation)
                         .join(QueueItem, QueueItem.mention_id == Mention.id).order_by(Mention.external_id)).all()
    assert [(r.external_id, r.language, r.team, r.rule_id) for r in rows] == [
        ("1", "en", "customer_service", "service-problem"),
        ("2", "fr", "legal", "regulator-or-legal"),
        ("3", "en", "marketing", "default"),
    ]
    assert rows[0].sentiment_label == "negative" and rows[2].sentiment_label == "positive"
    assert "risk flag card_issue (card got blocked)" in rows[0].explanation
    assert "risk flag regulator (ACPR)" in rows[1].explanation


def test_cross_network_repost_is_a_copy_without_queue_item(db: Database, settings: Settings) -> None:
    text = "Aurelia app down AGAIN, can't log in to pay rent"
    store_posts(db, settings, [_post("a1", text, "x")])
    result = store_posts(db, settings, [_post("b1", "RT @someone: " + text.lower(), "mastodon"),
                                        _post("b2", text + "!!", "bluesky")])
    assert (result.stored, result.queued, result.copies) == (2, 0, 2)
    with db.read() as s:
        head = s.scalars(select(Mention).where(Mention.external_id == "a1")).one()
        copies = s.scalars(select(Mention).where(Mention.duplicate_of_id == head.id)).all()
        assert {c.network for c in copies} == {"mastodon", "bluesky"}
        assert s.scalar(select(func.count()).select_from(QueueItem)) == 1


def _by_author(pid: str, text: str, network: str, author: str, links: tuple[str, ...] = ()) -> RawPost:
    return RawPost(pid, network, text, NOW, f"https://{network}.example/p/{pid}", author, author, 50, links=links)


def test_same_text_or_link_on_other_networks_is_one_cluster(db: Database, settings: Settings) -> None:
    """Different handles on different networks: copied text and shared links cluster; the same
    words by two people on one network, or a short common phrase, stay two items."""
    text = "Aurelia Bank froze my savings account without any notice and nobody answers the phone"
    article = "https://www.news.example/2026/aurelia-outage?utm_source=twitter"
    first = [
        _by_author("x1", text, "x", "@zoe_l"),
        _by_author("r1", "Aurelia Bank outage explained", "rss", "news desk",
                   ("https://news.example/2026/aurelia-outage",)),
        _by_author("x2", "app down?", "x", "@a"),
    ]
    later = [
        _by_author("m1", text + " 😡", "mastodon", "zoe@banking.social"),  # copied text
        _by_author("x3", text, "x", "@other_customer"),  # same words, same network
        _by_author("b1", f"Wow, read this {article}", "bluesky", "kim.bsky.social"),
        _by_author("b2", "app down?", "bluesky", "lee.bsky.social"),  # too short
        _by_author("rd1", "Same story", "reddit", "u1", (article,)),  # link from the source
    ]
    store_posts(db, settings, first)
    result = store_posts(db, settings, later)
    assert (result.stored, result.queued, result.copies) == (5, 2, 3)
    with db.read() as s:
        ids = {m.external_id: m for m in s.scalars(select(Mention))}
        assert ids["m1"].duplicate_of_id == ids["x1"].id
        assert ids["b1"].duplicate_of_id == ids["r1"].id and ids["rd1"].duplicate_of_id == ids["r1"].id
        assert ids["x3"].duplicate_of_id is None and ids["b2"].duplicate_of_id is None
        counts = {m: c for m, c in s.execute(select(Mention.external_id, QueueItem.copy_count).join(QueueItem))}
    assert counts == {"x1": 1, "r1": 2, "x2": 0, "x3": 0, "b2": 0}
    with db.read() as s:  # shown once in the queue, with its copies counted
        rows = {r["mention_id"]: r for team in ("customer_service", "legal", "marketing")
                for r in queries.open_queue(s, team)}
    assert rows[ids["x1"].id]["network"] == "x +1" and rows[ids["r1"].id]["network"] == "rss +2"
    assert ids["m1"].id not in rows and ids["b1"].id not in rows


def test_a_copy_of_a_copy_points_at_the_original(db: Database, settings: Settings) -> None:
    """x1 (X) → m1 (Mastodon, same words, another handle) → m2 (m1's author again): all one cluster on x1."""
    text = "Aurelia Bank froze my savings account without any notice and nobody answers the phone"
    for post in (_by_author("x1", text, "x", "@zoe"), _by_author("m1", text, "mastodon", "zoe_m@social.example"),
                 _by_author("m2", text + "!", "mastodon", "zoe_m@social.example")):
        store_posts(db, settings, [post])
    with db.read() as s:
        ids = {m.external_id: m for m in s.scalars(select(Mention))}
        assert ids["m1"].duplicate_of_id == ids["x1"].id and ids["m2"].duplicate_of_id == ids["x1"].id
        assert ids["x1"].queue_item is not None and ids["x1"].queue_item.copy_count == 2
        detail = queries.mention_detail(s, ids["x1"].id)
        assert detail is not None and [c.external_id for c in detail["copies"]] == ["m1", "m2"]


def test_odd_platform_values_do_not_sink_a_batch(db: Database, settings: Settings) -> None:
    """A follower count beyond int4 and ids longer than the column: stored, distinct, nothing lost."""
    base = "https://news.example/track?" + "x" * 300
    posts = [RawPost(base + "1", "rss", "Aurelia Bank story one", NOW, author_followers=10**30),
             RawPost(base + "2", "rss", "Aurelia Bank story two", NOW)]
    assert store_posts(db, settings, posts).stored == 2
    assert store_posts(db, settings, posts).skipped == 2  # the same posts again: recognised by their shortened ids
    with db.read() as s:
        rows = s.execute(select(Mention.external_id, Mention.author_followers).order_by(Mention.id)).all()
    assert len({r.external_id for r in rows}) == 2 and all(len(r.external_id) <= 200 for r in rows)
    assert rows[0].author_followers == 2**31 - 1


def test_copies_within_one_batch_point_at_the_batch_original(db: Database, settings: Settings) -> None:
    text = "Is anyone else getting phishing texts pretending to be Aurelia Bank asking for card codes"
    result = store_posts(db, settings, [_by_author("x1", text, "x", "@a"), _by_author("t1", text, "threads", "b")])
    assert (result.queued, result.copies) == (1, 1)
    with db.read() as s:
        head = s.scalars(select(Mention).where(Mention.external_id == "x1")).one()
        copy = s.scalars(select(Mention).where(Mention.external_id == "t1")).one()
        assert copy.duplicate_of_id == head.id and head.queue_item is not None
        assert head.queue_item.copy_count == 1


def test_collect_once_fills_three_queues_in_two_languages(db: Database, settings: Settings) -> None:
    demo = SourceConfig("demo", "demo", 2, True, {"seed": 7, "rate_per_minute": 120, "backfill_hours": 2})
    s2 = replace(settings, sources=(demo,))
    reports = collect_once(s2, db)
    assert reports[0].error is None and reports[0].stored > 200
    # Most posts are people's own; copies are reposts, headlines shared on several networks and
    # spam campaigns (the demo repeats its templates more than people do, hence about 30 %).
    assert 0.6 * reports[0].stored < reports[0].queued < reports[0].stored and reports[0].copies > 0
    with db.read() as s:
        langs = dict(s.execute(select(Mention.language, func.count()).group_by(Mention.language)).all())
        teams = dict(s.execute(select(QueueItem.team, func.count()).group_by(QueueItem.team)).all())
        empty = s.scalar(select(func.count()).select_from(QueueItem).where(QueueItem.explanation == ""))
        row = s.scalars(select(SourceRow).where(SourceRow.name == "demo")).one()
        total = s.scalar(select(func.count()).select_from(Mention))
    assert langs.get("en", 0) > 100 and langs.get("fr", 0) > 50
    assert set(teams) == {"customer_service", "legal", "marketing"}
    assert empty == 0
    assert row.last_ok_at is not None and row.consecutive_failures == 0 and row.cursor
    # A second run right away only stores what became due since.
    again = collect_once(s2, db)
    assert again[0].stored <= 10
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == total + again[0].stored


class _Broken:
    kind: ClassVar[str] = "broken"
    Options: ClassVar[type[SourceOptions]] = SourceOptions  # no options

    def __init__(self, config: SourceConfig, options: SourceOptions | None = None) -> None:
        self.config = config

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        raise CollectorError("upstream answered 500 Internal Server Error")

    def parse(self, payload: Any) -> Parsed:
        return Parsed([])


def test_failing_source_is_recorded_and_others_go_on(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(REGISTRY, "broken", _Broken)
    broken = SourceConfig("upstream", "broken", 5, True, {})
    demo = SourceConfig("demo", "demo", 2, True, {"rate_per_minute": 60, "backfill_hours": 0.5})
    s2 = replace(settings, sources=(broken, demo))
    reports = {r.source: r for r in collect_once(s2, db)}
    collect_once(s2, db)
    assert reports["upstream"].error == "upstream answered 500 Internal Server Error"
    assert reports["demo"].error is None and reports["demo"].stored > 0
    with db.read() as s:
        bad = s.scalars(select(SourceRow).where(SourceRow.name == "upstream")).one()
        good = s.scalars(select(SourceRow).where(SourceRow.name == "demo")).one()
    assert bad.consecutive_failures == 2 and bad.last_ok_at is None
    assert bad.last_error == "upstream answered 500 Internal Server Error"
    assert good.consecutive_failures == 0 and good.last_error is None


def test_malformed_items_are_reported_and_the_rest_stored(db: Database, settings: Settings) -> None:
    demo = SourceConfig("demo", "demo", 2, True,
                        {"rate_per_minute": 120, "backfill_hours": 1, "malformed_share": 0.05})
    s2 = replace(settings, sources=(demo,))
    report = collect_once(s2, db)[0]
    assert report.error is None and report.problems and report.stored > 50
    with db.read() as s:
        row = s.scalars(select(SourceRow).where(SourceRow.name == "demo")).one()
    assert row.last_error and "item(s) rejected (kept in rejected_items)" in row.last_error
    assert row.consecutive_failures == 0
    with db.read() as s:
        kept = s.scalars(select(RejectedItem)).all()
    assert len(kept) == len(report.problems) and all(k.raw.startswith("{") for k in kept)
    assert {k.reason for k in kept} == set(report.problems)


def test_lease_keeps_a_second_collector_off(db: Database, settings: Settings) -> None:
    demo = SourceConfig("demo", "demo", 2, True, {"rate_per_minute": 60, "backfill_hours": 0.2})
    first = poll(db, settings, demo, owner="collector-a")
    second = poll(db, settings, demo, owner="collector-b")
    assert first.leased and first.stored > 0
    assert not second.leased and second.stored == 0
    with db.write.begin() as s:  # an expired lease is taken over
        row = s.scalars(select(SourceRow).where(SourceRow.name == "demo")).one()
        row.lease_until = utcnow() - timedelta(seconds=1)
    assert poll(db, settings, demo, owner="collector-b").leased
