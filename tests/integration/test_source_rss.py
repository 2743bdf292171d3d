"""The RSS/Atom connector against a local feed server, into a real database, and end to end."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from collectors.sources import build_polled_source, rss
from collectors.sources.rss import RssSource
from config.settings import Secret, Settings, SourceConfig
from models.db import Database, open_database
from models.tables import Mention, QueueItem, RejectedItem, SourceRow
from tests.kit import config_dir, db_upgrade, poll, vigie_env
from tests.replay import FIXTURES, ReplayServer, Reply
from tests.support import VIGIE

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
RSS = "application/rss+xml"


def _source(url: str, **options: object) -> RssSource:
    options = {"url": url, "retry_base_seconds": 0.01, **options}
    return build_polled_source(SourceConfig("feed", "rss", 60, True, options))  # type: ignore[return-value]


def test_rss_items_become_posts_with_plain_text_times_and_links() -> None:
    src = _source("http://127.0.0.1:1/feed.xml", network="news")
    parsed = src.parse({"body": (FIXTURES / "rss/news.xml").read_bytes(), "fetched_at": NOW})
    by_id = {p.external_id: p for p in parsed.posts}
    outage = by_id["bw-1001"]
    assert outage.text.startswith("Aurelia Bank app outage leaves customers unable to pay\n\nCustomers of Aurelia Bank")
    assert "<b>" not in outage.text and "alert(1)" not in outage.text and "😡" in outage.text
    assert outage.created_at == datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    assert (outage.network, outage.url, outage.author_name) == ("news", "https://news.example/2026/11/aurelia-outage",
                                                               "Jane Doe")
    # a guid that is a permalink, a +0100 date, an RTL title, an item with no title nor guid
    assert by_id["https://news.example/2026/11/northwind-fees"].created_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert by_id["bw-1003"].text.startswith("بنك أوريليا") and "🏦" in by_id["bw-1003"].text
    assert by_id["https://news.example/2026/11/untitled"].text == "Aurelia Bank opens a new branch downtown."
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        ("bw-empty", "feed entry 'bw-empty' has neither title nor summary")
    ]


def test_atom_entries_use_content_author_and_published_time() -> None:
    parsed = _source("http://127.0.0.1:1/forum.atom").parse(
        {"body": (FIXTURES / "rss/forum.atom").read_bytes(), "fetched_at": NOW}
    )
    first, second = parsed.posts
    assert first.text == "Carte bloquée chez Banque Aurelia\n\nMa carte est bloquée depuis lundi, j'ai saisi l'ACPR."
    assert (first.author_handle, first.language_hint) == ("lucie_m", "fr")
    assert second.created_at == datetime(2026, 11, 25, 7, 50, tzinfo=UTC)  # published, not updated


def test_long_item_is_kept_whole() -> None:
    body = "Aurelia Bank " + "x" * 10_000
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>long</guid>'
            f"<title>Long</title><description>{body}</description></item></channel></rss>").encode()
    (post,) = _source("http://127.0.0.1:1/f").parse({"body": feed, "fetched_at": NOW}).posts
    assert post.text == f"Long\n\n{body}" and post.created_at == NOW


def test_relative_links_without_a_site_link_resolve_against_the_feed_url_without_its_query() -> None:
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b"<item><guid>a</guid><title>A</title><link>p/1</link></item>"
            b"<item><guid>b</guid><title>B</title><link>#c3</link></item>"
            b"<item><guid>c</guid><title>C</title><link>http://[::1/x</link></item>"
            b"<item><guid>d</guid><title>D</title><link>mailto:press@aurelia.example</link></item>"
            b"</channel></rss>")
    parsed = _source("http://127.0.0.1:1/feeds/x.xml?token=abc").parse({"body": feed, "fetched_at": NOW})
    assert [p.url for p in parsed.posts] == ["http://127.0.0.1:1/feeds/p/1", "http://127.0.0.1:1/feeds/x.xml#c3",
                                             None, None]


def test_a_broken_feed_keeps_only_the_start_of_its_body_beside_the_problem() -> None:
    items = "".join(f"<item><guid>i{n}</guid><title>Aurelia Bank {n}</title></item>" for n in range(5_000))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t &nbsp; broken</title>{items}'.encode()
    parsed = _source("http://127.0.0.1:1/f").parse({"body": feed, "fetched_at": NOW})
    assert len(parsed.posts) == 5_000 and len(feed) > 200_000
    (problem,) = parsed.rejected
    assert "not well-formed" in problem.reason
    assert problem.raw.startswith('<?xml version="1.0"?><rss') and len(problem.raw) < 8_300
    assert problem.raw.endswith(f"({len(feed)} bytes in all, the first 8192 kept)")


def test_an_entry_that_breaks_parsing_is_rejected_and_the_rest_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def html_to_text(markup: str) -> str:
        if "boom" in markup:
            raise RecursionError("maximum recursion depth exceeded")
        return markup

    monkeypatch.setattr(rss, "html_to_text", html_to_text)
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b"<item><guid>a</guid><title>A</title><description>fine</description></item>"
            b"<item><guid>b</guid><title>B</title><description>&lt;b&gt;boom&lt;/b&gt;</description></item>"
            b"<item><guid>c</guid><title>C</title><description>fine too</description></item>"
            b"</channel></rss>")
    parsed = _source("http://127.0.0.1:1/f").parse({"body": feed, "fetched_at": NOW})
    assert [p.external_id for p in parsed.posts] == ["a", "c"]
    (bad,) = parsed.rejected
    assert (bad.external_id, bad.reason) == ("b", "feed entry 'b' could not be read: RecursionError: maximum recursion "
                                                  "depth exceeded")
    assert bad.raw["title"] == "B"


def test_conditional_get_sends_validators_and_304_stores_nothing(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    def answer(req):  # type: ignore[no-untyped-def]
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", content_type=None)
        return Reply.file("rss/news.xml", content_type=RSS, headers={"ETag": '"v1"',
                                                                     "Last-Modified": "Wed, 25 Nov 2026 08:20:00 GMT"})

    replay.route("/feed.xml", answer)
    cfg = SourceConfig("feed", "rss", 60, True, {"url": f"{replay.url}/feed.xml"})
    first = poll(db, settings, cfg)
    assert (first.stored, first.error) == (4, None)
    second = poll(db, settings, cfg)
    assert (second.stored, second.skipped, second.error) == (0, 0, None)
    hits = replay.hits("/feed.xml")
    assert "if-none-match" not in hits[0].headers
    assert hits[1].headers["if-none-match"] == '"v1"'
    assert hits[1].headers["if-modified-since"] == "Wed, 25 Nov 2026 08:20:00 GMT"
    with db.read() as s:
        row = s.scalars(select(SourceRow).where(SourceRow.name == "feed")).one()
        assert row.last_ok_at is not None and row.items_last_run == 0 and row.consecutive_failures == 0
        assert json.loads(row.cursor or "{}")["etag"] == '"v1"'
        teams = set(s.scalars(select(QueueItem.team).join(Mention).join(SourceRow).where(SourceRow.name == "feed")))
    assert "legal" in teams  # the CFPB complaint in the outage article


def test_basic_auth_comes_from_secrets_and_is_never_in_errors(replay: ReplayServer) -> None:
    replay.route("/private.xml", Reply(401, b"bad credentials", content_type="text/plain"))
    cfg = SourceConfig("feed", "rss", 60, True, {"url": f"{replay.url}/private.xml?token=abc", "retries": 0},
                       {"username": Secret("ops"), "password": Secret("hunter2")})
    src = build_polled_source(cfg)
    try:
        src.fetch(None, NOW)
    except Exception as exc:
        message = str(exc)
    assert "HTTP 401" in message and "hunter2" not in message and "token=abc" not in message
    assert "hunter2" not in repr(cfg)
    sent = replay.hits("/private.xml")[0].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(b"ops:hunter2").decode()


def test_collect_once_stores_a_local_feed_once_and_records_a_failing_source(
    tmp_path: Path, replay: ReplayServer
) -> None:
    """The issue's end-to-end check, as a user runs it: sources.yaml, `vigie collect --once`, twice."""
    replay.route("/feed.xml", Reply.file("rss/news.xml", content_type=RSS))
    cfg = config_dir(tmp_path, sources=(
        "sources:\n"
        f"  - {{name: news, kind: rss, url: '{replay.url}/feed.xml', interval_seconds: 300}}\n"
        f"  - {{name: broken, kind: rss, url: '{replay.url}/status/500', interval_seconds: 300,"
        " retries: 1, retry_base_seconds: 0.01}\n"
    ))
    env = vigie_env(tmp_path / "v.db", config=cfg)
    url = env["DATABASE_URL"]
    db_upgrade(env)
    for run in range(2):
        result = subprocess.run([VIGIE, "collect", "--once"], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr  # a source failed: scripts are told
        assert "HTTP 500" in result.stdout and "news: " in result.stdout
        assert "GET http" not in result.stderr  # request URLs (which may carry tokens) are not logged
        db = open_database(url)
        with db.read() as s:
            ids = sorted(s.scalars(select(Mention.external_id).join(SourceRow).where(SourceRow.name == "news")))
            broken = s.scalars(select(SourceRow).where(SourceRow.name == "broken")).one()
            news = s.scalars(select(SourceRow).where(SourceRow.name == "news")).one()
        assert ids == sorted(["bw-1001", "bw-1003", "https://news.example/2026/11/northwind-fees",
                              "https://news.example/2026/11/untitled"]), f"run {run + 1}"
        assert news.items_last_run == (4 if run == 0 else 0) and news.last_error is not None  # the empty entry
        assert broken.last_error and "HTTP 500" in broken.last_error
        assert broken.consecutive_failures == run + 1
        db.engine.dispose()


def test_a_bad_entry_read_again_with_a_new_comment_count_is_kept_once(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    """A feed changes (a new ETag) and is read whole again; its bad entry now shows another
    comment count. It is the same bad entry (known by id and reason): a duplicate, not a new row."""
    def feed(comments: int) -> Reply:
        body = ("<?xml version='1.0'?><rss version='2.0' xmlns:slash='http://purl.org/rss/1.0/modules/slash/'>"
                "<channel><title>T</title><link>https://news.example/</link>"
                f"<item><guid isPermaLink='false'>bw-empty</guid><slash:comments>{comments}</slash:comments></item>"
                "<item><guid isPermaLink='false'>bw-ok</guid><title>Aurelia Bank fees up again</title></item>"
                "</channel></rss>")
        return Reply(body=body.encode(), content_type=RSS, headers={"ETag": f'"c{comments}"'})

    replay.route("/feed.xml", feed(3), feed(40))
    cfg = SourceConfig("feed", "rss", 60, True, {"url": f"{replay.url}/feed.xml"})
    first, second = poll(db, settings, cfg), poll(db, settings, cfg)
    with db.read() as s:
        kept = s.scalars(select(RejectedItem.external_id)).all()
    assert kept == ["bw-empty"]
    assert (first.stored, first.rejected, second.stored, second.skipped, second.rejected) == (1, 1, 0, 2, 0)
