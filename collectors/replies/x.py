"""X writer: a reply (or a post) through `POST /2/tweets` with an OAuth 2.0 user-context token.

X has no idempotency key: sending again after a lost answer may post twice, so `idempotent()` is
false and such an attempt is settled by `find()`, which reads the account's own recent posts.
The mention's external id is the first id of its edit history (x.py), which X accepts as
`in_reply_to_tweet_id`.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, ClassVar

from collectors.http import HttpClient
from collectors.options import check_options
from collectors.replies.base import URL, Outcome, Outgoing, attempt, failed, has_secret, naive_utc, refused, sent
from collectors.sources.x import XOptions
from collectors.types import CollectorError, parse_iso_time
from config.settings import SourceConfig

LOOKBACK = 100  # posts read by find(): X's largest page


class XWriter:
    network: ClassVar[str] = "x"
    supports_posts: ClassVar[bool] = True

    @staticmethod
    def configured(config: SourceConfig) -> bool:
        return has_secret(config, "write_token")

    def __init__(self, config: SourceConfig) -> None:
        options = check_options(config, XOptions)
        self.api = options.api_url.rstrip("/")
        self._token = config.secrets["write_token"].reveal()
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    def idempotent(self, out: Outgoing, now: datetime) -> bool:
        return False  # X keeps no idempotency key: a second request is a second post

    def send(self, out: Outgoing) -> Outcome:
        body: dict[str, Any] = {"text": out.text}
        if out.kind == "reply":
            if not out.target_id or not out.target_id.isdigit():
                return failed("x: a reply without the numeric id of the post it answers")
            body["reply"] = {"in_reply_to_tweet_id": out.target_id}
        answer = attempt(self.http, "POST", f"{self.api}/2/tweets", headers=self._auth(), json_body=body)
        if isinstance(answer, Outcome):
            return answer
        if answer.status not in (200, 201):
            return refused("X", answer, "the new post", (self._token,))
        try:
            data = answer.json().get("data")
        except (CollectorError, AttributeError):
            data = None
        if not isinstance(data, dict) or not data.get("id"):
            return Outcome("uncertain", error=f"X answered HTTP {answer.status} without the new post's id")
        return sent(data["id"], f"https://x.com/i/web/status/{data['id']}")

    def find(self, out: Outgoing) -> Outcome | None:
        """The account's recent posts (`/2/users/:id/tweets`) for one replying to the same post
        with the same text (links compared as links: X rewrites them to t.co)."""
        try:
            me = self.http.get(f"{self.api}/2/users/me", headers=self._auth()).json()
            user = me.get("data", {}).get("id") if isinstance(me, dict) else None
            if not user:
                return None
            params: dict[str, Any] = {"max_results": LOOKBACK, "tweet.fields": "referenced_tweets,created_at"}
            body = self.http.get(f"{self.api}/2/users/{user}/tweets", params=params, headers=self._auth()).json()
        except (CollectorError, AttributeError):
            return None
        posts = body.get("data", []) if isinstance(body, dict) else None
        if not isinstance(posts, list):
            return None
        for post in posts:
            if isinstance(post, dict) and _answers(post) == (out.target_id if out.kind == "reply" else None) \
                    and _comparable(str(post.get("text", ""))) == _comparable(out.text):
                return sent(post.get("id"), f"https://x.com/i/web/status/{post.get('id')}")
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        times = [naive_utc(t) for t in (parse_iso_time(p.get("created_at")) for p in posts if isinstance(p, dict)) if t]
        complete = not meta.get("next_token")
        reaches_back = bool(out.first_attempt_at and times and min(times) < naive_utc(out.first_attempt_at))
        if complete or reaches_back:
            return Outcome("retry", error="x: the post was not published")
        return None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}


def _answers(post: dict[str, Any]) -> str | None:
    refs = post.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return str(ref.get("id"))
    return None


def _comparable(text: str) -> str:
    """X escapes &, < and > in `text` and shortens every link to t.co: compare what is left."""
    return " ".join(URL.sub("<link>", html.unescape(text)).split())
