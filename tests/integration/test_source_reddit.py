"""The Reddit connector against a local OAuth + listing server, into a real database.

Fixtures follow Reddit's documented formats: the Listing / `t3` "thing" envelope of the API
reference (https://www.reddit.com/dev/api, "listings": `after`, `before`, `children`), the
application-only OAuth token answer of the OAuth2 wiki (github.com/reddit-archive/reddit/wiki/OAuth2:
`access_token`, `token_type`, `expires_in`, `scope`) and the rate-limit headers announced by
Reddit's admins (X-Ratelimit-Used / -Remaining / -Reset, the last in seconds).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from collectors.http import RateLimited
from collectors.sources import build_polled_source
from collectors.sources.reddit import TOKENS
from collectors.types import CollectorError
from config.settings import Secret, Settings, SourceConfig
from models.db import Database
from tests.kit import poll, source_row, stored_ids
from tests.replay import FIXTURES, ReplayServer, Reply, Request

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SECRETS = {"client_id": Secret("my-client"), "client_secret": Secret("s3cret-value")}
UA = "server:com.example.vigie:v1 (by /u/vigie_test)"


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    TOKENS.clear()  # tokens are kept per process: each test starts without one
    yield
    TOKENS.clear()


def _page(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / "reddit" / name).read_text(encoding="utf-8")))


def _config(base: str, **options: Any) -> SourceConfig:
    opts = {"query": "Aurelia Bank", "auth_url": f"{base}/api/v1/access_token", "api_url": base, "user_agent": UA,
            "retries": 0, **options}
    return SourceConfig("reddit", "reddit", 60, True, opts, SECRETS)


def _token_route(server: ReplayServer, *tokens: str) -> None:
    replies = [Reply.json({"access_token": t, "token_type": "bearer", "expires_in": 86400, "scope": "*"})
               for t in tokens] or [Reply.file("reddit/token.json")]
    server.route("/api/v1/access_token", *replies)


def test_token_request_bearer_user_agent_and_after_pagination(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    _token_route(replay)
    replay.route("/search", Reply.file("reddit/search_page1.json"), Reply.file("reddit/search_page2.json"))
    report = poll(db, settings, _config(replay.url))
    assert (report.stored, report.pages, report.error) == (4, 2, None)
    assert stored_ids(db) == ["t3_1h2k3cd", "t3_1h2k5ab", "t3_1h2k7xw", "t3_1h2k9zq"]

    (token,) = replay.hits("/api/v1/access_token")
    assert token.method == "POST"
    assert token.headers["authorization"] == "Basic " + base64.b64encode(b"my-client:s3cret-value").decode()
    assert parse_qs(token.body.decode()) == {"grant_type": ["client_credentials"]}
    assert token.headers["user-agent"] == UA
    first, second = replay.hits("/search")
    bearer = "bearer " + json.loads((FIXTURES / "reddit/token.json").read_text())["access_token"]
    for req in (first, second):
        assert req.headers["authorization"] == bearer and req.headers["user-agent"] == UA
        assert "s3cret" not in json.dumps(req.query)
        assert (req.arg("q"), req.arg("sort"), req.arg("type"), req.arg("limit"), req.arg("raw_json")) == (
            "Aurelia Bank", "new", "link", "100", "1")
    assert first.arg("after") is None and second.arg("after") == "t3_1h2k5ab"
    # the sweep is over: the mark is the newest post, no sweep in progress
    assert json.loads(source_row(db, "reddit").cursor or "{}") == {
        "seen": {"name": "t3_1h2k9zq", "created": 1795594500.0}}


def test_high_water_mark_over_two_runs_pages_back_to_the_previous_newest_post(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    """A listing served like Reddit's: newest first, `limit` per page, `after` = last fullname of the page."""
    template = _page("search_page1.json")["data"]["children"][0]
    posts: list[dict[str, Any]] = []

    def add(n: int) -> None:
        child = copy.deepcopy(template)
        child["data"].update(name=f"t3_p{n}", id=f"p{n}", title=f"Aurelia Bank post {n}",
                             created_utc=1795580000.0 + n * 60, permalink=f"/r/banking/comments/p{n}/post/")
        posts.insert(0, child)

    def listing(req: Request) -> Reply:
        names = [p["data"]["name"] for p in posts]
        start = names.index(req.arg("after") or "") + 1 if req.arg("after") else 0
        limit = int(req.arg("limit") or 25)
        chunk = posts[start : start + limit]
        after = chunk[-1]["data"]["name"] if start + limit < len(posts) else None
        return Reply.json({"kind": "Listing", "data": {"after": after, "before": None, "children": chunk}})

    _token_route(replay)
    replay.route("/search", listing)
    for n in range(1, 6):
        add(n)
    cfg = _config(replay.url, limit=2)
    first = poll(db, settings, cfg)
    assert (first.stored, first.pages) == (5, 3)  # p5 p4 | p3 p2 | p1 (the listing ends)
    assert json.loads(source_row(db, "reddit").cursor or "{}")["seen"]["name"] == "t3_p5"

    for n in range(6, 9):
        add(n)  # three new posts since the first run
    before = len(replay.hits("/search"))
    second = poll(db, settings, cfg)
    assert (second.stored, second.skipped, second.pages) == (3, 0, 2)  # p8 p7 | p6 (p5 is the mark: stop)
    hits = replay.hits("/search")[before:]
    assert [h.arg("after") for h in hits] == [None, "t3_p7"]
    assert json.loads(source_row(db, "reddit").cursor or "{}") == {"seen": {"name": "t3_p8", "created": 1795580480.0}}
    assert stored_ids(db) == sorted(f"t3_p{n}" for n in range(1, 9))


def test_an_interrupted_sweep_resumes_with_after_and_keeps_the_old_mark(replay: ReplayServer) -> None:
    _token_route(replay)
    replay.route("/search", Reply.file("reddit/search_page1.json"), Reply.file("reddit/search_page2.json"))
    old_mark = json.dumps({"seen": {"name": "t3_0ld", "created": 1795500000.0}})
    page = build_polled_source(_config(replay.url)).fetch(old_mark, NOW)
    assert page.has_more
    cursor = json.loads(page.next_cursor or "{}")
    assert cursor == {"seen": {"name": "t3_0ld", "created": 1795500000.0}, "after": "t3_1h2k5ab",
                      "top": {"name": "t3_1h2k9zq", "created": 1795594500.0}}
    # the process dies here, after storing page 1 and its cursor; a new one resumes from the cursor
    resumed = build_polled_source(_config(replay.url)).fetch(page.next_cursor, NOW)
    assert replay.hits("/search")[-1].arg("after") == "t3_1h2k5ab"
    assert not resumed.has_more
    assert json.loads(resumed.next_cursor or "{}") == {"seen": {"name": "t3_1h2k9zq", "created": 1795594500.0}}


def test_subreddits_with_and_without_query(replay: ReplayServer) -> None:
    _token_route(replay)
    replay.route("/r/personalfinance+banking/search", Reply.file("reddit/search_page2.json"))
    replay.route("/r/personalfinance+banking/new", Reply.file("reddit/search_page2.json"))
    subs = ["personalfinance", "banking"]
    build_polled_source(_config(replay.url, subreddits=subs)).fetch(None, NOW)
    (search,) = replay.hits("/r/personalfinance+banking/search")
    assert (search.arg("q"), search.arg("restrict_sr"), search.arg("sort")) == ("Aurelia Bank", "1", "new")
    cfg = _config(replay.url, subreddits=subs)
    cfg = replace(cfg, options={k: v for k, v in cfg.options.items() if k != "query"})
    build_polled_source(cfg).fetch(None, NOW)
    (new,) = replay.hits("/r/personalfinance+banking/new")
    assert new.arg("q") is None and new.arg("restrict_sr") is None and new.arg("limit") == "100"
    assert len(replay.hits("/api/v1/access_token")) == 1  # the token is reused while it is valid


def test_posts_map_to_text_time_author_url_and_link() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    parsed = src.parse(_page("search_page1.json"))
    by_id = {p.external_id: p for p in parsed.posts}
    own = by_id["t3_1h2k9zq"]
    assert own.text.startswith("Aurelia Bank app down again 😡 can't pay rent\n\nThird time this month")
    assert '"service unavailable" & my rent is due <today>' in own.text  # raw_json: no &amp; entities
    assert own.created_at == datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    assert own.url == "https://www.reddit.com/r/personalfinance/comments/1h2k9zq/aurelia_bank_app_down_again/"
    assert (own.network, own.author_handle, own.links, own.language_hint) == ("reddit", "zoe_lee", (), None)
    link = by_id["t3_1h2k7xw"]
    assert link.text == ("Aurelia Bank fined by the CFPB over overdraft fees\n\n"
                         "https://news.example/2026/11/aurelia-cfpb-fine?utm_source=reddit")
    assert link.links == ("https://news.example/2026/11/aurelia-cfpb-fine?utm_source=reddit",)


def test_removed_and_deleted_posts_keep_no_removed_text() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    removed = {p.external_id: p for p in src.parse(_page("search_page1.json")).posts}["t3_1h2k5ab"]
    assert removed.text == "Aurelia Bank branch manager is a scammer, here is his number"  # the title stays public
    assert removed.author_handle is None and "[removed]" not in removed.text
    parsed = src.parse(_page("search_page2.json"))
    assert [p.external_id for p in parsed.posts] == ["t3_1h2k3cd"]
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        ("t3_1h2k1ef", "Reddit post 't3_1h2k1ef' has no text left (removed or deleted)")
    ]


def test_emoji_rtl_and_a_10k_character_selftext_are_kept_whole() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    listing = _page("search_page2.json")
    body = "بنك أوريليا 🏦 " + "x" * 10_000
    listing["data"]["children"][0]["data"]["selftext"] = body
    (post,) = src.parse(listing).posts
    assert post.text == f"بنك أوريليا أغلق حسابي بدون سبب\n\n{body}"
    assert post.author_handle == "layla_k"


def test_missing_fields_reject_the_item_or_leave_the_field_empty() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    bare = {"kind": "t3", "data": {"name": "t3_bare", "created_utc": 1795594500, "title": "Aurelia Bank?"}}
    listing = {"kind": "Listing", "data": {"after": None, "children": [
        bare,
        {"kind": "t3", "data": {"created_utc": 1795594500, "title": "no fullname"}},
        {"kind": "t3", "data": {"name": "t3_notime", "title": "no time"}},
        {"kind": "t3", "data": {"name": "t3_badtime", "title": "bad time", "created_utc": "yesterday"}},
        {"kind": "t1", "data": {"name": "t1_comment", "body": "a comment"}},
        "garbage",
    ]}}
    parsed = src.parse(listing)
    (post,) = parsed.posts
    assert (post.external_id, post.text, post.url, post.author_handle, post.links) == (
        "t3_bare", "Aurelia Bank?", None, None, ())
    assert [r.reason for r in parsed.rejected] == [
        "Reddit post without a fullname (t3_…)",
        "Reddit post 't3_notime' has no readable created_utc",
        "Reddit post 't3_badtime' has no readable created_utc",
        "Reddit listing item is not a post (kind 't1')",
        "Reddit listing item is not a post (kind 'str')",
    ]


def test_ratelimit_remaining_zero_stores_the_page_then_stops_until_reset(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    _token_route(replay)
    limits = {"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "300"}
    replay.route("/search", Reply.file("reddit/search_page1.json", headers=limits),
                 Reply.file("reddit/search_page2.json"))
    cfg = _config(replay.url)
    report = poll(db, settings, cfg)
    assert report.stored == 3 and len(replay.hits("/search")) == 1  # page 1 stored, page 2 not asked for
    assert report.error is None and report.retry_at is not None  # a used-up window is a wait, not a failure
    row = source_row(db, "reddit")
    assert row.consecutive_failures == 0 and row.last_ok_at is not None and row.not_before is not None
    wait = row.not_before - datetime.now(UTC).replace(tzinfo=None)
    assert timedelta(seconds=290) < wait <= timedelta(seconds=300)
    assert json.loads(row.cursor or "{}")["after"] == "t3_1h2k5ab"  # the sweep resumes there after the wait
    again = poll(db, settings, cfg)
    assert again.waiting_until is not None and len(replay.hits("/search")) == 1


def test_429_waits_for_the_reddit_reset_header(replay: ReplayServer) -> None:
    _token_route(replay)
    replay.route("/search", Reply(429, b'{"message": "Too Many Requests", "error": 429}',
                                  headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "420"}))
    with pytest.raises(RateLimited) as caught:
        build_polled_source(_config(replay.url)).fetch(None, NOW)
    assert caught.value.retry_at == NOW + timedelta(seconds=420)


def test_expired_token_is_renewed_once_then_a_second_401_is_permanent(replay: ReplayServer) -> None:
    _token_route(replay, "old-token", "new-token")

    def listing(req: Request) -> Reply:
        if req.headers.get("authorization") != "bearer new-token":
            return Reply.json({"message": "Unauthorized", "error": 401}, status=401)
        return Reply.file("reddit/search_page2.json")

    replay.route("/search", listing)
    page = build_polled_source(_config(replay.url)).fetch(None, NOW)
    assert len(page.payload["data"]["children"]) == 2
    assert [h.headers["authorization"] for h in replay.hits("/search")] == ["bearer old-token", "bearer new-token"]
    assert len(replay.hits("/api/v1/access_token")) == 2

    TOKENS.clear()
    replay.route("/search", Reply.json({"message": "Unauthorized", "error": 401}, status=401))
    with pytest.raises(CollectorError) as caught:
        build_polled_source(_config(replay.url)).fetch(None, NOW)
    assert caught.value.permanent and "401" in caught.value.message and "s3cret" not in caught.value.message
    assert len(replay.hits("/api/v1/access_token")) == 4  # one fresh token, once: no loop


def test_refused_credentials_fail_permanently_without_showing_them(replay: ReplayServer) -> None:
    replay.route("/api/v1/access_token", Reply.json({"error": "invalid_grant"}))
    with pytest.raises(CollectorError) as caught:
        build_polled_source(_config(replay.url)).fetch(None, NOW)
    assert caught.value.permanent and "invalid_grant" in caught.value.message
    assert "s3cret" not in caught.value.message and "my-client" not in caught.value.message
    assert replay.hits("/search") == []


@pytest.mark.parametrize(
    ("options", "secrets", "message"),
    [
        ({"query": ""}, SECRETS, "query: expected a non-empty search string"),
        ({"query": None, "subreddits": []}, SECRETS, "expected query, subreddits or both"),
        ({"subreddits": ["ok", "not a sub!"]}, SECRETS, "subreddits: expected a list of subreddit names"),
        ({"limit": 101}, SECRETS, "limit: Input should be less than or equal to 100, got 101"),
        ({"api_url": "ftp://x"}, SECRETS, "api_url: expected an http(s) URL"),
        ({}, {"client_id": Secret("id")},
         "client_secret: required (client_secret_env: VARIABLE or client_secret_file: PATH)"),
    ],
)
def test_bad_options_fail_at_start_naming_the_key(options: dict[str, Any], secrets: dict[str, Secret],
                                                  message: str) -> None:
    opts = {k: v for k, v in {"query": "Aurelia", **options}.items() if v is not None}
    with pytest.raises(CollectorError) as caught:
        build_polled_source(SourceConfig("r", "reddit", 60, True, opts, secrets))
    assert caught.value.permanent and message in caught.value.message


def _t3(name: str, **data: Any) -> dict[str, Any]:
    base = {"name": name, "id": name[3:], "created_utc": 1795594500.0, "author": "zoe_lee",
            "permalink": f"/r/banking/comments/{name[3:]}/post/", "is_self": False, "selftext": ""}
    return {"kind": "t3", "data": {**base, **data}}


def _listing(*children: Any) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": None, "before": None, "children": list(children)}}


def test_a_crosspost_keeps_the_originals_link_and_words() -> None:
    """A crosspost is a title and crosspost_parent_list: its own url points at the original's
    Reddit page; the outbound link and the words are the original's."""
    src = build_polled_source(_config("http://127.0.0.1:1"))
    original = {"name": "t3_orig1", "title": "Aurelia Bank quietly doubles its overdraft fee", "is_self": False,
                "selftext": "", "url": "https://news.example/aurelia-fee", "domain": "news.example",
                "url_overridden_by_dest": "https://news.example/aurelia-fee"}
    self_original = {"name": "t3_orig2", "title": "Aurelia Bank froze my account",
                     "is_self": True, "selftext": "Three weeks, no answer from support.",
                     "url": "https://www.reddit.com/r/personalfinance/comments/orig2/frozen/"}
    parsed = src.parse(_listing(
        _t3("t3_xp1", title="Seen on r/news", url="/r/news/comments/orig1/aurelia_bank_quietly_doubles/",
            crosspost_parent="t3_orig1", crosspost_parent_list=[original]),
        _t3("t3_xp2", title="Aurelia Bank froze my account", crosspost_parent="t3_orig2",
            url="/r/personalfinance/comments/orig2/frozen/", crosspost_parent_list=[self_original]),
    ))
    link, words = parsed.posts
    assert link.links == ("https://news.example/aurelia-fee",)
    assert link.text == ("Seen on r/news\n\nAurelia Bank quietly doubles its overdraft fee\n\n"
                         "https://news.example/aurelia-fee")
    assert words.links == ()
    assert words.text == "Aurelia Bank froze my account\n\nThree weeks, no answer from support."  # title once


def test_markdown_links_and_bare_urls_in_self_text_are_links_and_read_as_words() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    body = ("Their [fee schedule](https://aurelia.example/fees?v=2&lang=en) says 0, see "
            "[r/banking](https://www.reddit.com/r/banking/) and https://news.example/aurelia-fees. "
            "Also [Bank (finance)](https://en.wikipedia.org/wiki/Bank_(finance)) and <https://cfpb.example/complaint>")
    (post,) = src.parse(_listing(_t3("t3_md", title="Aurelia fees", is_self=True, selftext=body,
                                     url="https://www.reddit.com/r/banking/comments/md/post/"))).posts
    assert post.links == ("https://aurelia.example/fees?v=2&lang=en", "https://news.example/aurelia-fees",
                          "https://en.wikipedia.org/wiki/Bank_(finance)", "https://cfpb.example/complaint")
    assert post.text == (
        "Aurelia fees\n\nTheir fee schedule (https://aurelia.example/fees?v=2&lang=en) says 0, see r/banking and "
        "https://news.example/aurelia-fees. Also Bank (finance) (https://en.wikipedia.org/wiki/Bank_(finance)) "
        "and <https://cfpb.example/complaint>")


def test_reddit_hosted_media_and_the_post_itself_are_not_outbound_links() -> None:
    src = build_polled_source(_config("http://127.0.0.1:1"))
    parsed = src.parse(_listing(
        _t3("t3_img", title="Aurelia queue", url="https://i.redd.it/q8x1b2c3d4e5.jpeg", post_hint="image",
            url_overridden_by_dest="https://i.redd.it/q8x1b2c3d4e5.jpeg", domain="i.redd.it"),
        _t3("t3_vid", title="Aurelia branch", url="https://v.redd.it/k2j3h4g5f6", is_video=True, domain="v.redd.it",
            media={"reddit_video": {"fallback_url": "https://v.redd.it/k2j3h4g5f6/DASH_720.mp4"}}),
        _t3("t3_gal", title="Aurelia letters", url="https://www.reddit.com/gallery/gal", is_gallery=True,
            url_overridden_by_dest="https://www.reddit.com/gallery/gal", domain="reddit.com"),
        _t3("t3_self", title="Aurelia?", is_self=True, url="https://www.reddit.com/r/banking/comments/self/post/",
            selftext="screenshot: https://preview.redd.it/abc.png?width=640&format=png and https://redd.it/self"),
    ))
    assert [(p.external_id, p.links) for p in parsed.posts] == [
        ("t3_img", ()), ("t3_vid", ()), ("t3_gal", ()), ("t3_self", ())]
    assert [p.text for p in parsed.posts[:3]] == ["Aurelia queue", "Aurelia branch", "Aurelia letters"]


def test_parse_never_raises_a_hostile_post_is_rejected_and_the_rest_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from collectors.sources import reddit_posts

    src = build_polled_source(_config("http://127.0.0.1:1"))
    for payload in (None, "text", [], {"data": None}, {"data": {"children": "abc"}}, 42):
        parsed = src.parse(payload)
        assert parsed.posts == [] and [r.reason for r in parsed.rejected] == [
            "unexpected answer from Reddit: not a Listing"]
    hostile = [
        _t3("t3_h1", title=["list"], selftext={"a": 1}, url=7, crosspost_parent_list="x", author={}),
        _t3("t3_h2", title="inf", created_utc=float("inf")),
        _t3("t3_h3", title="nan", created_utc=float("nan")),
        _t3("t3_h4", title="huge", created_utc=10**400, permalink=["/r/x"]),
        _t3("t3_h5", title="parents", crosspost_parent_list=[None, 1], url_overridden_by_dest=None,
            selftext="[x](https://a.example/(((((((((( [y](" + "(" * 5000),
        _t3("t3_ok", title="Aurelia Bank is fine"),
    ]
    parsed = src.parse(_listing(*hostile))
    assert [p.external_id for p in parsed.posts] == ["t3_h5", "t3_ok"]
    assert [r.external_id for r in parsed.rejected] == ["t3_h1", "t3_h2", "t3_h3", "t3_h4"]

    real = reddit_posts._markdown
    monkeypatch.setattr(reddit_posts, "_markdown", lambda t: real(t) if t != "boom" else 1 / 0)
    parsed = src.parse(_listing(_t3("t3_boom", title="x", selftext="boom"), _t3("t3_ok", title="fine")))
    assert [p.external_id for p in parsed.posts] == ["t3_ok"]
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        ("t3_boom", "Reddit post could not be read (ZeroDivisionError)")]
