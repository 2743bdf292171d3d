"""X (Twitter): posts of the last seven days matching a search, through the API v2 recent search.

Config keys (`sources.yaml`)::

    - name: x-aurelia
      kind: x
      interval_seconds: 300
      query: '("Aurelia Bank" OR @AureliaBank OR "Banque Aurelia") -is:retweet'   # required
      bearer_token_env: X_BEARER_TOKEN     # required, or bearer_token_file: PATH
      max_results: 100       # posts per page, 10..100 (default 100)
      api_url: https://api.x.com          # default
      timeout_seconds: 10    # and retries, retry_base_seconds, max_response_mb, as for rss

What is polled: `GET /2/tweets/search/recent` with the query, `since_id`, `next_token`,
`tweet.fields=created_at,lang,author_id,public_metrics,entities,note_tweet,referenced_tweets,
edit_history_tweet_ids`, `expansions=author_id,referenced_tweets.id` (a retweet's original,
whole, in `includes.tweets`) and `user.fields=username,name,public_metrics`.

Authentication: an app-only Bearer token, sent in the `Authorization` header only (never
in a URL, an error or a log line).

Rate limits: recent search is limited per 15-minute window. A 429 waits until
`x-rate-limit-reset` (epoch seconds) or Retry-After; an answer with
`x-rate-limit-remaining: 0` is stored and then the poll stops until that reset. Posts
read count against the plan's monthly cap: `max_results` and `interval_seconds` set the cost.

No gaps between polls: a sweep asks for everything newer than `since_id` and pages with
`next_token` under that same `since_id`; the first page's `meta.newest_id` is kept aside
and becomes the next `since_id` only when the sweep ends. The cursor (JSON `since_id`,
`next_token`, `newest`) is stored with each page, so a crash resumes the sweep at the
page it stopped at. The first sweep reads the seven days X keeps. A `since_id` older than
that is refused by X (HTTP 400): the sweep then starts again without it.

Replying (collectors/replies/x.py): `write_token_env: X_WRITE_TOKEN` (or `write_token_file`), an
OAuth 2.0 user-context token of the account that answers (`tweet.write`, `tweet.read`,
`users.read`); without it the source cannot be answered. A reply is `POST /2/tweets` with `text`
and `reply.in_reply_to_tweet_id` (the mention's id). Posting is limited per user (by plan, per
15 minutes and per 24 hours); a 429 waits until `x-rate-limit-reset`. X has no idempotency key:
after a timeout Vigie never simply sends again; it reads the account's last 100 posts
(`/2/users/:id/tweets`) for the reply, and when it cannot tell, a person checks.

Each post becomes one post. Its external id is the first id of `edit_history_tweet_ids`
(its own `id` when it was never edited): X gives each edit a new id, so an edited post is
stored once, as first seen, and a later version is skipped as already stored; two versions
in one page are one post, the latest (largest id) kept, with its own text, time and URL.
Its text is `note_tweet.text` for long posts, else `text`, with X's HTML escapes (`&amp;`,
`&lt;`, `&gt;`, and only those) undone once and t.co links replaced by their expanded URLs
(also given as the post's links). A retweet's own text is "RT @user: " and the original cut
short with "…": the original's whole text (its `note_tweet` too) from `includes.tweets`
follows the kept "RT @user: " prefix, so clustering still sees a repost of its author;
without the original in `includes` the cut text is kept. Photos, videos and GIFs are no
links: a t.co whose entity has a `media_key`, expands to `x.com|twitter.com/…/photo|video/N`
or shows as `pic.x.com/…` (`pic.twitter.com/…`) is no link and is dropped from the text
(a post of media alone keeps the media's page, x.com/…/photo/1, as its text).
Its time is `created_at`, its language hint `lang` (X's "und" and q… codes
are dropped). The author (from `includes.users`) gives `@username`, name and followers,
and the URL `https://x.com/{username}/status/{id}` (`https://x.com/i/web/status/{id}` when
the author is missing from `includes`, e.g. a suspended account). Posts without id, text
or a readable time are rejected and kept raw; each partial error X reports next to the
data (`errors`: a deleted post, a missing author…) is kept as a rejected item too, with
its title and detail, so the source row shows it. `parse` never raises: an unreadable
answer, or a post that cannot be read, is a rejected item with its reason; the rest goes on.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, TypeGuard

from pydantic import Field

from collectors.http import HttpClient, HttpOptions, Response, parse_rate_limit_reset
from collectors.options import Credential, HttpUrl, text
from collectors.types import (
    CollectorError,
    Page,
    Parsed,
    RawPost,
    Rejected,
    dump_json_cursor,
    load_json_cursor,
    parse_iso_time,
)
from config.settings import SourceConfig

API_URL = "https://api.x.com"
SEARCH_PATH = "/2/tweets/search/recent"
TWEET_FIELDS = "created_at,lang,author_id,public_metrics,entities,note_tweet,referenced_tweets,edit_history_tweet_ids"
EXPANSIONS = "author_id,referenced_tweets.id"
USER_FIELDS = "username,name,public_metrics"


class XOptions(HttpOptions):
    credentials: ClassVar[tuple[Credential, ...]] = (
        Credential("bearer_token", "an app-only Bearer token", required=True),
        Credential("write_token", "an OAuth 2.0 user-context token of the account that replies"),
    )
    query: Annotated[str, text("an X search query")] = Field(description="an X search query")
    max_results: int = Field(100, ge=10, le=100, description="posts per page, 10..100")
    api_url: HttpUrl = Field(API_URL, description="endpoint")


class XSource:
    kind: ClassVar[str] = "x"
    Options: ClassVar[type[XOptions]] = XOptions

    def __init__(self, config: SourceConfig, options: XOptions) -> None:
        self.where = f"source {config.name!r}"
        token = config.secrets["bearer_token"]
        self.query, self.max_results = options.query.strip(), options.max_results
        self.url = options.api_url.rstrip("/") + SEARCH_PATH
        self._headers = {"Authorization": f"Bearer {token.reveal()}"}
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        state: dict[str, str | None] = {k: v for k, v in load_json_cursor(cursor).items() if isinstance(v, str)}
        since_id, next_token, newest = state.get("since_id"), state.get("next_token"), state.get("newest")
        response = self._search(since_id, next_token)
        if response.status == 400:
            if since_id and "since_id" in _problem(response):
                # since_id older than the 7 days recent search covers: start a sweep over all it keeps
                since_id, next_token, newest = None, None, None
                response = self._search(None, None)
            if response.status == 400:
                raise CollectorError(f"{self.where}: X refused the search (HTTP 400): {_problem(response)}",
                                     permanent=True)
        body = response.checked_json()
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or not isinstance(body.get("data", []), list):
            raise CollectorError(f"{self.where}: unexpected answer from X: no meta or data is not a list")
        if not next_token:  # the first page of a sweep holds its newest post: the next since_id
            newest = meta.get("newest_id") if isinstance(meta.get("newest_id"), str) else None
        token = meta.get("next_token")
        if isinstance(token, str) and token:
            state = {"since_id": since_id, "next_token": token, "newest": newest}
        else:
            state = {"since_id": _later(newest, since_id)}
        wait = None
        if (response.headers.get("x-rate-limit-remaining") or "").strip() == "0":  # window used up
            reset = response.headers.get("x-rate-limit-reset", "")
            wait = parse_rate_limit_reset(reset, now) or now + timedelta(minutes=15)
        return Page(body, dump_json_cursor(state), "next_token" in state, wait_until=wait)

    def _search(self, since_id: str | None, next_token: str | None) -> Response:
        params: dict[str, Any] = {
            "query": self.query, "max_results": self.max_results, "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS, "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if next_token:
            params["next_token"] = next_token
        # 400 is read here (an expired since_id); 429 and 5xx are the client's (x-rate-limit-reset, retries)
        return self.http.get(self.url, params=params, headers=self._headers, expect=None, ok=(200, 400))

    def parse(self, payload: Any) -> Parsed:
        """Never raises: an unreadable answer is one rejected item, an unreadable post another."""
        if not isinstance(payload, dict):
            return Parsed([], [Rejected(None, "unexpected answer from X: not an object", payload)])
        includes = _dict(payload.get("includes"))
        users = {u["id"]: u for u in _list(includes.get("users"))
                 if isinstance(u, dict) and isinstance(u.get("id"), str)}
        tweets = {t["id"]: t for t in _list(includes.get("tweets"))
                  if isinstance(t, dict) and isinstance(t.get("id"), str)}
        posts: list[RawPost] = []
        chains: dict[str, tuple[int, int]] = {}  # edit chain (first id) -> its place in posts, version id
        rejected: list[Rejected] = []
        for tweet in _list(payload.get("data")):
            try:
                post = _post(tweet, users, tweets)
            except Exception as exc:  # noqa: BLE001 - one hostile post must not cost the page
                tweet_id = tweet.get("id") if isinstance(tweet, dict) else None
                post = Rejected(tweet_id if isinstance(tweet_id, str) else None,
                                f"X post could not be read ({type(exc).__name__})", tweet)
            if isinstance(post, Rejected):
                rejected.append(post)
                continue
            version = int(tweet["id"])
            if post.external_id in chains:  # two versions of one edited post: the latest wins
                place, seen = chains[post.external_id]
                if version > seen:
                    posts[place], chains[post.external_id] = post, (place, version)
            else:
                chains[post.external_id] = (len(posts), version)
                posts.append(post)
        for error in _list(payload.get("errors")):
            problem = error if isinstance(error, dict) else {"detail": str(error)}
            resource = problem.get("resource_id") if problem.get("resource_type") == "tweet" else None
            rejected.append(Rejected(
                resource if isinstance(resource, str) else None,
                f"X partial error: {problem.get('title', 'error')}: {problem.get('detail', '')}".strip(": "),
                error,
            ))
        return Parsed(posts, rejected)


def _post(tweet: Any, users: dict[str, Any], tweets: dict[str, Any]) -> RawPost | Rejected:
    if not isinstance(tweet, dict) or not _numeric(tweet.get("id")):
        return Rejected(None, "X post without a numeric id", tweet)
    post_id = tweet["id"]
    text, entities = _full_text(tweet)
    if text is None:
        return Rejected(post_id, f"X post {post_id} has no text", tweet)
    created = parse_iso_time(tweet.get("created_at"))
    if created is None:
        return Rejected(post_id, f"X post {post_id} has no readable created_at", tweet)
    # a retweet's own text is "RT @user: " and the original cut to 140 characters with "…":
    # the original (includes.tweets, asked for with expansions=referenced_tweets.id) is whole
    original = tweets.get(next((r.get("id") for r in _list(tweet.get("referenced_tweets"))
                                if isinstance(r, dict) and r.get("type") == "retweeted"), None) or "")
    prefix = _RETWEET.match(text)
    if isinstance(original, dict) and prefix:
        whole, whole_entities = _full_text(original)
        if whole is not None:
            text, entities = prefix.group(0) + whole, whole_entities
    links: list[str] = []
    media: list[tuple[str, str]] = []
    for item in _list(entities.get("urls")):
        short, expanded = (item.get("url"), item.get("expanded_url")) if isinstance(item, dict) else (None, None)
        if not isinstance(short, str) or not short:
            short = None
        if not isinstance(expanded, str) or not expanded.startswith(("http://", "https://")):
            expanded = None
        if _is_media(item):  # a photo, video or GIF of the post: no link, its t.co is dropped below
            if short:
                media.append((short, expanded or short))
        elif expanded:
            links.append(expanded)
            if short:
                text = text.replace(short, expanded)
    without_media = text
    for short, _ in media:
        without_media = without_media.replace(short, "")
    if without_media.strip():
        text = without_media
    else:  # a photo and nothing else: the text is where it can be seen, not nothing
        for short, page in media:
            text = text.replace(short, page)
    text = text.strip()
    author = _dict(users.get(str(tweet.get("author_id"))))
    username = author.get("username") if isinstance(author.get("username"), str) and author["username"] else None
    name = author.get("name") if isinstance(author.get("name"), str) else None
    followers = _dict(author.get("public_metrics")).get("followers_count")
    lang = tweet.get("lang")
    return RawPost(
        raw=tweet,
        external_id=_chain_id(tweet),
        network="x",
        text=text,
        created_at=created,
        url=f"https://x.com/{username}/status/{post_id}" if username else f"https://x.com/i/web/status/{post_id}",
        author_handle=f"@{username}" if username else None,
        author_name=name or username,
        author_followers=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        # "und" (undetermined), "zxx" (no words) and q… codes (media, hashtags only…) are not languages
        language_hint=lang if isinstance(lang, str) and lang not in ("und", "zxx") and not lang.startswith("q")
        else None,
        links=tuple(dict.fromkeys(links)),
    )


_RETWEET = re.compile(r"RT @\w+: ")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
# a photo or video's own page: x.com/{user}/status/{id}/photo/1 (or twitter.com, /video/1)
_MEDIA_PAGE = re.compile(r"^https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/[^/?#]+/status/\d+/(?:photo|video)/\d+",
                         re.IGNORECASE)


def _full_text(tweet: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """A post's whole text, HTML entities undone, and the entities that go with it: a long
    post's (note_tweet) own, since the short text's point into the cut-off copy."""
    note = _dict(tweet.get("note_tweet"))
    long_text = note.get("text")
    text: Any = tweet.get("text")
    entities = _dict(tweet.get("entities"))
    if isinstance(long_text, str) and long_text.strip():
        text, entities = long_text, _dict(note["entities"]) if "entities" in note else entities
    if not isinstance(text, str) or not text.strip():
        return None, entities
    # X sends &, < and > as &amp; &lt; &gt; (and only those): undone once, so "&amp;lt;" stays "&lt;"
    return _ENTITY.sub(lambda m: _UNESCAPED[m.group(1)], text), entities


def _is_media(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    expanded, display = item.get("expanded_url"), item.get("display_url")
    return ("media_key" in item
            or (isinstance(expanded, str) and bool(_MEDIA_PAGE.match(expanded)))
            or (isinstance(display, str) and display.lower().startswith(("pic.x.com/", "pic.twitter.com/"))))


def _chain_id(tweet: dict[str, Any]) -> str:
    """An edited post's versions share edit_history_tweet_ids, oldest first: its first id names
    them all, so a later version of a stored post is skipped as already stored."""
    history = tweet.get("edit_history_tweet_ids")
    first = history[0] if isinstance(history, list) and history else None
    if _numeric(first) and int(first) <= int(tweet["id"]):
        return first
    return str(tweet["id"])


def _numeric(value: Any) -> TypeGuard[str]:
    """A post id: a snowflake, ASCII digits (at most 20)."""
    return isinstance(value, str) and 0 < len(value) <= 20 and value.isascii() and value.isdigit()


def _later(a: str | None, b: str | None) -> str | None:
    """The larger of two post ids (snowflakes grow with time): since_id never moves back."""
    ids: list[str] = [i for i in (a, b) if _numeric(i)]
    return max(ids, key=int) if ids else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []




def _problem(response: Response) -> str:
    """What a 400 says, for the error message (X's problem JSON, or the first 200 characters)."""
    try:
        body = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return response.body[:200].decode("utf-8", "replace")
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return "; ".join(str(e.get("message") or e.get("detail") or e) if isinstance(e, dict) else str(e)
                         for e in errors)[:500]
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail or body)[:500]
