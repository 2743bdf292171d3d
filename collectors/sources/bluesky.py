"""Bluesky (AT Protocol): posts matching a search query, newest first.

Config keys (`sources.yaml`)::

    - name: bluesky-aurelia
      kind: bluesky
      query: '"Aurelia Bank" OR aureliabank'   # required (Lucene-like syntax, per app.bsky.feed.searchPosts)
      service: https://bsky.social              # default; the host the XRPC calls go to
      identifier: listener.bsky.social          # the account's handle (or DID, or e-mail)…
      app_password_env: BLUESKY_APP_PASSWORD    # …and an app password, or app_password_file: /run/secrets/bsky
      interval_seconds: 120
      lang: en               # optional: only posts tagged with this language
      limit: 100             # posts per request, 1 to 100 (default 100)
      backfill_hours: 24     # how far back the very first run looks (default 24)
      overlap_seconds: 120   # how far back each later run looks again (default 120), see below
      network: bluesky       # label shown in the queues (default: bluesky)
      timeout_seconds: 10    # as for rss, with retries, retry_base_seconds and max_response_mb

Authentication: searchPosts on bsky.social needs a logged-in session. Create an *app password*
(Bluesky settings: Privacy and security, App passwords) and never give the account's own
password. The session comes from `com.atproto.server.createSession` and is sent as
`Authorization: Bearer`; it is kept in memory for the life of the collector process, because
createSession is limited to 30 calls per 5 minutes and 300 per day per account. When the
access token expires (`ExpiredToken`) it is renewed with `com.atproto.server.refreshSession`,
or by logging in again once. A refused login (HTTP 401) is a permanent error, reported
without the password. `identifier` and the app password go together; without both, requests
are sent without a session (for a service answering searches anonymously).

Rate limits: bsky.social allows 3000 requests per 5 minutes per IP address for most calls;
429 with Retry-After is honoured (otherwise the source waits 60 s).

Catching up: searchPosts (`sort=latest`) pages from the newest post to older ones with an
opaque cursor. A run makes one *sweep*: it asks for posts since the high-water mark (the
newest post time of the previous sweep, less `overlap_seconds`), follows the cursor until
the pages end, then moves the high-water mark to the newest post time of that sweep. Times
are Bluesky's `sortAt` (the earlier of the post's `createdAt` and `indexedAt`), the field
`since` filters on. The overlap catches posts the search index took a while to receive;
posts seen twice are stored once (one item per `uri`). The sweep, its cursor and the mark
are the source's cursor, stored with each page: a crash replays one page, no more.

Each post becomes one item: its `uri` is the external id, `record.text` the text,
`record.createdAt` the time (`indexedAt` when that is earlier: a wrong clock must not date a
post in the future), `author.handle` and `displayName` the author (followers are not in
search results: left empty), `record.langs[0]` the language hint, and
`https://bsky.app/profile/<handle>/post/<rkey>` the link.

Links: Bluesky apps show a long link shortened in the text ("drive.google.com/file/d/1rpor...")
and give the full URI in a link facet (`record.facets[].features[]` of type
app.bsky.richtext.facet#link, placed by UTF-8 *byte* offsets into the text). Each such
shortened span is written out as the full URI in the text; a facet over other words (a link on
"this article"), out of range, overlapping another or not on character boundaries leaves the
text as it is. `links` holds every link facet's URI, then the link card's
(app.bsky.embed.external, also beside a quote in recordWithMedia), once each.

A post without text shows what it embeds, each part a paragraph: the images' (or video's) alt
texts, `[image]` / `[video]` for one without; `[link] title — description` for a link card;
`[quote @handle] text` for a quoted post (from the view's hydrated embed). Only a post with
nothing to show (no text and no readable embed: deleted, a quote of a deleted or blocked post,
not a post record) is rejected, like one without a uri, and kept raw.

Replying (collectors/replies/bluesky.py): `write_identifier` (handle or DID of the account that
answers) with `write_password_env`/`write_password_file` (its app password), both or neither;
without them the source cannot be answered. A reply reads its parent with `app.bsky.feed.getPosts`
(cid, and the thread's root when the parent is itself a reply), then writes an app.bsky.feed.post
record with `com.atproto.repo.createRecord` under a record key (a TID) derived from the reply's
idempotency key, so every attempt uses the same key and the PDS refuses a second record: after a
timeout Vigie sends again, and `com.atproto.repo.getRecord` tells whether it was made. Writes are
limited per account (by the PDS: about 5,000 points an hour, a create costing 3); a 429 waits for
its `ratelimit-reset`. One login (createSession) serves the collector process.

An author whose handle the AppView could not verify comes as `handle.invalid`: that is never
shown as a handle; the DID is the handle (and the name, without a display name) and the link
is `https://bsky.app/profile/<did>/post/<rkey>`. parse never raises: a post view that cannot be
read is rejected with the reason and the rest of the page goes on.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationInfo, model_validator

from collectors.http import HttpClient, HttpOptions, Response
from collectors.options import Credential, HttpUrl, label, text
from collectors.sources.bluesky_posts import post_of, sort_at
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

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"


@dataclass(frozen=True)
class _Session:
    access: str
    refresh: str


# Sessions outlive one run (a source object lives for one poll): logging in at every poll
# would spend createSession's 300 calls a day within hours. Keyed by service and account.
_SESSIONS: dict[tuple[str, str], _Session] = {}
_SESSIONS_LOCK = threading.Lock()


def forget_sessions() -> None:
    """Drop every kept session (tests; a changed app password is picked up at the next login)."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


class BlueskyOptions(HttpOptions):
    credentials: ClassVar[tuple[Credential, ...]] = (
        Credential("app_password", "an app password of the identifier's account (never the account password)"),
        Credential("write_password", "an app password of the write_identifier's account, for replies"),
    )
    query: Annotated[str, text("a search text")] = Field(description="the search (searchPosts' Lucene-like syntax)")
    service: HttpUrl = Field("https://bsky.social", description="the PDS/AppView the XRPC calls go to")
    identifier: str | None = Field(None, description="handle, DID or e-mail of the listening account, "
                                                     "with app_password_env/_file")
    write_identifier: str | None = Field(None, description="handle or DID of the account that replies, "
                                                           "with write_password_env/_file")
    lang: Annotated[str, label("a language code such as 'en'")] | None = Field(
        None, description="only posts tagged with this language")
    limit: int = Field(100, ge=1, le=100, description="posts per request, 1..100")
    backfill_hours: float = Field(24, ge=0, le=24 * 365, description="how far back the first run looks")
    overlap_seconds: float = Field(120, ge=0, le=86_400,
                                   description="how far back later runs look again, for posts indexed late")
    network: Annotated[str, label()] = Field("bluesky", description="label shown in the queues")

    @model_validator(mode="after")
    def _login_goes_together(self, info: ValidationInfo) -> BlueskyOptions:
        context = info.context or {}
        if not context.get("enabled", True):  # a disabled source may lack its credentials
            return self
        credentials = context.get("credentials", frozenset())
        if (self.identifier is None) != ("app_password" not in credentials):
            raise ValueError("identifier and app_password_env (or app_password_file) go together")
        if (self.write_identifier is None) != ("write_password" not in credentials):
            raise ValueError("write_identifier and write_password_env (or write_password_file) go together")
        return self


class BlueskySource:
    kind: ClassVar[str] = "bluesky"
    Options: ClassVar[type[BlueskyOptions]] = BlueskyOptions

    def __init__(self, config: SourceConfig, options: BlueskyOptions) -> None:
        self.where = f"source {config.name!r}"
        password = config.secrets.get("app_password")
        self.limit = options.limit
        self.backfill = timedelta(hours=options.backfill_hours)
        self.overlap = timedelta(seconds=options.overlap_seconds)
        self.query, self.lang, self.network = options.query, options.lang, options.network
        self.service = options.service.rstrip("/")
        self.identifier = options.identifier
        self._password = password.reveal() if password else None
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        state = _load(cursor)
        sweep = state.get("sweep")
        if sweep is None:  # a new sweep: everything since the mark (less the overlap), or the backfill
            mark = parse_iso_time(state.get("mark"))
            start = mark - self.overlap if mark else now - self.backfill
            sweep = {"since": _iso(start), "top": state.get("mark")}
        params: dict[str, Any] = {"q": self.query, "sort": "latest", "limit": self.limit, "since": sweep["since"]}
        if self.lang:
            params["lang"] = self.lang
        if sweep.get("cursor"):
            params["cursor"] = sweep["cursor"]
        body = self._xrpc_get(SEARCH, params)
        posts = body.get("posts") if isinstance(body, dict) else None
        if not isinstance(posts, list):
            raise CollectorError(f"{self.service}{SEARCH}: expected an object with a list of posts")
        times = [t for t in (sort_at(p) for p in posts) if t is not None]
        top = max([t for t in (parse_iso_time(sweep.get("top")), *times) if t is not None], default=None)
        since = parse_iso_time(sweep["since"])
        # The sweep ends with the pages, or on reaching posts older than its start (a service
        # that ignores `since` would otherwise be walked back to the beginning of time).
        api_cursor = body.get("cursor")
        ended = not posts or not isinstance(api_cursor, str) or not api_cursor or (
            since is not None and any(t < since for t in times))
        if ended:
            state = {"mark": _iso(top) if top else state.get("mark")}
        else:
            sweep = {**sweep, "cursor": api_cursor, "top": _iso(top) if top else None}
            state = {"mark": state.get("mark"), "sweep": sweep}
        next_cursor = json.dumps({k: v for k, v in state.items() if v is not None}, sort_keys=True)
        return Page({"posts": posts, "fetched_at": now}, next_cursor, has_more=not ended)

    def parse(self, payload: Any) -> Parsed:
        """Each post view on its own: one that cannot be read is rejected with the reason, never a crash."""
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        body = payload if isinstance(payload, dict) else {}
        fetched = body["fetched_at"] if isinstance(body.get("fetched_at"), datetime) else datetime.now(UTC)
        views = body.get("posts")
        for view in views if isinstance(views, list) else []:
            try:
                post = post_of(view, fetched, self.network)
            except Exception as exc:  # a hostile post view: rejected whole, the page goes on
                uri = view.get("uri") if isinstance(view, dict) else None
                ext = uri[:200] if isinstance(uri, str) and uri.startswith("at://") else None
                rejected.append(Rejected(ext, f"bluesky: post {ext} could not be read ({type(exc).__name__})", view))
                continue
            if isinstance(post, Rejected):
                rejected.append(post)
            else:
                posts.append(post)
        return Parsed(posts, rejected)

    # -- sessions ---------------------------------------------------------------------------

    def _xrpc_get(self, path: str, params: dict[str, Any]) -> Any:
        """GET with the session; an expired or revoked token is renewed once, then the call is made again."""
        for attempt in range(2):
            session = self._session() if self.identifier else None
            headers = {"Authorization": f"Bearer {session.access}"} if session else {}
            response = self.http.get(self.service + path, params=params, headers=headers, expect=None,
                                     ok=(200, 400, 401))
            if response.status == 200:
                return response.checked_json()
            error, message = _error(response)
            if session and attempt == 0 and error in ("ExpiredToken", "InvalidToken"):
                self._renew(session)
                continue
            raise CollectorError(f"{self.service}{path}: HTTP {response.status}: {error}: {message}",
                                 permanent=response.status == 401 or error == "BadQueryString")
        raise AssertionError("unreachable")

    def _key(self) -> tuple[str, str]:
        return self.service, self.identifier or ""

    def _session(self) -> _Session:
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(self._key())
        return session or self._login()

    def _renew(self, old: _Session) -> None:
        """refreshSession with the refresh token; when that one is refused too, log in again."""
        response = self.http.post(self.service + REFRESH_SESSION, headers={"Authorization": f"Bearer {old.refresh}"},
                                  expect=None, ok=(200, 400, 401))
        if response.status == 200:
            self._keep(response.checked_json())
        else:
            self._login()

    def _login(self) -> _Session:
        assert self.identifier is not None and self._password is not None
        response = self.http.post(self.service + CREATE_SESSION, expect=None, ok=(200, 400, 401),
                                  json_body={"identifier": self.identifier, "password": self._password})
        if response.status != 200:
            error, message = _error(response)
            # The server's words, never ours with the password in them (a server echoing it is scrubbed).
            detail = f"{error}: {message}".replace(self._password, "********")
            raise CollectorError(f"{self.where}: Bluesky login of {self.identifier!r} refused: HTTP {response.status}: "
                                 f"{detail}", permanent=True)
        return self._keep(response.checked_json())

    def _keep(self, body: Any) -> _Session:
        access = body.get("accessJwt") if isinstance(body, dict) else None
        refresh = body.get("refreshJwt") if isinstance(body, dict) else None
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise CollectorError(f"{self.service}: session answer without accessJwt and refreshJwt")
        session = _Session(access, refresh)
        with _SESSIONS_LOCK:
            _SESSIONS[self._key()] = session
        return session


def _error(response: Response) -> tuple[str, str]:
    """XRPC errors are `{"error": name, "message": text}`; anything else is shown shortened."""
    try:
        body = json.loads(response.body)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"], str(body.get("message") or "")[:200]
    return "Error", response.body[:200].decode("utf-8", "replace").strip()


def _load(cursor: str | None) -> dict[str, Any]:
    value = load_json_cursor(cursor)
    sweep = value.get("sweep")
    return {"mark": value.get("mark"), "sweep": sweep if isinstance(sweep, dict) and parse_iso_time(sweep.get("since"))
            else None}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
