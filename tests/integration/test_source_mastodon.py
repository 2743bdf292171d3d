"""The Mastodon connector against a local instance double, into a real database.

Payloads follow the documented entities: Status and Account
(https://docs.joinmastodon.org/entities/Status/, /entities/Account/), a hashtag timeline being a
JSON array of statuses (https://docs.joinmastodon.org/methods/timelines/#tag) and search a Search
entity `{"accounts", "statuses", "hashtags"}` (https://docs.joinmastodon.org/methods/search/#v2).
The paging double below answers `min_id` / `max_id` as Mastodon's own code does
(app/models/concerns/paginable.rb: `min_id` gives the statuses immediately newer, shown newest
first; search is always sorted by id, newest first).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from collectors.sources import build_polled_source
from collectors.types import CollectorError
from config.settings import Secret, Settings, SourceConfig
from models.db import Database
from models.tables import Mention
from tests.kit import poll, source_row
from tests.replay import FIXTURES, ReplayServer, Reply, Request

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TEMPLATE = json.loads((FIXTURES / "mastodon/tag_aurelia.json").read_text())[0]


def _cfg(base: str, token: str | None = None, **options: Any) -> SourceConfig:
    secrets = {"access_token": Secret(token)} if token else {}
    return SourceConfig("masto", "mastodon", 60, True, {"instance": base, "retry_base_seconds": 0.01, **options},
                        secrets)


def _status(n: int, text: str | None = None) -> dict[str, Any]:
    status = copy.deepcopy(TEMPLATE)
    status["id"] = str(113_560_000_000_000_000 + n)
    status["content"] = f"<p>{text or f'Aurelia Bank update number {n}'}</p>"
    status["url"] = f"https://tooot.il/@dana/{status['id']}"
    return status


class Instance:
    """Statuses kept oldest first; answers like Mastodon's paginable.rb, with or without a Link header."""

    def __init__(self, statuses: list[dict[str, Any]], link: bool = False) -> None:
        self.statuses = statuses
        self.link = link

    def timeline(self, req: Request) -> Reply:
        limit = int(req.arg("limit") or 20)
        min_id, max_id = req.arg("min_id"), req.arg("max_id")
        ordered = sorted(self.statuses, key=lambda s: int(s["id"]))
        if min_id:
            page = [s for s in ordered if int(s["id"]) > int(min_id)][:limit][::-1]
        else:
            page = [s for s in ordered if not max_id or int(s["id"]) < int(max_id)][::-1][:limit]
        headers = {"Link": '<http://127.0.0.1:9/elsewhere>; rel="next"'} if self.link else {}
        return Reply.json(page, headers=headers)

    def search(self, req: Request) -> Reply:
        limit = int(req.arg("limit") or 20)
        max_id = req.arg("max_id")
        newest_first = sorted(self.statuses, key=lambda s: -int(s["id"]))
        page = [s for s in newest_first if not max_id or int(s["id"]) < int(max_id)][:limit]
        return Reply.json({"accounts": [], "statuses": page, "hashtags": []})


def _stored(db: Database) -> dict[str, Mention]:
    with db.read() as s:
        rows = s.scalars(select(Mention)).all()
        for row in rows:
            s.expunge(row)
    return {m.external_id: m for m in rows}


def _cursor(db: Database) -> dict[str, Any]:
    return dict(json.loads(source_row(db, "masto").cursor or "{}"))


def test_statuses_become_posts_boosts_rtl_emoji_media_and_content_warnings() -> None:
    src = build_polled_source(_cfg("https://mastodon.example", hashtags=["aurelia"]))
    payload = {"statuses": json.loads((FIXTURES / "mastodon/tag_aurelia.json").read_text()), "fetched_at": NOW}
    parsed = src.parse(payload)
    by_id = {p.external_id: p for p in parsed.posts}
    assert parsed.rejected == []
    # the boost (…005) and the original it boosts are one item, under the original's id
    assert [p.external_id for p in parsed.posts].count("113554000000000100") == 2 and "113555000000000005" not in by_id
    boosted = by_id["113554000000000100"]
    assert boosted.text == ("Third day without access to my #Aurelia account. "
                            "Support keeps hanging up & nobody answers 😡")
    assert (boosted.author_handle, boosted.author_name, boosted.author_followers) == ("marc@mastodon.example",
                                                                                      "Marc 🦊", 842)
    assert boosted.url == "https://mastodon.example/@marc/113554000000000100"
    assert boosted.created_at == datetime(2026, 11, 25, 7, 58, tzinfo=UTC)
    hebrew, arabic = by_id["113555000000000006"], by_id["113555000000000004"]
    assert hebrew.text == "הבנק #Aurelia חסם לי את הכרטיס שוב 🙄💳" and hebrew.language_hint == "he"
    assert hebrew.author_handle == "dana@tooot.il"  # a remote account keeps its own domain
    assert arabic.text == "بنك أوريليا لا يرد على الشكاوى منذ أسبوع 🏦" and arabic.author_name == "سلمى"
    media = by_id["113555000000000003"]
    assert media.text == "Screenshot: Aurelia Bank app shows error 503 at login"
    assert media.author_name == "lee@social.example"  # no display name: the handle stands in
    warned = by_id["113555000000000002"]
    assert warned.text == "money talk\n\nAurelia's new savings rate is actually decent. Switching my ISA."
    assert warned.created_at == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # +01:00 in the payload


def test_deleted_or_incomplete_statuses_are_rejected_raw_never_a_crash() -> None:
    src = build_polled_source(_cfg("https://mastodon.example", hashtags=["aurelia"]))
    raw = json.loads((FIXTURES / "mastodon/tag_aurelia_broken.json").read_text())
    parsed = src.parse({"statuses": raw, "fetched_at": NOW})
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        ("113556000000000009", "mastodon.example: status 113556000000000009 has no text and no media"),
        (None, "mastodon.example: status without an id"),
    ]
    assert parsed.rejected[1].raw == raw[1]
    (kept,) = parsed.posts  # no account and an unreadable date: kept, with the fetch time
    assert (kept.external_id, kept.created_at, kept.author_handle, kept.text) == (
        "113556000000000007", NOW, None, "Aurelia branch closed early today")


def test_a_10000_character_post_is_stored_whole(db: Database, settings: Settings, replay: ReplayServer) -> None:
    long_text = "Aurelia Bank " + "é" * 10_000
    replay.route("/api/v1/timelines/tag/aurelia", Reply.json([_status(1, long_text)]))
    report = poll(db, settings, _cfg(replay.url, hashtags=["aurelia"]))
    assert (report.stored, report.error) == (1, None)
    assert _stored(db)[str(113_560_000_000_000_001)].text == long_text


@pytest.mark.parametrize("link", [False, True], ids=["no-link-header", "link-header"])
def test_min_id_pages_forward_without_gaps_after_a_burst(
    db: Database, settings: Settings, replay: ReplayServer, link: bool
) -> None:
    instance = Instance([_status(n) for n in range(1, 4)], link=link)
    replay.route("/api/v1/timelines/tag/Aurelia", instance.timeline)  # the tag as configured, without '#'
    cfg = _cfg(replay.url, hashtags=["#Aurelia"], limit=40)
    first = poll(db, settings, cfg)
    assert (first.stored, first.pages) == (3, 1)
    instance.statuses += [_status(n) for n in range(4, 99)]  # 95 statuses arrive between two runs
    second = poll(db, settings, cfg)
    assert (second.stored, second.pages, second.error) == (95, 3, None)
    sent = [(r.arg("limit"), r.arg("min_id"), r.arg("since_id")) for r in replay.hits("/api/v1/timelines/tag/Aurelia")]
    assert sent == [("40", None, None), ("40", "113560000000000003", None), ("40", "113560000000000043", None),
                    ("40", "113560000000000083", None)]
    assert sorted(_stored(db)) == sorted(str(113_560_000_000_000_000 + n) for n in range(1, 99))
    assert not replay.hits("/elsewhere")
    assert _cursor(db) == {"last": {"tag:aurelia": "113560000000000098"}, "todo": []}


def test_cursor_resumes_after_a_stop_in_the_middle_of_a_catch_up(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    instance = Instance([_status(1)])
    stop = threading.Event()

    def stop_after_serving(req: Request) -> Reply:
        reply = instance.timeline(req)
        if req.arg("min_id"):
            stop.set()  # the collector is told to shut down while it holds the first catch-up page
        return reply

    replay.route("/api/v1/timelines/tag/aurelia", stop_after_serving)
    cfg = _cfg(replay.url, hashtags=["aurelia"], limit=10)
    poll(db, settings, cfg)
    instance.statuses += [_status(n) for n in range(2, 26)]
    stopped = poll(db, settings, cfg, stop=stop)
    assert (stopped.stored, stopped.pages) == (10, 1)
    assert _cursor(db)["last"] == {"tag:aurelia": "113560000000000011"}
    resumed = poll(db, settings, cfg)  # a new process: the source is built again from the stored cursor
    assert (resumed.stored, resumed.pages) == (14, 2)
    assert [r.arg("min_id") for r in replay.hits("/api/v1/timelines/tag/aurelia")][-2:] == [
        "113560000000000011", "113560000000000021"]
    assert len(_stored(db)) == 25


def test_several_hashtags_and_a_search_each_keep_their_own_place(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    aurelia, bank = Instance([_status(1), _status(2)]), Instance([_status(10)])
    found = Instance([_status(n, f"Aurelia Bank search hit {n}") for n in range(20, 23)])
    replay.route("/api/v1/timelines/tag/aurelia", aurelia.timeline)
    replay.route("/api/v1/timelines/tag/AureliaBank", bank.timeline)
    replay.route("/api/v2/search", found.search)
    cfg = _cfg(replay.url, token="tok-123", hashtags=["aurelia", "AureliaBank"], query='"Aurelia Bank"', limit=2)
    first = poll(db, settings, cfg)
    assert (first.stored, first.pages) == (5, 3)  # the first run takes each timeline's newest page
    assert _cursor(db)["last"] == {"tag:aurelia": "113560000000000002", "tag:aureliabank": "113560000000000010",
                                   'search:"Aurelia Bank"': "113560000000000022"}
    aurelia.statuses.append(_status(3))
    found.statuses += [_status(n, f"Aurelia Bank search hit {n}") for n in range(23, 28)]  # 5 new: 3 pages of 2
    second = poll(db, settings, cfg)
    assert (second.stored, second.error) == (6, None)
    assert replay.hits("/api/v1/timelines/tag/aurelia")[-1].arg("min_id") == "113560000000000002"
    assert replay.hits("/api/v1/timelines/tag/AureliaBank")[-1].arg("min_id") == "113560000000000010"
    searches = [(r.arg("q"), r.arg("type"), r.arg("min_id"), r.arg("max_id")) for r in replay.hits("/api/v2/search")]
    assert searches == [('"Aurelia Bank"', "statuses", None, None),
                        ('"Aurelia Bank"', "statuses", "113560000000000022", None),
                        ('"Aurelia Bank"', "statuses", "113560000000000022", "113560000000000026"),
                        ('"Aurelia Bank"', "statuses", "113560000000000022", "113560000000000024")]
    assert _cursor(db)['last']['search:"Aurelia Bank"'] == "113560000000000027" and "sweep" not in _cursor(db)
    assert len(_stored(db)) == 11
    for req in replay.requests:  # the token travels as a header, never in a URL
        assert req.headers["authorization"] == "Bearer tok-123" and "tok-123" not in json.dumps(req.query)


def test_an_exhausted_rate_limit_stops_paging_until_the_next_run(replay: ReplayServer) -> None:
    replay.route("/api/v1/timelines/tag/a", Reply.json([_status(1)], headers={"X-RateLimit-Remaining": "0"}))
    src = build_polled_source(_cfg(replay.url, hashtags=["a", "b"]))
    page = src.fetch(None, NOW)
    assert not page.has_more and json.loads(page.next_cursor or "")["todo"] == ["tag:b"]
    replay.route("/api/v1/timelines/tag/b", Reply.json([]))
    assert not src.fetch(page.next_cursor, NOW).has_more
    assert [r.path for r in replay.requests] == ["/api/v1/timelines/tag/a", "/api/v1/timelines/tag/b"]


def test_a_search_refused_without_token_is_a_permanent_error_naming_no_query(replay: ReplayServer) -> None:
    replay.route("/api/v2/search", Reply.json({"error": "The access token is invalid"}, status=401))
    with pytest.raises(CollectorError) as caught:
        build_polled_source(_cfg(replay.url, query="secret plans", retries=0)).fetch(None, NOW)
    assert caught.value.permanent and "HTTP 401" in caught.value.message and "secret" not in caught.value.message


def test_a_body_that_is_not_a_list_of_statuses_fails_the_poll(replay: ReplayServer) -> None:
    replay.route("/api/v1/timelines/tag/a", Reply.json({"error": "Record not found"}))
    with pytest.raises(CollectorError, match="expected a list of statuses, got dict"):
        build_polled_source(_cfg(replay.url, hashtags=["a"])).fetch(None, NOW)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"instance": "mastodon.example", "hashtags": ["a"]}, "instance: expected an http(s) URL"),
        ({"instance": "https://m.example"}, "give hashtags, a query, or both"),
        ({"instance": "https://m.example", "hashtags": ["#"]}, "hashtags: expected a list of hashtags"),
        ({"instance": "https://m.example", "query": "a", "limit": 41},
         "limit: Input should be less than or equal to 40, got 41"),
    ],
)
def test_bad_options_fail_at_start_naming_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(CollectorError, match=re.escape(message)) as caught:
        build_polled_source(SourceConfig("masto", "mastodon", 60, True, options))
    assert caught.value.permanent



def _one(status: dict[str, Any], instance: str = "https://mastodon.example") -> Any:
    parsed = build_polled_source(_cfg(instance, hashtags=["aurelia"])).parse({"statuses": [status], "fetched_at": NOW})
    assert parsed.rejected == []
    return parsed.posts[0]


def test_links_are_the_contents_and_the_cards_never_mentions_hashtags_or_own_profile_pages() -> None:
    status = _status(1)
    status["url"] = "https://tooot.il/@dana/113560000000000001"
    status["content"] = (
        '<p><span class="h-card" translate="no"><a href="https://mastodon.example/@marc" class="u-url mention">'
        '@<span>marc</span></a></span> <a href="https://tooot.il/tags/aurelia" class="mention hashtag" rel="tag">'
        '#<span>Aurelia</span></a> fees went up: <a href="https://aurelia.example/fees" rel="nofollow noopener" '
        'target="_blank"><span class="invisible">https://</span><span class="">aurelia.example/fees</span>'
        '<span class="invisible"></span></a> (see <a href="https://tooot.il/@dana">my profile</a>, '
        '<a href="https://mastodon.example/tags/banks">banks</a>, <a href="mailto:help@aurelia.example">mail</a>, '
        '<a href="https://tooot.il/@dana/113550000000000000">my older post</a>)</p>')
    status["card"] = {"url": "https://news.example/aurelia-fees", "title": "Aurelia raises fees", "description": "",
                      "type": "link"}
    post = _one(status)
    assert post.links == ("https://aurelia.example/fees", "https://tooot.il/@dana/113550000000000000",
                          "https://news.example/aurelia-fees")
    assert post.text.startswith("@marc #Aurelia fees went up: https://aurelia.example/fees (see my profile,")


def test_the_quote_fallback_paragraph_leaves_the_text_and_its_link_stays() -> None:
    status = _status(2)
    status["content"] = ('<p class="quote-inline">RE: <a href="https://social.example/@lee/1"><span class="invisible">'
                         'https://</span><span class="">social.example/@lee/1</span></a></p>'
                         '<p>Aurelia did this to me too</p>')
    post = _one(status)
    assert (post.text, post.links) == ("Aurelia did this to me too", ("https://social.example/@lee/1",))
    # the form other servers send (Akkoma, Misskey): a span at the end of the last paragraph
    status["content"] = ('<p>Aurelia did this to me too<span class="quote-inline"><br/><br/>RE: '
                         '<a href="https://akko.example/notes/9">https://akko.example/notes/9</a></span></p>')
    assert _one(status).text == "Aurelia did this to me too"


def test_a_post_with_only_a_quote_or_a_card_shows_what_it_carries() -> None:
    quoted = _status(3, "Aurelia Bank lost my transfer")
    quoted["account"] = {**quoted["account"], "acct": "lee@social.example"}
    status = _status(4)
    status["content"] = '<p class="quote-inline">RE: <a href="https://social.example/@lee/3">x</a></p>'
    status["quote"] = {"state": "accepted", "quoted_status": quoted}
    assert _one(status).text == "[quote @lee@social.example] Aurelia Bank lost my transfer"
    status["quote"] = {"state": "revoked", "quoted_status": None}  # nothing else to read: the fallback is kept
    assert _one(status).text == "RE: x"
    card_only = _status(5)
    card_only["content"] = ""
    card_only["card"] = {"url": "https://news.example/a", "title": "Aurelia &amp; the regulator",
                         "description": "Fined again", "type": "link"}
    assert (_one(card_only).text, _one(card_only).links) == ("[link] Aurelia & the regulator — Fined again",
                                                             ("https://news.example/a",))


def test_hostile_statuses_are_rejected_one_by_one_and_parse_never_raises() -> None:
    src = build_polled_source(_cfg("https://mastodon.example", hashtags=["aurelia"]))
    good = _status(6, "Aurelia branch reopened")
    far = _status(7, "Aurelia from the year 1")
    far["created_at"] = "0001-01-01T00:00:00+14:00"  # cannot be brought to UTC: dated when fetched
    hostile: list[Any] = [
        {"id": 10**5000, "content": "<p>an id too long to write out</p>"},
        {"id": "8", "content": 5, "media_attachments": "x", "card": [1], "quote": "q", "spoiler_text": 3},
        {"id": "9", "content": "<p><a href='http://[::1'>broken</a> <p class=quote-inline>RE: <a", "card": {"url": 1}},
        {"id": "10", "content": "", "media_attachments": [{"type": 3, "description": {"a": 1}}]},
        {"reblog": {"id": "11", "content": "<p>boosted</p>", "account": [], "url": 7}},
        None, [], "status",
    ]
    parsed = src.parse({"statuses": [good, far, *hostile], "fetched_at": NOW})
    kept = {p.external_id: p for p in parsed.posts}
    assert kept[good["id"]].text == "Aurelia branch reopened"
    assert kept[far["id"]].created_at == NOW
    assert (kept["9"].text, kept["9"].links) == ("broken", ())
    assert kept["10"].text == "[media]" and kept["11"].url is None
    assert [r.external_id for r in parsed.rejected] == [None, "8", None, None, None]
    assert "could not be read (ValueError)" in parsed.rejected[0].reason
    assert parsed.rejected[0].raw is hostile[0]
    for payload in (None, [], {"statuses": "x"}, {"statuses": [good]}):  # not even a page: nothing, or the fetch time
        src.parse(payload)
