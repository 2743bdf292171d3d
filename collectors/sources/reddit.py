"""Reddit: new posts matching a search, and/or new posts in chosen subreddits.

Config keys (`sources.yaml`)::

    - name: reddit-aurelia
      kind: reddit
      interval_seconds: 120
      query: '"Aurelia Bank" OR "Banque Aurelia"'   # a Reddit search; optional with subreddits
      subreddits: [personalfinance, banking]        # optional with query
      client_id_env: REDDIT_CLIENT_ID               # required, or client_id_file: PATH
      client_secret_env: REDDIT_CLIENT_SECRET       # required, or client_secret_file: PATH
      user_agent: "server:com.example.vigie:v1 (by /u/your_account)"   # Reddit asks for a unique one
      limit: 100             # posts per page, 1..100 (default 100)
      auth_url: https://www.reddit.com/api/v1/access_token   # default
      api_url: https://oauth.reddit.com                      # default
      timeout_seconds: 10    # and retries, retry_base_seconds, max_response_mb, as for rss

What is polled: with `query` only, `GET /search?q=…&sort=new&type=link`; with `subreddits`
only, `GET /r/a+b/new`; with both, `GET /r/a+b/search?q=…&restrict_sr=1&sort=new` (one
listing either way: Reddit combines subreddits with `+`).

Authentication: an application-only OAuth token ("client credentials" grant of a
"script" or "web app" created at https://www.reddit.com/prefs/apps), asked for with HTTP
basic auth and kept in memory until it expires; a 401 fetches a new one once. The
credentials travel only in headers, never in URLs, errors or logs.

Rate limits: Reddit answers with `X-Ratelimit-Remaining` and `X-Ratelimit-Reset` (seconds
until the window ends). When Remaining reaches 0 the page in hand is stored and the poll
stops, recording the reset time: nothing is sent before it. A 429 waits for Retry-After,
else X-Ratelimit-Reset, else 60 s.

No gaps between polls: a listing pages to older posts with `after`. A sweep starts at the
newest post and pages back until it meets the newest post of the previous sweep (the
high-water mark: fullname and `created_utc`) or the listing ends (Reddit keeps about
1,000 posts per listing: the first sweep backfills that far). Only then does the mark
move to the sweep's newest post. The cursor holds the mark, the `after` of the sweep in
progress and its newest post; it is stored with each page, so a crash resumes the sweep
where it stopped.

Replying (collectors/replies/reddit.py): `write_token_env: REDDIT_WRITE_TOKEN` (or
`write_token_file`), a user OAuth token of the account that comments (scopes `submit`, `identity`,
`history`); without it the source cannot be answered. A reply is a comment, `POST /api/comment`
with `api_type=json`, `thing_id` (the post's fullname) and `text`, sent with `user_agent`; new
posts are not written. Reddit refuses inside a 200: RATELIMIT ("take a break for 3 minutes") is
retried after that delay, other errors (a deleted or locked post) are final. Reddit has no
idempotency key: after a timeout Vigie reads the account's newest comments for the reply instead
of sending again, and when it cannot tell, a person checks. Note that user tokens expire after an
hour unless renewed: the token file must be kept fresh by whatever issues it.

Each post (`t3`) becomes one post: its fullname (`t3_…`) is the external id, its text the
title, the self text and, for link posts, the outbound link (`url_overridden_by_dest`, else
`url`; also given as the post's link); its time is `created_utc`, its URL
`https://www.reddit.com{permalink}`, its author the username (the subreddit shows in the URL).
Self text is Reddit markdown: `[label](https://…)` reads `label (https://…)` (just `label`
for a link to Reddit) and, with bare URLs, its outbound links join the post's links. Reddit's
own hosts are not outbound links: images (i.redd.it), videos (v.redd.it), previews
(preview.redd.it), galleries (reddit.com/gallery/…), redd.it and the post's own page; an
image or video post's text is its title. A crosspost carries the original in
`crosspost_parent_list`: its link is the original's, and a crosspost with a title only
takes the original's title (when it differs) and self text as its words. Removed or deleted
posts (`[removed]`, `[deleted]`) are stored with their title only and no author: the
removed words are not kept; a post left with no text at all, or without fullname or time,
is rejected and kept raw. `parse` never raises: an unreadable listing, or a post that
cannot be read, is a rejected item with its reason, and the rest of the page goes on.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import Field

from collectors.http import HttpClient, HttpOptions, RateLimited, Response, parse_retry_after
from collectors.options import Credential, HttpUrl, at_least_one, every, text
from collectors.sources.reddit_posts import name_of, parse_time, post_of
from collectors.types import (
    CollectorError,
    Page,
    Parsed,
    RawPost,
    Rejected,
    dump_json_cursor,
    load_json_cursor,
)
from config.settings import SourceConfig

AUTH_URL = "https://www.reddit.com/api/v1/access_token"
API_URL = "https://oauth.reddit.com"
DEFAULT_USER_AGENT = "server:vigie:v0.1 (self-hosted social listening)"
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
_SUBREDDITS = "a list of subreddit names (letters, digits, '_')"


class _Tokens:
    """Access tokens per (auth URL, client id), shared by the polls of one process: a source
    built anew for every poll must not ask for a token each time (they last a day)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))
        return token if token and time.monotonic() < expires else None

    def put(self, key: tuple[str, str], token: str, lifetime: float) -> None:
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + max(0.0, lifetime - 60))  # a minute's margin

    def drop(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKENS = _Tokens()


class RedditOptions(HttpOptions):
    credentials: ClassVar[tuple[Credential, ...]] = (
        Credential("client_id", "the app's client id (https://www.reddit.com/prefs/apps)", required=True),
        Credential("client_secret", "the app's client secret", required=True),
        Credential("write_token", "a user OAuth token of the account that comments (submit, identity, history)"),
    )
    _something_to_poll = at_least_one("query", "subreddits", expected="expected query, subreddits or both")
    query: Annotated[str, text("a non-empty search string")] | None = Field(
        None, description="a Reddit search (sort=new); optional when subreddits is given")
    subreddits: Annotated[list[str], every(_SUBREDDIT.fullmatch, _SUBREDDITS)] = Field(
        [], description="list of subreddits (/r/a+b/new, or /r/a+b/search?restrict_sr=1 with a query)")
    user_agent: Annotated[str, text("a descriptive User-Agent string")] = Field(
        DEFAULT_USER_AGENT, description="Reddit asks for a unique one")
    limit: int = Field(100, ge=1, le=100, description="posts per page, 1..100")
    auth_url: HttpUrl = Field(AUTH_URL, description="token endpoint")
    api_url: HttpUrl = Field(API_URL, description="API endpoint")


class RedditSource:
    kind: ClassVar[str] = "reddit"
    Options: ClassVar[type[RedditOptions]] = RedditOptions

    def __init__(self, config: SourceConfig, options: RedditOptions) -> None:
        self.where = f"source {config.name!r}"
        client_id, secret = config.secrets["client_id"], config.secrets["client_secret"]
        self.query, self.subreddits, self.limit = options.query, list(options.subreddits), options.limit
        self.user_agent = options.user_agent
        self.auth_url: str = options.auth_url
        self.api_url: str = options.api_url.rstrip("/")
        self._credentials = (client_id.reveal(), secret.reveal())
        self._token_key = (self.auth_url, client_id.reveal())
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    # --- network -------------------------------------------------------------------------

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        state = load_json_cursor(cursor)
        seen, after, top = state.get("seen"), state.get("after"), state.get("top")
        response = self._get(self._path(), self._params(after), now)
        listing = response.checked_json()
        data = listing.get("data") if isinstance(listing, dict) and listing.get("kind") == "Listing" else None
        if not isinstance(data, dict) or not isinstance(data.get("children"), list):
            raise CollectorError(f"{self.where}: unexpected answer from Reddit: not a Listing")
        children: list[Any] = data["children"]
        if after is None:  # a sweep starts at the newest post: it is the next high-water mark
            top = next((m for m in map(_mark, children) if m is not None), None)
        kept: list[Any] = []
        reached = False
        for child in children:
            post = child.get("data") if isinstance(child, dict) else None
            if seen and isinstance(post, dict) and _is_seen(post, seen):
                reached = True  # sorted by new: this post and all after it were stored by an earlier sweep
                break
            kept.append(child)
        next_after = data.get("after")
        has_more = not reached and bool(children) and isinstance(next_after, str) and bool(next_after)
        state = {"seen": seen, "after": next_after, "top": top} if has_more else {"seen": _newer(top, seen)}
        payload = {**listing, "data": {**data, "children": kept}}
        return Page(payload, dump_json_cursor(state), has_more, wait_until=_quota_wait(response, now))

    def _path(self) -> str:
        if not self.subreddits:
            return "/search"
        subs = "+".join(self.subreddits)
        return f"/r/{subs}/search" if self.query else f"/r/{subs}/new"

    def _params(self, after: str | None) -> dict[str, Any]:
        # raw_json=1: without it Reddit escapes &, < and > in every text as HTML entities
        params: dict[str, Any] = {"limit": self.limit, "raw_json": 1}
        if self.query:
            params.update(q=self.query, sort="new", type="link")
            if self.subreddits:
                params["restrict_sr"] = 1
        if after:
            params["after"] = after
        return params

    def _get(self, path: str, params: dict[str, Any], now: datetime) -> Response:
        response = self._send(path, params)
        if response.status == 401:  # the token expired or was revoked: one new token, once
            TOKENS.drop(self._token_key)
            response = self._send(path, params)
            if response.status == 401:
                TOKENS.drop(self._token_key)
                raise CollectorError(f"{self.where}: Reddit refused a fresh token (HTTP 401)", permanent=True)
        reset = _seconds(response.headers.get("x-ratelimit-reset"))
        if response.status == 429:
            retry_at = (parse_retry_after(response.headers.get("retry-after"), now)
                        or now + timedelta(seconds=reset if reset is not None else 60))
            raise RateLimited(f"{self.where}: Reddit HTTP 429, rate limited until "
                              f"{retry_at:%Y-%m-%d %H:%M:%S} UTC", retry_at)
        return response

    def _send(self, path: str, params: dict[str, Any]) -> Response:
        token = TOKENS.get(self._token_key) or self._new_token()
        headers = {"Authorization": f"bearer {token}", "User-Agent": self.user_agent}
        # 401 and 429 are answered here (new token; Reddit's own reset header), so the client passes them on
        return self.http.get(self.api_url + path, params=params, headers=headers, expect=None, ok=(200, 401, 429))

    def _new_token(self) -> str:
        response = self.http.post(self.auth_url, data={"grant_type": "client_credentials"}, auth=self._credentials,
                                  headers={"User-Agent": self.user_agent})
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            # Reddit answers some refusals with 200 and {"error": "..."}; the error names no credential
            error = body.get("error") if isinstance(body, dict) else None
            raise CollectorError(f"{self.where}: Reddit gave no access token ({error or 'no error given'})",
                                 permanent=True)
        lifetime = body.get("expires_in")
        TOKENS.put(self._token_key, token, float(lifetime) if isinstance(lifetime, int | float) else 3600.0)
        return token

    # --- parsing -------------------------------------------------------------------------

    def parse(self, payload: Any) -> Parsed:
        """Never raises: an unreadable listing is one rejected item, an unreadable post another."""
        data = payload.get("data") if isinstance(payload, dict) else None
        children = data.get("children") if isinstance(data, dict) else None
        if not isinstance(children, list):
            return Parsed([], [Rejected(None, "unexpected answer from Reddit: not a Listing", payload)])
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        for child in children:
            try:
                post = post_of(child)
            except Exception as exc:  # noqa: BLE001 - one hostile post must not cost the page
                post = Rejected(name_of(child), f"Reddit post could not be read ({type(exc).__name__})", child)
            if isinstance(post, Rejected):
                rejected.append(post)
            else:
                posts.append(post)
        return Parsed(posts, rejected)


def _mark(child: Any) -> dict[str, Any] | None:
    """A post's place in a new-first listing: its fullname and creation time."""
    post = child.get("data") if isinstance(child, dict) else None
    if (not isinstance(post, dict) or not isinstance(post.get("name"), str)
            or parse_time(post.get("created_utc")) is None):
        return None
    return {"name": post["name"], "created": float(post["created_utc"])}


def _newer(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """The later of two marks: the newest post of a sweep may have been deleted since the last one."""
    if a is None or b is None:
        return a or b
    return a if float(a.get("created", 0)) >= float(b.get("created", 0)) else b


def _is_seen(post: dict[str, Any], seen: dict[str, Any]) -> bool:
    if post.get("name") == seen.get("name"):
        return True
    created, mark = post.get("created_utc"), seen.get("created")
    # strictly older only: a post of the same second as the mark may not have been stored
    return isinstance(created, int | float) and isinstance(mark, int | float) and created < mark


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None  # Reddit sends floats ("599.0")
    except ValueError:
        return None


def _quota_wait(response: Response, now: datetime) -> datetime | None:
    """When the answer used up the window (X-Ratelimit-Remaining below 1): its reset, in seconds from now."""
    remaining = _seconds(response.headers.get("x-ratelimit-remaining"))
    if remaining is None or remaining >= 1:
        return None
    reset = _seconds(response.headers.get("x-ratelimit-reset"))
    return now + timedelta(seconds=reset if reset is not None else 60)
