"""Fakes of each platform's write API, for the reply writers' tests (collectors/replies/).

Each fake wraps a `ReplayServer` and speaks its platform's documented format: it checks the
auth header and the required fields (answering 400/401/403 as the platform does), keeps what it
published in ``posts``, honours Mastodon's Idempotency-Key and refuses a second Bluesky record
under one key. ``inject(fault)`` makes the next write request misbehave, once per call:

* ``"429"``: refused, rate limited, with Retry-After (nothing published);
* ``"500"``: a server error before publishing (nothing published);
* ``"late"``: published, then answered after ``LATE`` seconds (beyond the tests' client timeout);
* ``"drop"``: published, then the connection closed without an answer.

The sources configured for each fake (``mastodon(fake)``… and ``NETWORKS``: each network's fake,
its source config and the id of the post a reply answers) are here too, for the writers' tests
and the sender job's tests alike.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs

from config.sources import Secret, SourceConfig
from tests.replay import ReplayServer, Reply, Request

LATE = 1.0  # seconds: longer than the tests' client timeout (0.3 s)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakePlatform:
    """What every fake shares: the server, the published posts, the queue of injected faults."""

    WRITE_PATH: ClassVar[str] = ""  # the route that creates a post
    TIMELINE: ClassVar[str] = ""  # the route the writer's find() reads the account's posts from

    def __init__(self, token: str) -> None:
        self.server = ReplayServer(poll_interval=0.02)
        self.url = self.server.url
        self.token = token
        self.posts: list[dict[str, Any]] = []
        self.faults: list[str] = []
        self.retry_after: str | None = None  # a test's own Retry-After for "429" (else the platform's)

    def inject(self, *faults: str) -> None:
        self.faults.extend(faults)

    def close(self) -> None:
        self.server.close()

    def authorized(self, req: Request) -> bool:
        return req.headers.get("authorization") == f"Bearer {self.token}"

    def write(self, publish: Callable[[], Reply], retry_after: str = "7") -> Reply:
        """The answer to a write: a fault when one is queued, else what ``publish`` gives."""
        fault = self.faults.pop(0) if self.faults else None
        if fault == "429":
            return Reply.json({"error": "Too many requests"}, status=429,
                              headers={"Retry-After": self.retry_after or retry_after})
        if fault == "500":
            return Reply.json({"error": "Internal server error"}, status=500)
        answer = publish()
        if fault == "late":
            return replace(answer, delay=LATE)
        if fault == "drop":
            return Reply(drop=True)
        return answer

    def writes(self, path: str | None = None) -> list[Request]:
        """The write requests received (on ``path``; by default the platform's post-creating route)."""
        return [r for r in self.server.hits(path or self.WRITE_PATH) if r.method == "POST"]


class FakeMastodon(FakePlatform):
    """`POST /api/v1/statuses`, verify_credentials and the account's statuses."""

    ACCOUNT = "109000000000000001"
    WRITE_PATH = "/api/v1/statuses"
    TIMELINE = f"/api/v1/accounts/{ACCOUNT}/statuses"

    def __init__(self, token: str = "masto-write-token", statuses: tuple[str, ...] = ("111",)) -> None:
        super().__init__(token)
        self.known = set(statuses)  # statuses a reply may answer
        self.keys: dict[str, dict[str, Any]] = {}
        self.server.route("/api/v1/statuses", self._statuses)
        self.server.route("/api/v1/accounts/verify_credentials", self._me)
        self.server.route(f"/api/v1/accounts/{self.ACCOUNT}/statuses", self._timeline)

    def _statuses(self, req: Request) -> Reply:
        if not self.authorized(req):
            return Reply.json({"error": "The access token is invalid"}, status=401)
        body = json.loads(req.body or b"{}")
        if not isinstance(body.get("status"), str) or not body["status"].strip():
            return Reply.json({"error": "Validation failed: Text can't be blank"}, status=422)
        key = req.headers.get("idempotency-key")
        if key and key in self.keys:  # Mastodon answers the status the key made, and posts nothing
            return Reply.json(self.keys[key])
        parent = body.get("in_reply_to_id")
        if parent is not None and parent not in self.known:
            return Reply.json({"error": "Record not found"}, status=404)

        def publish() -> Reply:
            status_id = str(110_000_000_000_000_000 + len(self.posts) + 1)
            status = {"id": status_id, "created_at": _now(), "in_reply_to_id": parent,
                      "content": f"<p>{html.escape(body['status'])}</p>",
                      "url": f"https://mastodon.example/@aurelia/{status_id}", "text": body["status"]}
            self.posts.append(status)
            if key:
                self.keys[key] = status
            return Reply.json(status)

        return self.write(publish)

    def _me(self, req: Request) -> Reply:
        if not self.authorized(req):
            return Reply.json({"error": "The access token is invalid"}, status=401)
        return Reply.json({"id": self.ACCOUNT, "acct": "aurelia"})

    def _timeline(self, req: Request) -> Reply:
        limit = int(req.arg("limit") or 20)
        return Reply.json([{k: v for k, v in s.items() if k != "text"} for s in reversed(self.posts)][:limit])


class FakeBluesky(FakePlatform):
    """A PDS: createSession, getPosts (AppView via the PDS), createRecord and getRecord."""

    DID = "did:plc:aureliabank"
    HANDLE = "aurelia.bsky.social"
    WRITE_PATH = "/xrpc/com.atproto.repo.createRecord"
    TIMELINE = "/xrpc/com.atproto.repo.getRecord"

    def __init__(self, identifier: str = "aurelia.bsky.social", password: str = "app-pass-1234",
                 posts: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__("bsky-access-1")
        self.identifier, self.password = identifier, password
        self.known = posts or {}  # at:// uri -> post view (uri, cid, record)
        self.records: dict[str, dict[str, Any]] = {}  # rkey -> record
        self.logins = 0
        self.server.route("/xrpc/com.atproto.server.createSession", self._session)
        self.server.route("/xrpc/app.bsky.feed.getPosts", self._get_posts)
        self.server.route("/xrpc/com.atproto.repo.createRecord", self._create)
        self.server.route("/xrpc/com.atproto.repo.getRecord", self._get_record)

    def _session(self, req: Request) -> Reply:
        body = json.loads(req.body or b"{}")
        if body.get("identifier") != self.identifier or body.get("password") != self.password:
            return Reply.json({"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                              status=401)
        self.logins += 1
        return Reply.json({"accessJwt": self.token, "refreshJwt": "bsky-refresh", "did": self.DID,
                           "handle": self.HANDLE})

    def _get_posts(self, req: Request) -> Reply:
        if not self.authorized(req):
            return Reply.json({"error": "AuthenticationRequired", "message": "Authentication Required"}, status=401)
        return Reply.json({"posts": [self.known[u] for u in req.query.get("uris", []) if u in self.known]})

    def _create(self, req: Request) -> Reply:
        if not self.authorized(req):
            return Reply.json({"error": "AuthenticationRequired", "message": "Authentication Required"}, status=401)
        body = json.loads(req.body or b"{}")
        record, rkey = body.get("record"), body.get("rkey")
        problem = None
        if body.get("repo") != self.DID or body.get("collection") != "app.bsky.feed.post":
            problem = "repo must be the session's DID and collection app.bsky.feed.post"
        elif not (isinstance(rkey, str) and len(rkey) == 13 and set(rkey) <= set(TID_ALPHABET) and rkey[0] in
                  TID_ALPHABET[:16]):
            problem = "Invalid record key: must be a TID"
        elif not isinstance(record, dict) or record.get("$type") != "app.bsky.feed.post" \
                or not isinstance(record.get("text"), str) or not isinstance(record.get("createdAt"), str):
            problem = "Invalid app.bsky.feed.post record: $type, text and createdAt are required"
        elif "reply" in record and not self._valid_reply(record["reply"]):
            problem = "Invalid app.bsky.feed.post record: reply root and parent must be strong refs"
        elif rkey in self.records:
            problem = "Record already exists"
        if problem:
            return Reply.json({"error": "InvalidRequest", "message": problem}, status=400)

        def publish() -> Reply:
            self.records[rkey] = record
            self.posts.append({"rkey": rkey, **record})
            return Reply.json({"uri": f"at://{self.DID}/app.bsky.feed.post/{rkey}", "cid": f"bafy{rkey}"})

        return self.write(publish, retry_after="5")

    def _valid_reply(self, reply: Any) -> bool:
        if not isinstance(reply, dict):
            return False
        refs = [reply.get("root"), reply.get("parent")]
        return all(isinstance(r, dict) and r.get("uri") in self.known and self.known[r["uri"]]["cid"] == r.get("cid")
                   for r in refs)

    def _get_record(self, req: Request) -> Reply:
        rkey = req.arg("rkey") or ""
        if req.arg("repo") != self.DID or rkey not in self.records:
            return Reply.json({"error": "RecordNotFound", "message": f"Could not locate record: {rkey}"}, status=400)
        return Reply.json({"uri": f"at://{self.DID}/app.bsky.feed.post/{rkey}", "cid": f"bafy{rkey}",
                           "value": self.records[rkey]})


class FakeX(FakePlatform):
    """`POST /2/tweets`, `GET /2/users/me` and the user's posts (X escapes &, < and > in text)."""

    USER = "4242"
    WRITE_PATH = "/2/tweets"
    TIMELINE = f"/2/users/{USER}/tweets"

    def __init__(self, token: str = "x-user-token", tweets: tuple[str, ...] = ("1850000000000000001",)) -> None:
        super().__init__(token)
        self.known = set(tweets)
        self.server.route("/2/tweets", self._tweet)
        self.server.route("/2/users/me", self._me)
        self.server.route(f"/2/users/{self.USER}/tweets", self._timeline)

    def _unauthorized(self) -> Reply:
        return Reply.json({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
                          status=401)

    def _tweet(self, req: Request) -> Reply:
        if not self.authorized(req):
            return self._unauthorized()
        body = json.loads(req.body or b"{}")
        if not isinstance(body.get("text"), str) or not body["text"]:
            return Reply.json({"title": "Invalid Request", "detail": "One or more parameters to your request was "
                               "invalid.", "status": 400}, status=400)
        reply = body.get("reply")
        parent = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if reply is not None and parent not in self.known:
            return Reply.json({"title": "Forbidden", "status": 403, "detail": "You attempted to reply to a Tweet "
                               "that is deleted or not visible to you."}, status=403)

        def publish() -> Reply:
            tweet_id = str(1_860_000_000_000_000_000 + len(self.posts) + 1)
            self.posts.append({"id": tweet_id, "text": body["text"], "parent": parent, "created_at": _now()})
            return Reply.json({"data": {"id": tweet_id, "text": body["text"], "edit_history_tweet_ids": [tweet_id]}},
                              status=201)

        return self.write(publish)

    def _me(self, req: Request) -> Reply:
        return Reply.json({"data": {"id": self.USER, "username": "AureliaBank"}}) if self.authorized(req) \
            else self._unauthorized()

    def _timeline(self, req: Request) -> Reply:
        if not self.authorized(req):
            return self._unauthorized()
        data = []
        for post in reversed(self.posts):
            item: dict[str, Any] = {"id": post["id"], "created_at": post["created_at"], "edit_history_tweet_ids":
                                    [post["id"]], "text": post["text"].replace("&", "&amp;").replace("<", "&lt;")
                                    .replace(">", "&gt;")}
            if post["parent"]:
                item["referenced_tweets"] = [{"type": "replied_to", "id": post["parent"]}]
            data.append(item)
        return Reply.json({"data": data, "meta": {"result_count": len(data)}} if data else
                          {"meta": {"result_count": 0}})


class FakeReddit(FakePlatform):
    """`POST /api/comment` (errors inside a 200), `GET /api/v1/me` and the user's comments."""

    USER = "aurelia_bank"
    WRITE_PATH = "/api/comment"
    TIMELINE = f"/user/{USER}/comments"

    def __init__(self, token: str = "reddit-user-token", things: tuple[str, ...] = ("t3_abc123",)) -> None:
        super().__init__(token)
        self.known = set(things)
        self.server.route("/api/comment", self._comment)
        self.server.route("/api/v1/me", self._me)
        self.server.route(f"/user/{self.USER}/comments", self._comments)

    def inject(self, *faults: str) -> None:
        self.faults.extend(faults)  # also "ratelimit": Reddit's RATELIMIT error inside a 200

    def _comment(self, req: Request) -> Reply:
        if not self.authorized(req):
            return Reply.json({"message": "Unauthorized", "error": 401}, status=401)
        if not req.headers.get("user-agent", "").strip():
            return Reply.json({"message": "Too Many Requests", "error": 429}, status=429)
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("api_type") != "json":
            return Reply(200, b"{\"jquery\": []}")
        if self.faults and self.faults[0] == "ratelimit":
            self.faults.pop(0)
            return Reply.json({"json": {"errors": [["RATELIMIT", "Looks like you've been doing that a lot. Take a "
                                                    "break for 3 minutes before trying again.", "ratelimit"]]}})
        if not form.get("text"):
            return Reply.json({"json": {"errors": [["NO_TEXT", "we need something here", "text"]]}})
        if form.get("thing_id") not in self.known:
            return Reply.json({"json": {"errors": [["DELETED_LINK", "the link you are commenting on has been "
                                                    "deleted", "parent"]]}})

        def publish() -> Reply:
            comment_id = f"k{len(self.posts) + 1:05d}"
            comment = {"id": comment_id, "name": f"t1_{comment_id}", "parent_id": form["thing_id"],
                       "body": form["text"], "created_utc": datetime.now(UTC).timestamp(),
                       "permalink": f"/r/banking/comments/abc123/_/{comment_id}/"}
            self.posts.append(comment)
            return Reply.json({"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": comment}]}}})

        return self.write(publish)

    def _me(self, req: Request) -> Reply:
        return Reply.json({"name": self.USER}) if self.authorized(req) else Reply.json({"error": 401}, status=401)

    def _comments(self, req: Request) -> Reply:
        children = [{"kind": "t1", "data": c} for c in reversed(self.posts)]
        return Reply.json({"kind": "Listing", "data": {"after": None, "children": children}})


# -- the four networks, each with its fake, its config and the post a reply answers ----------------

FAST = {"timeout_seconds": 0.3, "retries": 0, "retry_base_seconds": 0}
PARENT = "at://did:plc:customer/app.bsky.feed.post/3kabcabcabc22"
ROOT = "at://did:plc:someone/app.bsky.feed.post/3kzzzzzzzzz22"


def source(kind: str, options: dict[str, Any], **secrets: str) -> SourceConfig:
    return SourceConfig(f"{kind}-test", kind, 60, True, {**options, **FAST},
                        {k: Secret(v) for k, v in secrets.items()})




def mastodon(fake: FakeMastodon, token: str = "masto-write-token") -> SourceConfig:
    return source("mastodon", {"instance": fake.url, "hashtags": ["aurelia"]}, write_token=token)


def bluesky(fake: FakeBluesky, password: str = "app-pass-1234") -> SourceConfig:
    return source("bluesky", {"query": "aurelia", "service": fake.url, "write_identifier": "aurelia.bsky.social"},
                  write_password=password)


def x(fake: FakeX, token: str = "x-user-token") -> SourceConfig:
    return source("x", {"query": "aurelia", "api_url": fake.url}, bearer_token="app-only", write_token=token)


def reddit(fake: FakeReddit, token: str = "reddit-user-token") -> SourceConfig:
    return source("reddit", {"query": "aurelia", "api_url": fake.url, "user_agent": "server:vigie-test:v1"},
                  client_id="id", client_secret="secret", write_token=token)


def make_bluesky() -> FakeBluesky:
    return FakeBluesky(posts={
        ROOT: {"uri": ROOT, "cid": "bafyroot", "record": {"text": "thread start"}},
        PARENT: {"uri": PARENT, "cid": "bafyparent", "record": {
            "text": "@aurelia my card is blocked", "reply": {"root": {"uri": ROOT, "cid": "bafyroot"},
                                                               "parent": {"uri": ROOT, "cid": "bafyroot"}}}},
    })


NETWORKS: dict[str, tuple[Callable[[], FakePlatform], Callable[[Any], SourceConfig], str]] = {
    "mastodon": (FakeMastodon, mastodon, "111"),
    "bluesky": (make_bluesky, bluesky, PARENT),
    "x": (FakeX, x, "1850000000000000001"),
    "reddit": (FakeReddit, reddit, "t3_abc123"),
}
