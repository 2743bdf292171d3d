"""Bluesky writer: a reply (or a post) as an `app.bsky.feed.post` record, by
`com.atproto.repo.createRecord` on the source's `service` with the write account's session.

The record key is chosen before sending: a TID derived from the reply's idempotency key, the
same on every attempt. A PDS refuses a second record under a key it already holds, so sending
again can never publish twice (`idempotent()` is always true), and `getRecord` says whether an
attempt whose answer was lost was made.

A reply names its parent (the mention: its at:// uri is the external id) and the thread's
root, each by uri and cid; both are read with `app.bsky.feed.getPosts` before writing (the root
is the parent's own `record.reply.root` when the parent is itself a reply).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from collectors.http import HttpClient, Response
from collectors.options import check_options
from collectors.replies.base import Outcome, Outgoing, attempt, detail, failed, has_secret, refused, sent
from collectors.sources.bluesky import BlueskyOptions
from collectors.types import CollectorError
from config.settings import SourceConfig

CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
CREATE_RECORD = "/xrpc/com.atproto.repo.createRecord"
GET_RECORD = "/xrpc/com.atproto.repo.getRecord"
POST = "app.bsky.feed.post"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Record keys' timestamps start here: a TID is microseconds since the epoch, and a key taken
# from a hash alone could land in the future. 2^40 µs (12.7 days) of spread from the hash.
TID_BASE_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z


def record_key(idempotency_key: str) -> str:
    """A valid TID (13 base32-sortable characters, top bit 0) derived from the idempotency key
    only, so every attempt of one reply writes under the same record key."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    micros = TID_BASE_US + (digest >> 24)  # 40 bits of the hash
    clock = digest & 0x3FF  # 10 more for the clock id
    value = (micros << 10) | clock
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


@dataclass(frozen=True)
class _Session:
    access: str
    did: str
    handle: str


# One session per account for the collector process: createSession allows 30 logins per
# 5 minutes and 300 a day, and the job builds a writer for each reply.
_SESSIONS: dict[tuple[str, str], _Session] = {}
_LOCK = threading.Lock()


def forget_sessions() -> None:
    with _LOCK:
        _SESSIONS.clear()


class BlueskyWriter:
    network: ClassVar[str] = "bluesky"
    supports_posts: ClassVar[bool] = True

    @staticmethod
    def configured(config: SourceConfig) -> bool:
        return has_secret(config, "write_password") and bool(config.options.get("write_identifier"))

    def __init__(self, config: SourceConfig) -> None:
        options = check_options(config, BlueskyOptions)
        self.service = options.service.rstrip("/")
        self.identifier = str(options.write_identifier)
        self._password = config.secrets["write_password"].reveal()
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    def idempotent(self, out: Outgoing, now: datetime) -> bool:
        return True  # the record key is fixed: a PDS holds one record under it

    def send(self, out: Outgoing) -> Outcome:
        try:
            session = self._session()
            record: dict[str, Any] = {"$type": POST, "text": out.text,
                                      "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds")
                                      .replace("+00:00", "Z")}
            if out.kind == "reply":
                thread = self._thread(session, out.target_id)
                if isinstance(thread, Outcome):
                    return thread
                record["reply"] = thread
        except _LoginRefused as exc:
            return failed(exc.message)
        except CollectorError as exc:  # reads only: nothing was written
            with _LOCK:  # an expired session is the likeliest cause: the next attempt logs in afresh
                _SESSIONS.pop((self.service, self.identifier), None)
            return Outcome("retry", error=f"bluesky: {exc.message}")
        rkey = record_key(out.idempotency_key)
        body = {"repo": session.did, "collection": POST, "rkey": rkey, "record": record}
        answer = attempt(self.http, "POST", self.service + CREATE_RECORD, headers=_auth(session), json_body=body)
        if not isinstance(answer, Outcome) and _error(answer) in ("ExpiredToken", "InvalidToken"):
            try:
                session = self._login()  # an expired token wrote nothing: once more with a new one
            except _LoginRefused as exc:
                return failed(exc.message)
            answer = attempt(self.http, "POST", self.service + CREATE_RECORD, headers=_auth(session),
                             json_body=body)
        if isinstance(answer, Outcome):
            return answer
        if answer.status == 200:
            return sent(_at_uri(session.did, rkey), _web(session, rkey))
        if answer.status in (400, 409):
            # Maybe the key is taken, by an earlier attempt of this same reply: getRecord says.
            found = self._get_record(session, rkey)
            if found is not None and found.state == "sent":
                return found
        return refused("Bluesky", answer, "the new post", (self._password, session.access))

    def find(self, out: Outgoing) -> Outcome | None:
        try:
            session = self._session()
        except CollectorError:
            return None
        return self._get_record(session, record_key(out.idempotency_key))

    # -- reads ------------------------------------------------------------------------------

    def _get_record(self, session: _Session, rkey: str) -> Outcome | None:
        try:
            response = self.http.get(self.service + GET_RECORD, params={"repo": session.did, "collection": POST,
                                                                         "rkey": rkey},
                                     headers=_auth(session), expect=None, ok=(200, 400, 404))
        except CollectorError:
            return None
        if response.status == 200:
            return sent(_at_uri(session.did, rkey), _web(session, rkey))
        if _error(response) == "RecordNotFound":
            return Outcome("retry", error="bluesky: the post was not made")
        return None

    def _thread(self, session: _Session, parent_uri: str | None) -> dict[str, Any] | Outcome:
        if not parent_uri or not parent_uri.startswith("at://"):
            return failed("bluesky: a reply without the at:// uri of the post it answers")
        response = self.http.get(self.service + GET_POSTS, params={"uris": parent_uri}, headers=_auth(session))
        body = response.json()
        posts = body.get("posts") if isinstance(body, dict) else None
        parent = next((p for p in posts or [] if isinstance(p, dict) and p.get("uri") == parent_uri), None)
        if parent is None or not isinstance(parent.get("cid"), str):
            return failed("bluesky: the post to answer is gone (deleted, or hidden from this account)")
        ref = {"uri": parent_uri, "cid": parent["cid"]}
        record = _obj(parent.get("record"))
        root: Any = _obj(record.get("reply")).get("root")
        if not isinstance(root, dict) or not isinstance(root.get("uri"), str) or not isinstance(root.get("cid"), str):
            root = ref
        return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": ref}

    # -- session ----------------------------------------------------------------------------

    def _session(self) -> _Session:
        with _LOCK:
            session = _SESSIONS.get((self.service, self.identifier))
        return session or self._login()

    def _login(self) -> _Session:
        response = self.http.post(self.service + CREATE_SESSION, expect=None, ok=(200, 400, 401),
                                  json_body={"identifier": self.identifier, "password": self._password})
        if response.status != 200:
            raise _LoginRefused(f"Bluesky refused the write login of {self.identifier!r} (HTTP {response.status}): "
                                f"{detail(response, (self._password,))}; check write_identifier and the "
                                "write_password app password")
        body = response.checked_json()
        values = [_obj(body).get(k) for k in ("accessJwt", "did", "handle")]
        if not all(isinstance(v, str) and v for v in values):
            raise CollectorError(f"{self.service}: session answer without accessJwt, did and handle")
        session = _Session(*(str(v) for v in values))
        with _LOCK:
            _SESSIONS[(self.service, self.identifier)] = session
        return session


class _LoginRefused(CollectorError):
    pass


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _auth(session: _Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.access}"}


def _error(response: Response) -> str | None:
    try:
        body = response.json()
    except CollectorError:
        return None
    return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None


def _at_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def _web(session: _Session, rkey: str) -> str:
    who = session.handle if session.handle != "handle.invalid" else session.did
    return f"https://bsky.app/profile/{who}/post/{rkey}"
