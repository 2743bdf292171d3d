"""The X connector against a local recent-search server, into a real database.

Fixtures follow the X API v2 documentation: the GET /2/tweets/search/recent response
(docs.x.com/x-api/posts/recent-search: `data`, `includes.users`, `errors` as problem objects,
`meta.newest_id/oldest_id/result_count/next_token`, no `data` when nothing matched), the
Post object's `entities.urls[].expanded_url` and `note_tweet` for long posts, the
pagination guide (docs.x.com/x-api/posts/search/integrate/paginate: the first page's
`newest_id` is the next poll's `since_id`) and the rate-limit headers
(x-rate-limit-limit / -remaining / -reset, the last in epoch seconds).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from collectors.sources import build_polled_source
from collectors.types import CollectorError
from config.settings import Secret, Settings, SourceConfig
from models.db import Database
from tests.kit import poll, source_row, stored_ids
from tests.replay import FIXTURES, ReplayServer, Reply

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PATH = "/2/tweets/search/recent"
QUERY = '"Aurelia Bank" OR @AureliaBank -is:retweet'
TOKEN = "AAAAAAAAAAAAAAAAAAAAAtest%2Fbearer"


def _page(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / "x" / name).read_text(encoding="utf-8")))


def _config(base: str, **options: Any) -> SourceConfig:
    opts = {"query": QUERY, "api_url": base, "retries": 0, **options}
    return SourceConfig("x-search", "x", 60, True, opts, {"bearer_token": Secret(TOKEN)})


def test_bearer_header_next_token_pages_and_since_id_on_the_next_run(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    replay.route(PATH, Reply.file("x/search_page1.json"), Reply.file("x/search_page2.json"),
                 Reply.file("x/search_empty.json"))
    cfg = _config(replay.url, max_results=50)
    report = poll(db, settings, cfg)
    assert (report.stored, report.pages, report.error) == (5, 2, None)
    assert stored_ids(db) == ["1861099000000000001", "1861099000000000002", "1861100000000000001",
                           "1861100000000000002", "1861100000000000003"]
    first, second = replay.hits(PATH)
    for req in (first, second):
        assert req.headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in json.dumps(req.query)
        # referenced_tweets.id: a retweet's original whole, in includes.tweets (its own text is cut at 140)
        assert (req.arg("query"), req.arg("max_results"), req.arg("expansions")) == (
            QUERY, "50", "author_id,referenced_tweets.id")
        assert req.arg("tweet.fields") == ("created_at,lang,author_id,public_metrics,entities,note_tweet,"
                                           "referenced_tweets,edit_history_tweet_ids")
        assert req.arg("user.fields") == "username,name,public_metrics"
        assert req.arg("since_id") is None  # the first sweep reads all X keeps
    assert first.arg("next_token") is None
    assert second.arg("next_token") == "b26v89c19zqg8o3fosbu6t2ehjd0lzy0tdm6flaqf4p6l"
    # the sweep ended: since_id is the FIRST page's newest_id, not the last page's
    assert json.loads(source_row(db, "x-search").cursor or "{}") == {"since_id": "1861100000000000003"}

    again = poll(db, settings, cfg)  # nothing new: meta.result_count 0 and no data key
    assert (again.stored, again.pages, again.error) == (0, 1, None)
    third = replay.hits(PATH)[-1]
    assert (third.arg("since_id"), third.arg("next_token")) == ("1861100000000000003", None)
    assert json.loads(source_row(db, "x-search").cursor or "{}") == {"since_id": "1861100000000000003"}


def test_a_sweep_interrupted_after_page_one_resumes_under_the_same_since_id(replay: ReplayServer) -> None:
    replay.route(PATH, Reply.file("x/search_page1.json"), Reply.file("x/search_page2.json"))
    start = json.dumps({"since_id": "1861000000000000000"})
    page = build_polled_source(_config(replay.url)).fetch(start, NOW)
    assert page.has_more
    assert json.loads(page.next_cursor or "{}") == {
        "since_id": "1861000000000000000", "next_token": "b26v89c19zqg8o3fosbu6t2ehjd0lzy0tdm6flaqf4p6l",
        "newest": "1861100000000000003"}
    # the process dies after storing page 1 with that cursor; a new process resumes from it
    resumed = build_polled_source(_config(replay.url)).fetch(page.next_cursor, NOW)
    last = replay.hits(PATH)[-1]
    assert (last.arg("since_id"), last.arg("next_token")) == ("1861000000000000000",
                                                              "b26v89c19zqg8o3fosbu6t2ehjd0lzy0tdm6flaqf4p6l")
    assert not resumed.has_more
    assert json.loads(resumed.next_cursor or "{}") == {"since_id": "1861100000000000003"}


def test_empty_result_keeps_since_id_and_parses_to_nothing(replay: ReplayServer) -> None:
    replay.route(PATH, Reply.file("x/search_empty.json"))
    src = build_polled_source(_config(replay.url))
    page = src.fetch(json.dumps({"since_id": "1861100000000000003"}), NOW)
    assert (page.has_more, json.loads(page.next_cursor or "{}")) == (False, {"since_id": "1861100000000000003"})
    parsed = src.parse(page.payload)
    assert (parsed.posts, parsed.rejected) == ([], [])
    assert build_polled_source(_config(replay.url)).fetch(None, NOW).next_cursor is None  # nothing ever seen: no cursor


def test_posts_map_text_links_authors_and_partial_errors() -> None:
    parsed = build_polled_source(_config("http://127.0.0.1:1")).parse(_page("search_page1.json"))
    by_id = {p.external_id: p for p in parsed.posts}
    card = by_id["1861100000000000003"]
    assert card.text == ("@AureliaBank my card got declined twice today 😡 status page says all good? "
                         "https://status.aurelia.example/incidents/42")  # t.co replaced by where it leads
    assert card.links == ("https://status.aurelia.example/incidents/42",)
    assert card.created_at == datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    assert (card.network, card.author_handle, card.author_name, card.author_followers, card.language_hint) == (
        "x", "@zoe_lee", "Zoé Lee", 1520, "en")
    assert card.url == "https://x.com/zoe_lee/status/1861100000000000003"
    # the partial error X reports next to the data is kept, not dropped
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        (None, "X partial error: Not Found Error: Could not find user with author_id: [999000111].")
    ]


def test_long_note_tweet_emoji_and_rtl_text_are_kept_whole() -> None:
    parsed = build_polled_source(_config("http://127.0.0.1:1")).parse(_page("search_page1.json"))
    by_id = {p.external_id: p for p in parsed.posts}
    note = by_id["1861100000000000002"]
    full = _page("search_page1.json")["data"][1]["note_tweet"]["text"]
    assert len(full) > 10_000
    assert note.text == full.replace("https://t.co/LoNg0001", "https://blog.moneymatters.example/leaving-aurelia")
    assert "…" not in note.text and "TrUnC8ted" not in note.text  # not the cut-off short text
    assert note.links == ("https://blog.moneymatters.example/leaving-aurelia",)
    assert (note.author_handle, note.author_followers) == ("@moneymatters", 48210)
    rtl = by_id["1861100000000000001"]
    assert rtl.text == "بنك أوريليا أغلق حسابي بدون أي سبب 🏦😞 @AureliaBank" and rtl.language_hint == "ar"


def test_missing_author_in_includes_and_missing_fields() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    orphan = {p.external_id: p for p in src.parse(_page("search_page1.json")).posts}["1861100000000000001"]
    assert (orphan.author_handle, orphan.author_name, orphan.author_followers) == (None, None, None)
    assert orphan.url == "https://x.com/i/web/status/1861100000000000001"
    page2 = src.parse(_page("search_page2.json")).posts
    assert [p.language_hint for p in page2] == [None, "fr"]  # "und" is no language
    payload = {"data": [
        {"id": "1", "text": "bare Aurelia Bank post", "created_at": "2026-11-25T09:00:00Z"},
        {"text": "no id", "created_at": "2026-11-25T09:00:00Z"},
        {"id": "2", "created_at": "2026-11-25T09:00:00Z"},
        {"id": "3", "text": "bad time", "created_at": "25/11/2026"},
        "garbage",
    ], "errors": [{"resource_type": "tweet", "resource_id": "4", "title": "Not Found Error",
                   "detail": "Could not find tweet with ids: [4]."}], "meta": {"result_count": 4}}
    parsed = src.parse(payload)
    (bare,) = parsed.posts
    assert (bare.external_id, bare.text, bare.author_handle, bare.links, bare.language_hint) == (
        "1", "bare Aurelia Bank post", None, (), None)
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        (None, "X post without a numeric id"),
        ("2", "X post 2 has no text"),
        ("3", "X post 3 has no readable created_at"),
        (None, "X post without a numeric id"),
        ("4", "X partial error: Not Found Error: Could not find tweet with ids: [4]."),
    ]


def test_429_with_x_rate_limit_reset_waits_until_that_epoch(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    reset = int(time.time()) + 600
    replay.route(PATH, Reply.json({"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                                  status=429, headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                                                       "x-rate-limit-reset": str(reset)}))
    cfg = _config(replay.url)
    report = poll(db, settings, cfg)
    assert report.error and "rate limited" in report.error and report.stored == 0
    assert source_row(db, "x-search").not_before == datetime.fromtimestamp(reset, UTC).replace(tzinfo=None)
    again = poll(db, settings, cfg)
    assert again.waiting_until is not None and len(replay.hits(PATH)) == 1  # nothing sent before the reset


def test_remaining_zero_on_a_200_stores_the_page_then_stops_until_reset(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    reset = int(time.time()) + 900
    limits = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    replay.route(PATH, Reply.file("x/search_page1.json", headers=limits), Reply.file("x/search_page2.json"))
    cfg = _config(replay.url)
    report = poll(db, settings, cfg)
    assert report.stored == 3 and len(replay.hits(PATH)) == 1
    assert report.error is None  # a used-up window is a wait, not a failure
    row = source_row(db, "x-search")
    assert row.consecutive_failures == 0 and row.last_ok_at is not None
    assert row.not_before == datetime.fromtimestamp(reset, UTC).replace(tzinfo=None)
    assert json.loads(row.cursor or "{}")["next_token"] == "b26v89c19zqg8o3fosbu6t2ehjd0lzy0tdm6flaqf4p6l"
    assert poll(db, settings, cfg).waiting_until is not None and len(replay.hits(PATH)) == 1


def test_a_since_id_older_than_seven_days_restarts_the_sweep(replay: ReplayServer) -> None:
    refusal = {"errors": [{"parameters": {"since_id": ["1"]},
                           "message": "Invalid 'since_id':'1'. 'since_id' must be a tweet id created after "
                                      "2026-11-18T10:00Z."}],
               "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
               "type": "https://api.twitter.com/2/problems/invalid-request"}
    replay.route(PATH, Reply.json(refusal, status=400), Reply.file("x/search_page2.json"))
    page = build_polled_source(_config(replay.url)).fetch(json.dumps({"since_id": "1"}), NOW)
    assert [h.arg("since_id") for h in replay.hits(PATH)] == ["1", None]
    assert json.loads(page.next_cursor or "{}") == {"since_id": "1861099000000000002"}

    replay.route(PATH, Reply.json({**refusal, "errors": [{"message": "There were errors processing your request: "
                                                                     "Ambiguous use of and as a keyword"}]},
                                  status=400))
    with pytest.raises(CollectorError) as caught:
        build_polled_source(_config(replay.url)).fetch(None, NOW)
    assert caught.value.permanent and "Ambiguous use of and" in caught.value.message
    assert TOKEN not in caught.value.message


@pytest.mark.parametrize(
    ("options", "secret", "message"),
    [
        ({"query": " "}, TOKEN, "query: expected an X search query"),
        ({"max_results": 5}, TOKEN, "max_results: Input should be greater than or equal to 10, got 5"),
        ({"api_url": "api.x.com"}, TOKEN, "api_url: expected an http(s) URL"),
        ({}, "", "bearer_token: required (bearer_token_env: VARIABLE or bearer_token_file: PATH)"),
    ],
)
def test_bad_options_fail_at_start_naming_the_key(options: dict[str, Any], secret: str, message: str) -> None:
    cfg = SourceConfig("x", "x", 60, True, {"query": QUERY, **options}, {"bearer_token": Secret(secret)})
    with pytest.raises(CollectorError) as caught:
        build_polled_source(cfg)
    assert caught.value.permanent and message in caught.value.message


def _tweet(tweet_id: str, text: str, **fields: Any) -> dict[str, Any]:
    return {"id": tweet_id, "edit_history_tweet_ids": [tweet_id], "author_id": "2244994945",
            "created_at": "2026-11-25T09:00:00.000Z", "lang": "en", "text": text, **fields}


def _search(*tweets: Any, **includes: Any) -> dict[str, Any]:
    users = [{"id": "2244994945", "name": "Zoé Lee", "username": "zoe_lee",
              "public_metrics": {"followers_count": 1520}}]
    return {"data": list(tweets), "includes": {"users": users, **includes},
            "meta": {"result_count": len(tweets)}}


def test_html_entities_are_undone_once() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    (post,) = src.parse(_search(_tweet("10", "Debt &amp; owned by @AureliaBank &lt;3 &gt;:( I typed &amp;lt; "
                                             "&quot;not this&quot;"))).posts
    assert post.text == 'Debt & owned by @AureliaBank <3 >:( I typed &lt; &quot;not this&quot;'


def test_a_retweet_reads_the_whole_original_behind_its_rt_prefix() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    whole = ("Aurelia Bank charged me three overdraft fees for one late payment &amp; support hung up twice. "
             "Filing with the regulator today, details: https://t.co/Blog0001")
    original = {"id": "20", "edit_history_tweet_ids": ["20"], "author_id": "1500000000000000001",
                "created_at": "2026-11-25T08:00:00.000Z", "text": whole,
                "entities": {"urls": [{"url": "https://t.co/Blog0001", "expanded_url": "https://blog.example/fees",
                                       "display_url": "blog.example/fees"}]}}
    long_original = {"id": "30", "edit_history_tweet_ids": ["30"], "created_at": "2026-11-25T08:00:00.000Z",
                     "text": "Short cut version… https://t.co/Cut", "note_tweet": {"text": "The long note " * 30}}
    retweet = _tweet("21", "RT @moneymatters: Aurelia Bank charged me three overdraft fees for one late payment "
                           "&amp; support hung up twice. Filing with t…",
                     referenced_tweets=[{"type": "retweeted", "id": "20"}])
    long_retweet = _tweet("31", "RT @longwriter: Short cut version…",
                          referenced_tweets=[{"type": "retweeted", "id": "30"}])
    missing = _tweet("41", "RT @gone: cut short…", referenced_tweets=[{"type": "retweeted", "id": "40"}])
    parsed = src.parse(_search(retweet, long_retweet, missing, tweets=[original, long_original]))
    rt, long_rt, kept = parsed.posts
    assert rt.text == ("RT @moneymatters: Aurelia Bank charged me three overdraft fees for one late payment & "
                       "support hung up twice. Filing with the regulator today, details: https://blog.example/fees")
    assert rt.links == ("https://blog.example/fees",) and rt.author_handle == "@zoe_lee"
    assert long_rt.text == "RT @longwriter: " + ("The long note " * 30).strip()
    assert kept.text == "RT @gone: cut short…"  # the original is not in includes: the cut text is all there is


def test_photos_and_videos_are_not_outbound_links() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    text = "Queue at the Aurelia branch https://t.co/Art1cle01 https://t.co/Ph0to0001 https://t.co/Vid0000001"
    urls = [
        {"url": "https://t.co/Art1cle01", "expanded_url": "https://news.example/queues", "display_url": "news.example"},
        {"url": "https://t.co/Ph0to0001", "expanded_url": "https://x.com/zoe_lee/status/50/photo/1",
         "display_url": "pic.x.com/Ph0to0001", "media_key": "3_1861100000000000050"},
        {"url": "https://t.co/Ph0to0001", "expanded_url": "https://x.com/zoe_lee/status/50/photo/1",
         "display_url": "pic.x.com/Ph0to0001", "media_key": "3_1861100000000000051"},
        {"url": "https://t.co/Vid0000001", "expanded_url": "https://twitter.com/zoe_lee/status/50/video/1",
         "display_url": "pic.twitter.com/Vid0000001"},
    ]
    (post,) = src.parse(_search(_tweet("50", text, entities={"urls": urls}))).posts
    assert post.links == ("https://news.example/queues",)
    assert post.text == "Queue at the Aurelia branch https://news.example/queues"  # media t.co dropped
    photo = {"url": "https://t.co/Ph0to0002", "expanded_url": "https://x.com/zoe_lee/status/51/photo/1",
             "display_url": "pic.x.com/Ph0to0002", "media_key": "3_1861100000000000052"}
    (alone,) = src.parse(_search(_tweet("51", "https://t.co/Ph0to0002", entities={"urls": [photo]}))).posts
    assert (alone.text, alone.links) == ("https://x.com/zoe_lee/status/51/photo/1", ())  # never an empty text


def test_an_edit_chain_is_one_post_in_a_page_and_across_polls(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    v1 = _tweet("60", "Aurelia Bank app donw again")
    v2 = {**_tweet("61", "Aurelia Bank app down again"), "edit_history_tweet_ids": ["60", "61"]}
    v3 = {**_tweet("62", "Aurelia Bank app down again (3rd time)"), "edit_history_tweet_ids": ["60", "61", "62"]}
    for page in ([v3, v2, v1], [v1, v3, v2]):  # newest first, as X sorts, or not
        (post,) = src.parse(_search(*page)).posts
        assert (post.external_id, post.text, post.url) == (
            "60", "Aurelia Bank app down again (3rd time)", "https://x.com/zoe_lee/status/62")

    replay.route(PATH, Reply.json({**_search(v1), "meta": {"newest_id": "60", "result_count": 1}}),
                 Reply.json({**_search(v2), "meta": {"newest_id": "61", "result_count": 1}}))
    cfg = _config(replay.url)
    assert poll(db, settings, cfg).stored == 1
    again = poll(db, settings, cfg)  # the edit comes back with a new id: already stored
    assert (again.stored, again.skipped) == (0, 1)
    assert stored_ids(db) == ["60"]


def test_parse_never_raises_a_hostile_post_is_rejected_and_the_rest_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from collectors.sources import x

    src = build_polled_source(_config("http://127.0.0.1:1"))
    for payload in (None, "text", [], 42):
        parsed = src.parse(payload)
        assert parsed.posts == [] and [r.reason for r in parsed.rejected] == ["unexpected answer from X: not an object"]
    assert src.parse({"data": 5, "includes": [], "errors": "x"}).posts == []
    hostile = [
        _tweet("1" * 30, "too long an id"),
        _tweet("²", "not a number"),
        _tweet("70", "bad time", created_at="9999-12-31T23:59:59-14:00"),
        _tweet("71", "odd fields", entities={"urls": "x"}, note_tweet=[], referenced_tweets={"a": 1},
               edit_history_tweet_ids=["99", 1], author_id=["x"], lang=5),
        _tweet("72", "odd urls", entities={"urls": [None, {"url": 5, "expanded_url": ["a"]}, {"media_key": 1}]},
               edit_history_tweet_ids="60"),
        _tweet("73", "Aurelia Bank is fine"),
    ]
    parsed = src.parse(_search(*hostile, tweets="x"))
    assert [p.external_id for p in parsed.posts] == ["71", "72", "73"]
    assert [r.external_id for r in parsed.rejected] == [None, None, "70"]

    real = x._full_text
    monkeypatch.setattr(x, "_full_text", lambda t: real(t) if t.get("text") != "boom" else 1 / 0)
    parsed = src.parse(_search(_tweet("80", "boom"), _tweet("81", "fine")))
    assert [p.external_id for p in parsed.posts] == ["81"]
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        ("80", "X post could not be read (ZeroDivisionError)")]
