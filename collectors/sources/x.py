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
`tweet.fields=created_at,lang,author_id,public_metrics,entities,note_tweet`,
`expansions=author_id` and `user.fields=username,name,public_metrics`.

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

Each post becomes one post: `id` is the external id; its text is `note_tweet.text` for
long posts, else `text`, with t.co links replaced by their expanded URLs (also given as the
post's links); its time is `created_at`, its language hint `lang` (X's "und" and q… codes
are dropped). The author (from `includes.users`) gives `@username`, name and followers,
and the URL `https://x.com/{username}/status/{id}` (`https://x.com/i/web/status/{id}` when
the author is missing from `includes`, e.g. a suspended account). Posts without id, text
or a readable time are rejected and kept raw; each partial error X reports next to the
data (`errors`: a deleted post, a missing author…) is kept as a rejected item too, with
its title and detail, so the source row shows it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar

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
TWEET_FIELDS = "created_at,lang,author_id,public_metrics,entities,note_tweet"
USER_FIELDS = "username,name,public_metrics"


class XOptions(HttpOptions):
    credentials: ClassVar[tuple[Credential, ...]] = (
        Credential("bearer_token", "an app-only Bearer token", required=True),
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
            "expansions": "author_id", "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if next_token:
            params["next_token"] = next_token
        # 400 is read here (an expired since_id); 429 and 5xx are the client's (x-rate-limit-reset, retries)
        return self.http.get(self.url, params=params, headers=self._headers, expect=None, ok=(200, 400))

    def parse(self, payload: Any) -> Parsed:
        if not isinstance(payload, dict):
            raise CollectorError(f"{self.where}: unexpected answer from X: not an object")
        users = {u["id"]: u for u in _dict(payload.get("includes")).get("users") or []
                 if isinstance(u, dict) and isinstance(u.get("id"), str)}
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        for tweet in payload.get("data") or []:
            post = _post(tweet, users)
            if isinstance(post, Rejected):
                rejected.append(post)
            else:
                posts.append(post)
        for error in payload.get("errors") or []:
            problem = error if isinstance(error, dict) else {"detail": str(error)}
            resource = problem.get("resource_id") if problem.get("resource_type") == "tweet" else None
            rejected.append(Rejected(
                resource if isinstance(resource, str) else None,
                f"X partial error: {problem.get('title', 'error')}: {problem.get('detail', '')}".strip(": "),
                error,
            ))
        return Parsed(posts, rejected)


def _post(tweet: Any, users: dict[str, Any]) -> RawPost | Rejected:
    if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str) or not tweet["id"].isdigit():
        return Rejected(None, "X post without a numeric id", tweet)
    post_id = tweet["id"]
    note = _dict(tweet.get("note_tweet"))
    long_text = note.get("text")
    text = long_text if isinstance(long_text, str) and long_text.strip() else tweet.get("text")
    if not isinstance(text, str) or not text.strip():
        return Rejected(post_id, f"X post {post_id} has no text", tweet)
    created = parse_iso_time(tweet.get("created_at"))
    if created is None:
        return Rejected(post_id, f"X post {post_id} has no readable created_at", tweet)
    # a note tweet's links are in its own entities; the short text's point into the cut-off copy
    entities = _dict(note.get("entities") if text is long_text and "entities" in note else tweet.get("entities"))
    links: list[str] = []
    for item in entities.get("urls") or []:
        short, expanded = (item.get("url"), item.get("expanded_url")) if isinstance(item, dict) else (None, None)
        if isinstance(expanded, str) and expanded.startswith(("http://", "https://")):
            links.append(expanded)
            if isinstance(short, str) and short:
                text = text.replace(short, expanded)
    author = _dict(users.get(str(tweet.get("author_id"))))
    username = author.get("username") if isinstance(author.get("username"), str) and author["username"] else None
    name = author.get("name") if isinstance(author.get("name"), str) else None
    followers = _dict(author.get("public_metrics")).get("followers_count")
    lang = tweet.get("lang")
    return RawPost(
        external_id=post_id,
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


def _later(a: str | None, b: str | None) -> str | None:
    """The larger of two post ids (snowflakes grow with time): since_id never moves back."""
    ids = [i for i in (a, b) if i and i.isdigit()]
    return max(ids, key=int) if ids else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}




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
