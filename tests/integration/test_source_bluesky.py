"""The Bluesky connector against a local XRPC double, into a real database.

Payloads follow the documented lexicons: app.bsky.feed.searchPosts output `{cursor?, hitsTotal?,
posts: [postView]}` (https://docs.bsky.app/docs/api/app-bsky-feed-search-posts, postView and
app.bsky.feed.post record as in app.bsky.feed.defs), com.atproto.server.createSession and
refreshSession outputs (`accessJwt`, `refreshJwt`, `handle`, `did`:
https://docs.bsky.app/docs/api/com-atproto-server-create-session), and XRPC errors
`{"error", "message"}` (400 `ExpiredToken`, 401 `AuthenticationRequired`).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from collectors.sources import build_polled_source
from collectors.sources.bluesky import CREATE_SESSION, REFRESH_SESSION, SEARCH, forget_sessions
from collectors.types import CollectorError
from config.settings import Secret, Settings, SourceConfig
from models.db import Database
from models.tables import Mention
from tests.kit import poll, source_row, stored_ids
from tests.replay import FIXTURES, ReplayServer, Reply, Request

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PASSWORD = "abcd-efgh-ijkl-mnop"
ALICE = "at://did:plc:alice3x7kq2m5n6p7r8s9t0u/app.bsky.feed.post/"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / "bluesky" / name).read_text())


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    forget_sessions()  # sessions are kept per process: each test starts logged out
    yield
    forget_sessions()


def _cfg(base: str, login: bool = True, **options: Any) -> SourceConfig:
    opts = {"service": base, "query": "aurelia", "retry_base_seconds": 0.01, **options}
    if login:
        opts["identifier"] = "listener.bsky.social"
    return SourceConfig("sky", "bluesky", 60, True, opts, {"app_password": Secret(PASSWORD)} if login else {})


def _cursor(db: Database) -> dict[str, Any]:
    return dict(json.loads(source_row(db, "sky").cursor or "{}"))


def _recent() -> timedelta:
    """How far to move the recorded times so that NOW is ten minutes ago (whole minutes, so every
    post, the newest at NOW + 5 min included, is in the past): a first run looks back
    ``backfill_hours`` from the real clock, and the recordings were made on NOW's day."""
    return timedelta(minutes=int((datetime.now(UTC) - NOW).total_seconds() // 60) - 10)


def _at(when: str, shift: timedelta) -> str:
    """A recorded time string moved by ``shift``, in the service's own format."""
    moved = datetime.fromisoformat(when.replace("Z", "+00:00")) + shift
    return moved.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _moved(value: Any, shift: timedelta) -> Any:
    """A recorded payload with every readable createdAt / indexedAt moved by ``shift``."""
    if isinstance(value, list):
        return [_moved(v, shift) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        try:
            out[key] = _at(v, shift) if key in ("createdAt", "indexedAt") and isinstance(v, str) else _moved(v, shift)
        except ValueError:  # an unreadable time stays as recorded
            out[key] = v
    return out


def _page(name: str, shift: timedelta) -> Reply:
    return Reply.json(_moved(_load(name), shift))


def _post(rkey: str, text: str, at: str) -> dict[str, Any]:
    view = copy.deepcopy(_load("search_page1.json")["posts"][0])
    view["uri"] = ALICE + rkey
    view["record"].update(text=text, createdAt=at)
    view["record"].pop("facets")
    view["indexedAt"] = at
    return view


def test_post_views_become_posts_with_rtl_emoji_alt_text_and_web_links() -> None:
    src = build_polled_source(_cfg("https://bsky.example"))
    posts = _load("search_page1.json")["posts"] + _load("search_page2.json")["posts"]
    parsed = src.parse({"posts": posts, "fetched_at": NOW})
    assert parsed.rejected == []
    by_rkey = {p.external_id.rsplit("/", 1)[1]: p for p in parsed.posts}
    first = by_rkey["3lbxq7aurel1"]
    assert first.external_id == ALICE + "3lbxq7aurel1"
    assert first.text == "Aurelia Bank froze my account AGAIN and support just hung up on me 😡🏦 #fail"
    assert first.url == "https://bsky.app/profile/alice.bsky.social/post/3lbxq7aurel1"
    assert (first.author_handle, first.author_name, first.author_followers) == ("alice.bsky.social", "Alice 🌻", None)
    assert (first.created_at, first.language_hint) == (datetime(2026, 11, 25, 9, 50, tzinfo=UTC), "en")
    assert by_rkey["3lbxq6aurel2"].text == "بنك أوريليا أغلق حسابي بدون سبب 😤"
    assert (by_rkey["3lbxq6aurel2"].author_name, by_rkey["3lbxq6aurel2"].language_hint) == ("كريم", "ar")
    hebrew = by_rkey["3lbxq5aurel3"]
    assert (hebrew.text, hebrew.author_name) == ("הבנק Aurelia שוב לא עונה לטלפון 📞", "noa.example.com")
    assert by_rkey["3lbxq4aurel4"].text == "Capture d'écran : l'appli Aurelia Bank affiche « service indisponible »"
    # createdAt a day in the future (a wrong clock): dated when Bluesky indexed it
    assert by_rkey["3lbxq3aurel5"].created_at == datetime(2026, 11, 25, 9, 30, 0, 500_000, tzinfo=UTC)


def test_posts_without_uri_or_text_are_rejected_raw_and_the_rest_kept() -> None:
    raw = _load("search_broken.json")["posts"]
    parsed = build_polled_source(_cfg("https://bsky.example")).parse({"posts": raw, "fetched_at": NOW})
    assert [(r.external_id, r.reason) for r in parsed.rejected] == [
        (ALICE + "3lbxq1gone01", f"bluesky: post {ALICE}3lbxq1gone01 has no text (deleted or not a post)"),
        (None, "bluesky: post without an at:// uri"),
    ]
    assert parsed.rejected[1].raw == raw[1]
    (kept,) = parsed.posts  # an unreadable createdAt, no display name, no langs
    assert (kept.created_at, kept.author_name, kept.language_hint) == (
        datetime(2026, 11, 25, 9, 8, 0, 500_000, tzinfo=UTC), "noa.example.com", None)


def test_login_sends_bearer_pages_with_the_cursor_and_keeps_the_session(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    shift = _recent()  # the first run's backfill (24 h back from the real clock) must reach the posts
    replay.route(CREATE_SESSION, Reply.file("bluesky/create_session.json"))
    replay.route(SEARCH, _page("search_page1.json", shift), _page("search_page2.json", shift))
    cfg = _cfg(replay.url, limit=50, lang="en")
    report = poll(db, settings, cfg)
    assert (report.stored, report.pages, report.error) == (6, 2, None)
    (login,) = replay.hits(CREATE_SESSION)
    assert login.method == "POST" and json.loads(login.body) == {"identifier": "listener.bsky.social",
                                                                 "password": PASSWORD}
    first, second = replay.hits(SEARCH)
    for req in (first, second):
        assert req.headers["authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.access-1.sig"
        assert (req.arg("q"), req.arg("sort"), req.arg("limit"), req.arg("lang")) == ("aurelia", "latest", "50", "en")
        assert PASSWORD not in json.dumps(req.query)
    since = datetime.fromisoformat(str(first.arg("since")).replace("Z", "+00:00"))
    assert abs(since - (datetime.now(UTC) - timedelta(hours=24))) < timedelta(minutes=1)  # the first run's backfill
    assert (first.arg("cursor"), second.arg("cursor"), second.arg("since")) == (None, "eyJvZmZzZXQiOjR9",
                                                                              first.arg("since"))
    assert _cursor(db) == {"mark": _at("2026-11-25T09:50:00.000Z", shift)}
    poll(db, settings, cfg)  # a new source object (as every run), the same process: no new login
    assert len(replay.hits(CREATE_SESSION)) == 1 and len(replay.hits(SEARCH)) == 3


def test_high_water_mark_moves_once_per_sweep_and_a_stopped_sweep_resumes(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    shift = _recent()
    replay.route(CREATE_SESSION, Reply.file("bluesky/create_session.json"))
    replay.route(SEARCH, _page("search_page1.json", shift), _page("search_page2.json", shift))
    cfg = _cfg(replay.url, overlap_seconds=60)
    poll(db, settings, cfg)
    assert _cursor(db)["mark"] == _at("2026-11-25T09:50:00.000Z", shift)

    stop = threading.Event()
    newer = {"cursor": "c2",
             "posts": [_post("3lbxr9new001", "Aurelia Bank app back up", _at("2026-11-25T10:05:00.000Z", shift)),
                       _post("3lbxr8new002", "Aurelia Bank still down?", _at("2026-11-25T10:01:00.000Z", shift))]}
    older = {"posts": [_post("3lbxr7new003", "Aurelia Bank outage day 2", _at("2026-11-25T09:55:00.000Z", shift)),
                       _moved(_load("search_page1.json")["posts"][0], shift)]}  # the overlap: already stored

    def first_page_then_stop(req: Request) -> Reply:
        stop.set()  # the collector is shutting down while it holds the sweep's first page
        return Reply.json(newer)

    replay.route(SEARCH, first_page_then_stop, Reply.json(older))
    stopped = poll(db, settings, cfg, stop=stop)
    assert (stopped.stored, stopped.pages) == (2, 1)
    mid = _cursor(db)  # the mark has not moved yet: the sweep is not over
    assert mid == {"mark": _at("2026-11-25T09:50:00.000Z", shift),
                   "sweep": {"cursor": "c2", "since": _at("2026-11-25T09:49:00.000Z", shift),
                             "top": _at("2026-11-25T10:05:00.000Z", shift)}}
    resumed = poll(db, settings, cfg)
    assert (resumed.stored, resumed.skipped, resumed.pages) == (1, 1, 1)
    third, fourth = replay.hits(SEARCH)[-2:]
    assert (third.arg("since"), third.arg("cursor")) == (_at("2026-11-25T09:49:00.000Z", shift), None)
    assert (fourth.arg("since"), fourth.arg("cursor")) == (_at("2026-11-25T09:49:00.000Z", shift), "c2")
    assert _cursor(db) == {"mark": _at("2026-11-25T10:05:00.000Z", shift)}
    assert len(stored_ids(db)) == 9 and len(set(stored_ids(db))) == 9


def test_a_service_ignoring_since_ends_the_sweep_at_older_posts(replay: ReplayServer) -> None:
    replay.route(SEARCH, Reply.json({"cursor": "more", "posts": [_post("3old", "Aurelia", "2026-11-20T00:00:00Z")]}))
    src = build_polled_source(_cfg(replay.url, login=False))
    page = src.fetch(json.dumps({"mark": "2026-11-25T09:00:00.000Z"}), NOW)
    assert not page.has_more and json.loads(page.next_cursor or "") == {"mark": "2026-11-25T09:00:00.000Z"}
    assert "authorization" not in replay.requests[0].headers  # no identifier: no session


def test_expired_token_is_refreshed_once_then_login_again_when_refresh_is_refused(replay: ReplayServer) -> None:
    replay.route(CREATE_SESSION, Reply.file("bluesky/create_session.json"))
    replay.route(REFRESH_SESSION, Reply.file("bluesky/refresh_session.json"))

    def search(req: Request) -> Reply:
        if req.headers.get("authorization") == "Bearer eyJhbGciOiJFUzI1NksifQ.access-2.sig":
            return Reply.file("bluesky/search_page2.json")
        return Reply.file("bluesky/error_expired_token.json", status=400)

    replay.route(SEARCH, search)
    page = build_polled_source(_cfg(replay.url)).fetch(None, NOW)
    assert len(page.payload["posts"]) == 2
    (refresh,) = replay.hits(REFRESH_SESSION)
    assert refresh.method == "POST"
    assert refresh.headers["authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.refresh-1.sig"
    assert [r.headers["authorization"][-12:] for r in replay.hits(SEARCH)] == ["access-1.sig", "access-2.sig"]

    # the refresh token is refused too: one new login, and the search answers with that session
    replay.route(REFRESH_SESSION, Reply.file("bluesky/error_expired_token.json", status=400))
    replay.route(SEARCH, Reply.file("bluesky/error_expired_token.json", status=400), Reply.file(
        "bluesky/search_page1.json"))
    build_polled_source(_cfg(replay.url)).fetch(None, NOW)
    assert len(replay.hits(CREATE_SESSION)) == 2 and len(replay.hits(REFRESH_SESSION)) == 2

    # still expired after the renewal: an error, not a loop
    replay.route(SEARCH, Reply.file("bluesky/error_expired_token.json", status=400))
    with pytest.raises(CollectorError, match="HTTP 400: ExpiredToken: Token has expired"):
        build_polled_source(_cfg(replay.url)).fetch(None, NOW)


def test_refused_login_is_permanent_and_never_shows_the_password(
    db: Database, settings: Settings, replay: ReplayServer
) -> None:
    replay.route(CREATE_SESSION, Reply.file("bluesky/error_auth_required.json", status=401))
    with pytest.raises(CollectorError) as caught:
        build_polled_source(_cfg(replay.url)).fetch(None, NOW)
    assert caught.value.permanent
    assert caught.value.message == ("source 'sky': Bluesky login of 'listener.bsky.social' refused: HTTP 401: "
                                    "AuthenticationRequired: Invalid identifier or password")
    report = poll(db, settings, _cfg(replay.url))
    row = source_row(db, "sky")
    assert row.last_error and "refused: HTTP 401" in row.last_error and PASSWORD not in row.last_error
    assert report.retry_at is not None and report.retry_at > datetime.now(UTC) + timedelta(minutes=50)
    assert replay.hits(SEARCH) == []
    # a server echoing the password back: scrubbed
    replay.route(CREATE_SESSION, Reply.json({"error": "AuthenticationRequired", "message": f"bad {PASSWORD}"}, 401))
    with pytest.raises(CollectorError) as echoed:
        build_polled_source(_cfg(replay.url)).fetch(None, NOW)
    assert PASSWORD not in echoed.value.message and "bad ********" in echoed.value.message


def test_a_10000_character_post_is_stored_whole(db: Database, settings: Settings, replay: ReplayServer) -> None:
    text = "Aurelia Bank 🏦 " + "ש" * 10_000
    replay.route(SEARCH, Reply.json({"posts": [_post("3long", text, "2026-11-25T09:00:00.000Z")]}))
    report = poll(db, settings, _cfg(replay.url, login=False))
    assert (report.stored, report.error) == (1, None)
    with db.read() as s:
        assert s.scalars(select(Mention.text)).one() == text


@pytest.mark.parametrize(
    ("options", "secrets", "message"),
    [
        ({}, {}, "query: Field required"),
        ({"query": "a", "service": "bsky.social"}, {}, "service: expected an http(s) URL"),
        ({"query": "a", "identifier": "me.bsky.social"}, {}, "identifier and app_password_env"),
        ({"query": "a"}, {"app_password": Secret("x")}, "identifier and app_password_env"),
        ({"query": "a", "limit": 101}, {}, "limit: Input should be less than or equal to 100, got 101"),
    ],
)
def test_bad_options_fail_at_start_naming_the_key(
    options: dict[str, Any], secrets: dict[str, Secret], message: str
) -> None:
    with pytest.raises(CollectorError) as caught:
        build_polled_source(SourceConfig("sky", "bluesky", 60, True, options, secrets))
    assert caught.value.permanent and message in caught.value.message


LINK = "app.bsky.richtext.facet#link"


def _parse(*views: Any) -> Any:
    return build_polled_source(_cfg("https://bsky.example")).parse({"posts": list(views), "fetched_at": NOW})


def _link(start: Any, end: Any, uri: str) -> dict[str, Any]:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [{"$type": LINK, "uri": uri}]}


def test_link_facets_write_out_shortened_links_by_utf8_byte_offsets_and_fill_links() -> None:
    text = "Aurelia 😡 عطل: drive.google.com/file/d/1rpor... and this article"
    start = text.encode().index(b"drive")
    end = start + len("drive.google.com/file/d/1rpor...")
    article = text.encode().index(b"this article")
    full = "https://drive.google.com/file/d/1rporXq7aUrEl1aBcD/view"
    view = _post("3mc3facet01", text, "2026-11-25T09:00:00.000Z")
    view["record"]["facets"] = [_link(start, end, full), _link(article, article + 12, "https://news.example/a")]
    (post,) = _parse(view).posts
    assert post.text == f"Aurelia 😡 عطل: {full} and this article"  # words carrying a link stay words
    assert post.links == (full, "https://news.example/a")


@pytest.mark.parametrize("start, end", [(9, 20), (8, 9), (0, 10_000), (-5, 3), (30, 12), ("0", "4"), (True, 4),
                                        (None, None), (2**70, 2**71)])
def test_facet_offsets_out_of_range_or_off_character_boundaries_leave_the_text_alone(start: Any, end: Any) -> None:
    text = "Aurelia 😡 aurelia.example/st..."
    view = _post("3mc3facet02", text, "2026-11-25T09:00:00.000Z")
    view["record"]["facets"] = [_link(start, end, "https://aurelia.example/status")]
    (post,) = _parse(view).posts
    assert (post.text, post.links) == (text, ("https://aurelia.example/status",))


def test_posts_without_text_show_their_images_card_or_quote_and_only_empty_ones_are_rejected() -> None:
    images = _post("3mc3img0001", "", "2026-11-25T09:00:00.000Z")
    images["embed"] = {"$type": "app.bsky.embed.images#view",
                       "images": [{"alt": "Aurelia app: error 503"}, {"alt": ""}]}
    card = _post("3mc3card002", "", "2026-11-25T09:00:00.000Z")
    card["embed"] = {"$type": "app.bsky.embed.external#view",
                     "external": {"uri": "https://news.example/a", "title": "Aurelia fined", "description": ""}}
    quote = _post("3mc3quot003", " ", "2026-11-25T09:00:00.000Z")
    quote["embed"] = {"$type": "app.bsky.embed.record#view", "record": {
        "$type": "app.bsky.embed.record#viewRecord", "author": {"did": "did:plc:x", "handle": "noa.example.com"},
        "value": {"text": "Aurelia lost my transfer"}}}
    video = _post("3mc3vide004", "", "2026-11-25T09:00:00.000Z")
    video["record"].pop("text")  # no text field at all, but a video: still something to show
    video["record"]["embed"] = {"$type": "app.bsky.embed.video", "video": {"$type": "blob"}}
    nothing = _post("3mc3none005", "", "2026-11-25T09:00:00.000Z")
    nothing["embed"] = {"$type": "app.bsky.embed.record#view", "record": {
        "$type": "app.bsky.embed.record#viewBlocked", "blocked": True}}
    parsed = _parse(images, card, quote, video, nothing)
    assert [p.text for p in parsed.posts] == ["Aurelia app: error 503 [image]", "[link] Aurelia fined",
                                              "[quote @noa.example.com] Aurelia lost my transfer", "[video]"]
    assert parsed.posts[1].links == ("https://news.example/a",)
    assert [r.external_id for r in parsed.rejected] == [ALICE + "3mc3none005"]


def test_an_unverified_handle_is_never_shown_the_did_stands_in() -> None:
    view = _post("3mc3inva001", "Aurelia again", "2026-11-25T09:00:00.000Z")
    view["author"] = {"did": "did:plc:alice3x7kq2m5n6p7r8s9t0u", "handle": "handle.invalid"}
    (post,) = _parse(view).posts
    did = "did:plc:alice3x7kq2m5n6p7r8s9t0u"
    assert (post.author_handle, post.author_name) == (did, did)
    assert post.url == f"https://bsky.app/profile/{did}/post/3mc3inva001"


def test_hostile_post_views_are_rejected_one_by_one_and_parse_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    good = _post("3mc3good001", "Aurelia branch reopened", "2026-11-25T09:00:00.000Z")
    far = _post("3mc3far0002", "Aurelia in year 1", "0001-01-01T00:00:00+14:00")  # cannot be brought to UTC
    surrogate = _post("3mc3surr003", "Aurelia \ud83d drive.google.com/f...", "2026-11-25T09:00:00.000Z")
    surrogate["record"]["facets"] = [_link(10, 30, "https://drive.google.com/f/1")]
    nested: dict[str, Any] = {"$type": "app.bsky.embed.images#view", "images": [{"alt": "deep"}]}
    for _ in range(2000):
        nested = {"$type": "app.bsky.embed.recordWithMedia#view", "media": nested, "record": {"record": {}}}
    deep = _post("3mc3deep004", "", "2026-11-25T09:00:00.000Z")
    deep["embed"] = nested
    odd = _post("3mc3odd0005", "Aurelia", "2026-11-25T09:00:00.000Z")
    odd.update(author="x", embed=[1], record={**odd["record"], "facets": {"a": 1}, "langs": "en", "embed": 3})
    parsed = _parse(good, far, surrogate, deep, odd, None, 7, {"uri": "at://"}, [])
    texts = {p.external_id.rsplit("/", 1)[1]: p.text for p in parsed.posts}
    assert texts == {"3mc3good001": "Aurelia branch reopened", "3mc3far0002": "Aurelia in year 1",
                     "3mc3surr003": "Aurelia \ud83d drive.google.com/f...", "3mc3odd0005": "Aurelia"}
    assert [r.external_id for r in parsed.rejected] == [ALICE + "3mc3deep004", None, None, "at://", None]
    # whatever breaks inside one post rejects that post with the reason; the page goes on
    from collectors.sources import bluesky_posts

    def broken(record: Any, embed: Any) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(bluesky_posts, "_text", broken)
    parsed = _parse(good)
    assert parsed.posts == [] and parsed.rejected[0].reason == f"bluesky: post {ALICE}3mc3good001 could not be read " \
                                                                "(RuntimeError)"
    for payload in (None, [], {"posts": "x"}):
        build_polled_source(_cfg("https://bsky.example")).parse(payload)
