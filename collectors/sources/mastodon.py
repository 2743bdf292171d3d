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
(preceded by the content warning, if any), `account.acct` is the handle (local accounts get
`@<instance host>`), and `language` is the language hint.

Quote posts (Mastodon 4.4+): the `<p class="quote-inline">RE: <link></p>` paragraph Mastodon
adds for clients that do not show quotes (other servers send a `<span class="quote-inline">`)
is dropped from the text; its link to the quoted post stays in `links`.

A status without words of its own shows what it carries: its media descriptions (`[image]`
for one without), else the quoted post as `[quote @acct] its text`, and/or the preview card as
`[link] title — description`; a quote whose post did not come with it keeps its "RE: <link>".

`links` are the outbound links: each `<a href>` of the content in order, then the preview
card's `url`, once each; mentions and hashtags (class `mention` / `hashtag`) and the account
and tag pages (`/@name`, `/users/name`, `/tags/name`) of the status's own instance or of the
polled one are left out.

Replying (collectors/replies/mastodon.py): `write_token_env: MASTODON_WRITE_TOKEN` (or
`write_token_file`), a token of the account that answers with the `write:statuses` and
`read:accounts` scopes; without it the source cannot be answered through Vigie. A reply is
`POST /api/v1/statuses` with `status` and `in_reply_to_id` (the mention's status id) and an
`Idempotency-Key` header (the reply's key). It counts against the same 300 requests per 5 minutes;
a 429 is retried after its `X-RateLimit-Reset`. After a timeout the same request is sent again
within 50 minutes of the first attempt (Mastodon keeps the key one hour and answers with the
status already made); later, the account's last 40 statuses are searched for it instead.

A status without an id, or with nothing to show, is rejected and kept raw; so is a status that
cannot be read at all (parse never raises: the rest of the page goes on).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar
from urllib.parse import quote, urlsplit

from pydantic import BeforeValidator, Field

from collectors.http import HttpClient, HttpOptions, Response, parse_rate_limit_reset
from collectors.markup import html_links, html_to_text, html_without_class
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
        Credential("write_token", "a token of the account that replies (write:statuses, read:accounts)"),
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
        """Each status on its own: one that cannot be read is rejected with the reason, never a crash."""
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        body = payload if isinstance(payload, dict) else {}
        fetched = body["fetched_at"] if isinstance(body.get("fetched_at"), datetime) else datetime.now(UTC)
        items = body.get("statuses")
        for item in items if isinstance(items, list) else []:
            try:
                post = self._post(item, fetched)
            except Exception as exc:  # a hostile status: rejected whole, the page goes on
                ext = _safe_id(item)
                rejected.append(Rejected(ext, f"{self.host}: status {ext} could not be read "
                                              f"({type(exc).__name__})", item))
                continue
            if isinstance(post, Rejected):
                rejected.append(post)
            else:
                posts.append(post)
        return Parsed(posts, rejected)

    def _post(self, item: Any, fetched: datetime) -> RawPost | Rejected:
        status = _original(item)
        if not _is_id(status.get("id")):
            return Rejected(None, f"{self.host}: status without an id", item)
        ext = str(status["id"])
        text = _text(status)
        if not text:
            return Rejected(ext, f"{self.host}: status {ext} has no text and no media", item)
        account: dict[str, Any] = status["account"] if isinstance(status.get("account"), dict) else {}
        acct = account.get("acct") if isinstance(account.get("acct"), str) and account.get("acct") else None
        name = account.get("display_name")
        followers = account.get("followers_count")
        url = status.get("url") or status.get("uri")
        language = status.get("language")
        return RawPost(
            raw=item,
            external_id=ext[:200],
            network=self.network,
            text=text,
            created_at=parse_iso_time(status.get("created_at")) or fetched,
            url=url if isinstance(url, str) else None,
            author_handle=(acct if acct is None or "@" in acct else f"{acct}@{self.host}"),
            author_name=name if isinstance(name, str) and name.strip() else acct,
            author_followers=followers if isinstance(followers, int) and not isinstance(followers, bool)
            else None,
            language_hint=language if isinstance(language, str) and language else None,
            links=_links(status, self.host),
        )


def _safe_id(item: Any) -> str | None:
    """The external id to file a status that could not be read under, if even that can be read."""
    try:
        status = _original(item)
        return str(status["id"])[:200] if _is_id(status.get("id")) else None
    except Exception:  # an id too large to write out
        return None


def _original(item: Any) -> dict[str, Any]:
    """The status an entry stands for: a boost is the boosted status; anything not an object is empty."""
    if not isinstance(item, dict):
        return {}
    reblog = item.get("reblog")
    return reblog if isinstance(reblog, dict) else item


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


# The fallback paragraph Mastodon 4.4+ adds to a quote post for clients that do not show quotes
# (`<p class="quote-inline">RE: <a href="…">…</a></p>`, hidden by Mastodon's own web interface;
# Akkoma and others send a `<span class="quote-inline">`): not the author's words.
QUOTE_FALLBACK = "quote-inline"

# A page of an instance that is about an account or a tag, not a link the author shares.
_PROFILE_OR_TAG = re.compile(r"^/(@[^/]+|users/[^/]+|tags?/[^/]+)/?$")


def _content(status: dict[str, Any]) -> str:
    content = status.get("content")
    return html_without_class(content, QUOTE_FALLBACK) if isinstance(content, str) else ""


def _text(status: dict[str, Any]) -> str:
    text = html_to_text(_content(status))
    if not text:  # a post with only pictures or video: its descriptions are what can be read
        media = status.get("media_attachments")
        text = " ".join(_media(m) for m in (media if isinstance(media, list) else []) if isinstance(m, dict))
    if not text:  # only a quote, or only a link card: what they show
        text = "\n\n".join(t for t in (_quoted(status.get("quote")), _card(status.get("card"))) if t)
    if not text:  # a quote whose post did not come with it: the fallback is all there is to read
        content = status.get("content")
        text = html_to_text(content) if isinstance(content, str) else ""
    spoiler = status.get("spoiler_text")
    if text and isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}"
    return text


def _media(attachment: dict[str, Any]) -> str:
    description = attachment.get("description")
    if isinstance(description, str) and description.strip():
        return description.strip()
    kind = attachment.get("type")
    return f"[{kind if isinstance(kind, str) and kind.strip() else 'media'}]"


def _quoted(quote: Any) -> str:
    """`[quote @acct] its text` for an accepted quote whose status came with it (a Quote entity;
    a ShallowQuote has only an id, a pending or revoked quote no status)."""
    quoted = quote.get("quoted_status") if isinstance(quote, dict) else None
    if not isinstance(quoted, dict):
        return ""
    text = html_to_text(_content(quoted))
    if not text:
        media = quoted.get("media_attachments")
        text = " ".join(_media(m) for m in (media if isinstance(media, list) else []) if isinstance(m, dict))
    account = quoted.get("account")
    acct = account.get("acct") if isinstance(account, dict) else None
    if not text:
        return ""
    return f"[quote @{acct}] {text}" if isinstance(acct, str) and acct else f"[quote] {text}"


def _card(card: Any) -> str:
    """`[link] title — description` for a preview card (PreviewCard), or its URL when it has neither."""
    if not isinstance(card, dict):
        return ""
    words = [html_to_text(card[k]) for k in ("title", "description") if isinstance(card.get(k), str)]
    words = [w for w in words if w]
    if words:
        return "[link] " + " — ".join(words)
    url = card.get("url")
    return f"[link] {url}" if isinstance(url, str) and _is_web(url) else ""


def _is_web(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _links(status: dict[str, Any], instance_host: str) -> tuple[str, ...]:
    """Outbound links: each `<a href>` of the content, then the preview card's URL. Mentions and
    hashtags (class "mention" / "hashtag") are not links the author shares, nor are account and tag
    pages of the status's own instance (or of the instance polled). The quote fallback's link to
    the quoted post is kept: it is the post this one talks about."""
    content = status.get("content")
    found = [href for href, classes in (html_links(content) if isinstance(content, str) else [])
             if not {"mention", "hashtag"} & set(classes.split())]
    card = status.get("card")
    if isinstance(card, dict) and isinstance(card.get("url"), str):
        found.append(card["url"].strip())
    own = {instance_host.lower()}
    for where in (status.get("url"), status.get("uri"), (status.get("account") or {}).get("url")
                  if isinstance(status.get("account"), dict) else None):
        if isinstance(where, str) and _is_web(where):
            own.add(urlsplit(where).netloc.lower())
    links: list[str] = []
    for href in found:
        if not _is_web(href) or href in links:
            continue
        parts = urlsplit(href)
        if parts.netloc.lower() in own and _PROFILE_OR_TAG.match(parts.path) and not parts.query:
            continue
        links.append(href)
    return tuple(links)
