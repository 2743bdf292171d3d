"""Mastodon: public hashtag timelines and status search on one instance.

Config keys (`sources.yaml`)::

    - name: mastodon-aurelia
      kind: mastodon
      instance: https://mastodon.example    # required, http(s): the server the API calls go to
      hashtags: [AureliaBank, aurelia]       # hashtag timelines to follow ('#' optional)…
      query: '"Aurelia Bank"'                # …and/or a status search (needs a token on most instances)
      access_token_env: MASTODON_TOKEN       # optional, or access_token_file: /run/secrets/mastodon_token
      interval_seconds: 120
      limit: 40              # statuses per request, 1 to 40 (default 40, Mastodon's maximum)
      network: mastodon      # label shown in the queues (default: mastodon)
      timeout_seconds: 10    # per request (default 10); retries, retry_base_seconds and
      max_response_mb: 20    # max_response_mb as for rss

At least one of `hashtags` and `query` is required.

Authentication: hashtag timelines are public on most instances and need no token (an instance
that turned off its public timeline preview answers 401 or 422 without one). Status
search (`GET /api/v2/search?type=statuses`) needs a user access token with the `read:search`
scope on most instances, and only finds the posts the instance lets that account search
(since Mastodon 4.2: public posts of accounts that opted in to search, plus its own). The
token is sent as `Authorization: Bearer`, never in the URL.

Rate limits: by default 300 requests per 5 minutes per token (per IP address without one),
and 300 paging requests (`min_id`/`max_id`) per 15 minutes; instances may set others. When
a response says `X-RateLimit-Remaining: 0`, that page is stored and nothing is sent before its
`X-RateLimit-Reset`. A 429 waits until its ISO 8601 `X-RateLimit-Reset` (60 s when absent).

Catching up: each hashtag timeline keeps the newest status id it has seen. The next run asks
for `min_id=<that id>`, which Mastodon answers with the statuses immediately newer than it
(the oldest first, up to `limit`), and pages on until a short page: however many statuses
arrived between two runs, none is skipped (`since_id` would return only the newest ones).
Search is sorted newest first whatever the parameters, so it is swept downwards with `max_id`
until it reaches the newest id of the previous sweep. The first run takes only the newest page
of each timeline (no backfill). The Link header is not used. All of this lives in the cursor,
stored with each page, so a crash replays one page and no more.

Each status becomes one post: its id is the external id (a boost is mapped to the boosted
status, so the original and its boosts are one item), the HTML content becomes plain text
(preceded by the content warning, if any; a post with only media uses the media descriptions),
`account.acct` is the handle (local accounts get `@<instance host>`), and `language` is the
language hint. A status without an id, or without text and media, is rejected and kept raw.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar
from urllib.parse import quote, urlsplit

from pydantic import BeforeValidator, Field

from collectors.http import HttpClient, HttpOptions, Response, parse_rate_limit_reset
from collectors.markup import html_to_text
from collectors.options import Credential, HttpUrl, at_least_one, every, label, text
from collectors.types import (
    CollectorError,
    Page,
    Parsed,
    RawPost,
    Rejected,
    load_json_cursor,
    parse_iso_time,
)
from config.settings import SourceConfig

MAX_LIMIT = 40  # Mastodon caps `limit` at 40 for statuses


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _tag(tag: str) -> bool:
    return bool(tag.strip("# "))


class MastodonOptions(HttpOptions):
    credentials: ClassVar[tuple[Credential, ...]] = (
        Credential("access_token", "a user token (read:search for search), sent as a Bearer header"),
    )
    _something_to_follow = at_least_one("hashtags", "query", expected="give hashtags, a query, or both")
    instance: HttpUrl = Field(description="the instance, http(s)")
    hashtags: Annotated[list[str], BeforeValidator(_one_or_many), every(_tag, "a list of hashtags")] = Field(
        [], description="hashtag timelines to follow ('#' optional; one may be given alone)")
    query: Annotated[str, text("a search text")] | None = Field(
        None, description="a status search (at least one of hashtags and query)")
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT, description=f"statuses per request, 1..{MAX_LIMIT}")
    network: Annotated[str, label()] = Field("mastodon", description="label shown in the queues")


class MastodonSource:
    kind: ClassVar[str] = "mastodon"
    Options: ClassVar[type[MastodonOptions]] = MastodonOptions

    def __init__(self, config: SourceConfig, options: MastodonOptions) -> None:
        self.where = f"source {config.name!r}"
        self.instance = options.instance.rstrip("/")
        self.host = urlsplit(self.instance).netloc
        self.query, self.limit, self.network = options.query, options.limit, options.network
        # Timeline keys, in polling order; tags are case-insensitive on Mastodon.
        self.tags = {f"tag:{t.strip('# ').lower()}": t.strip("# ") for t in options.hashtags}
        self.keys = list(self.tags) + ([f"search:{self.query}"] if self.query is not None else [])
        token = config.secrets.get("access_token")
        self.headers = {"Authorization": f"Bearer {token.reveal()}"} if token else {}
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        state = self._load(cursor)
        todo: list[str] = state["todo"] or list(self.keys)  # an empty list: a new round of every timeline
        key = todo[0]
        last: str | None = state["last"].get(key)
        if key in self.tags:
            params: dict[str, Any] = {"limit": self.limit}
            if last:
                params["min_id"] = last
            response = self.http.get(f"{self.instance}/api/v1/timelines/tag/{quote(self.tags[key], safe='')}",
                                     params=params, headers=self.headers)
            statuses = _statuses(response.json(), response)
            newest = _newest([last, *_ids(statuses)])
            state["last"][key] = newest
            # Caught up when the page is short; also when the id did not move (a server that
            # ignores min_id would otherwise be asked for the same page a hundred times).
            done = last is None or len(statuses) < self.limit or newest == last
        else:
            statuses, response, done = self._search_page(state, key, last)
        if done:
            todo = todo[1:]
        state["todo"] = todo
        exhausted = response.headers.get("x-ratelimit-remaining") == "0"
        wait = (parse_rate_limit_reset(response.headers.get("x-ratelimit-reset", ""), now)
                or now + timedelta(minutes=5)) if exhausted else None
        payload = {"statuses": statuses, "fetched_at": now}
        next_cursor = json.dumps(state, sort_keys=True, ensure_ascii=False)
        return Page(payload, next_cursor, has_more=bool(todo) and not exhausted, wait_until=wait)

    def _search_page(self, state: dict[str, Any], key: str, last: str | None) -> tuple[list[Any], Response, bool]:
        """One page of a downward sweep: newest first, then older with max_id, until `last` is reached."""
        sweep: dict[str, str] = state.get("sweep") or {}
        params: dict[str, Any] = {"q": self.query, "type": "statuses", "limit": self.limit, "resolve": "false"}
        if last:
            params["min_id"] = last  # a coarse filter on Mastodon (by date); the check below is exact
        if sweep.get("below"):
            params["max_id"] = sweep["below"]
        response = self.http.get(f"{self.instance}/api/v2/search", params=params, headers=self.headers)
        body = response.json()
        statuses = _statuses(body.get("statuses") if isinstance(body, dict) else None, response)
        ids = _ids(statuses)
        top = _newest([sweep.get("top"), *ids])
        reached = last is not None and any(_order(i) <= _order(last) for i in ids)
        if last is None or reached or len(statuses) < self.limit or not ids:
            state["last"][key] = _newest([last, top])
            state.pop("sweep", None)
            return statuses, response, True
        state["sweep"] = {"top": top, "below": min(ids, key=_order)}
        return statuses, response, False

    def _load(self, cursor: str | None) -> dict[str, Any]:
        """The stored cursor, limited to the timelines still configured (a removed hashtag is forgotten)."""
        value = load_json_cursor(cursor)
        last = value["last"] if isinstance(value.get("last"), dict) else {}
        state: dict[str, Any] = {
            "last": {k: v for k, v in last.items() if k in self.keys and isinstance(v, str)},
            "todo": [k for k in value.get("todo") or [] if k in self.keys],
        }
        sweep = value.get("sweep")
        # A sweep half done belongs to the search at the head of the round; anything else is stale.
        if isinstance(sweep, dict) and state["todo"][:1] and not state["todo"][0].startswith("tag:"):
            state["sweep"] = {k: v for k, v in sweep.items() if k in ("top", "below") and isinstance(v, str)}
        return state

    def parse(self, payload: Any) -> Parsed:
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        for item in payload["statuses"]:
            status = item.get("reblog") if isinstance(item, dict) and isinstance(item.get("reblog"), dict) else item
            if not isinstance(status, dict) or not _is_id(status.get("id")):
                rejected.append(Rejected(None, f"{self.host}: status without an id", item))
                continue
            ext = str(status["id"])
            text = _text(status)
            if not text:
                rejected.append(Rejected(ext, f"{self.host}: status {ext} has no text and no media", item))
                continue
            account: dict[str, Any] = status["account"] if isinstance(status.get("account"), dict) else {}
            acct = account.get("acct") if isinstance(account.get("acct"), str) and account.get("acct") else None
            name = account.get("display_name")
            followers = account.get("followers_count")
            url = status.get("url") or status.get("uri")
            language = status.get("language")
            posts.append(
                RawPost(
                    external_id=ext[:200],
                    network=self.network,
                    text=text,
                    created_at=parse_iso_time(status.get("created_at")) or payload["fetched_at"],
                    url=url if isinstance(url, str) else None,
                    author_handle=(acct if acct is None or "@" in acct else f"{acct}@{self.host}"),
                    author_name=name if isinstance(name, str) and name.strip() else acct,
                    author_followers=followers if isinstance(followers, int) and not isinstance(followers, bool)
                    else None,
                    language_hint=language if isinstance(language, str) and language else None,
                )
            )
        return Parsed(posts, rejected)


def _statuses(value: Any, response: Response) -> list[Any]:
    if not isinstance(value, list):
        where = response.url.split("?", 1)[0]
        raise CollectorError(f"{where}: expected a list of statuses, got {type(value).__name__}")
    return list(value)


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value)) or (isinstance(value, int) and not isinstance(value, bool))


def _ids(statuses: list[Any]) -> list[str]:
    """The ids of the page's own entries (for a boost, the boost's id: that is the timeline's order)."""
    return [str(s["id"]) for s in statuses if isinstance(s, dict) and _is_id(s.get("id"))]


def _order(status_id: str) -> tuple[int, str]:
    """Mastodon ids are strings "sortable by length, then lexically" (numbers on Mastodon itself)."""
    return len(status_id), status_id


def _newest(ids: list[str | None]) -> str | None:
    present = [i for i in ids if i]
    return max(present, key=_order) if present else None


def _text(status: dict[str, Any]) -> str:
    content = status.get("content")
    text = html_to_text(content) if isinstance(content, str) else ""
    if not text:  # a post with only pictures or video: its descriptions are what can be read
        media = status.get("media_attachments")
        described = [m.get("description") or f"[{m.get('type') or 'media'}]"
                     for m in (media if isinstance(media, list) else []) if isinstance(m, dict)]
        text = " ".join(str(d) for d in described)
    spoiler = status.get("spoiler_text")
    if text and isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}"
    return text
