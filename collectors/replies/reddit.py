"""Reddit writer: a comment under the mentioned post through `POST /api/comment`.

Reddit answers 200 even when it refuses: the refusal is in `json.errors` as
`[code, message, field]` lists. RATELIMIT ("take a break for 9 minutes") means nothing was
posted and says when to try again; any other code is permanent. Reddit has no idempotency key,
so `idempotent()` is false and a lost answer is settled by `find()`, which reads the account's
newest comments. New posts (submissions) are not written: `supports_posts` is false.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from collectors.http import HttpClient
from collectors.options import check_options
from collectors.replies.base import Outcome, Outgoing, attempt, failed, has_secret, naive_utc, refused, same_text, sent
from collectors.sources.reddit import RedditOptions
from collectors.types import CollectorError
from config.settings import SourceConfig

LOOKBACK = 100  # comments read by find(): Reddit's largest page
WAIT = re.compile(r"(\d+)\s*(second|minute|hour)", re.IGNORECASE)
FULLNAME = re.compile(r"t[13]_[0-9a-z]+")  # a post (t3) or a comment (t1)


class RedditWriter:
    network: ClassVar[str] = "reddit"
    supports_posts: ClassVar[bool] = False  # a submission needs a subreddit and a title: not a reply

    @staticmethod
    def configured(config: SourceConfig) -> bool:
        return has_secret(config, "write_token")

    def __init__(self, config: SourceConfig) -> None:
        options = check_options(config, RedditOptions)
        self.api = options.api_url.rstrip("/")
        self.user_agent = options.user_agent
        self._token = config.secrets["write_token"].reveal()
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    def idempotent(self, out: Outgoing, now: datetime) -> bool:
        return False  # no idempotency key on Reddit: a second request is a second comment

    def send(self, out: Outgoing) -> Outcome:
        if out.kind != "reply":
            return failed("reddit: Vigie answers on Reddit with comments only; new posts are not supported")
        if not out.target_id or not FULLNAME.fullmatch(out.target_id):
            return failed("reddit: a reply without the fullname (t3_… or t1_…) of what it answers")
        answer = attempt(self.http, "POST", f"{self.api}/api/comment", headers=self._headers(),
                         data={"api_type": "json", "thing_id": out.target_id, "text": out.text})
        if isinstance(answer, Outcome):
            return answer
        if answer.status != 200:
            return refused("Reddit", answer, "the comment", (self._token,))
        try:
            body = answer.json().get("json")
        except (CollectorError, AttributeError):
            body = None
        if not isinstance(body, dict):
            return Outcome("uncertain", error="Reddit answered 200 without its json object")
        errors = [e for e in body.get("errors") or [] if isinstance(e, list) and e]
        for code, *rest in errors:
            message = str(rest[0]) if rest else ""
            if code == "RATELIMIT":
                return Outcome("retry", retry_at=_ratelimit(message, body.get("ratelimit")),
                               error=f"Reddit rate limit: {message[:200]}")
        if errors:
            said = "; ".join(" ".join(str(part) for part in e[:2]) for e in errors)
            return failed(f"Reddit refused the comment: {said[:300]}")
        things = (body.get("data") or {}).get("things") if isinstance(body.get("data"), dict) else None
        comment = things[0].get("data") if isinstance(things, list) and things and isinstance(things[0], dict) \
            else None
        if not isinstance(comment, dict) or not comment.get("name"):
            return Outcome("uncertain", error="Reddit answered 200 without the new comment")
        return sent(comment["name"], _web(comment.get("permalink")))

    def find(self, out: Outgoing) -> Outcome | None:
        """The account's newest comments, for one under the same thing with the same body."""
        try:
            me = self.http.get(f"{self.api}/api/v1/me", headers=self._headers()).json()
            name = me.get("name") if isinstance(me, dict) else None
            if not isinstance(name, str) or not name:
                return None
            listing = self.http.get(f"{self.api}/user/{name}/comments", headers=self._headers(),
                                    params={"limit": LOOKBACK, "sort": "new", "raw_json": 1}).json()
            data = listing.get("data") if isinstance(listing, dict) else None
            children = data.get("children") if isinstance(data, dict) else None
        except (CollectorError, AttributeError):
            return None
        if not isinstance(data, dict) or not isinstance(children, list):
            return None
        comments = [c["data"] for c in children if isinstance(c, dict) and isinstance(c.get("data"), dict)]
        for comment in comments:
            if comment.get("parent_id") == out.target_id and isinstance(comment.get("body"), str) \
                    and same_text(comment["body"], out.text):
                return sent(comment.get("name"), _web(comment.get("permalink")))
        times = [c["created_utc"] for c in comments if isinstance(c.get("created_utc"), int | float)]
        first = naive_utc(out.first_attempt_at).replace(tzinfo=UTC).timestamp() if out.first_attempt_at else None
        if not data.get("after") or (first is not None and times and min(times) < first):
            return Outcome("retry", error="reddit: the comment was not published")
        return None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "User-Agent": self.user_agent}


def _ratelimit(message: str, seconds: Any) -> datetime:
    """When Reddit allows the next comment: its `ratelimit` seconds, else the message's
    "N minutes"/"N seconds", else ten minutes."""
    now = datetime.now(UTC)
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=float(seconds))
    found = WAIT.search(message)
    if found:
        unit = {"second": 1, "minute": 60, "hour": 3600}[found.group(2).lower()]
        return now + timedelta(seconds=int(found.group(1)) * unit)
    return now + timedelta(minutes=10)


def _web(permalink: Any) -> str | None:
    return f"https://www.reddit.com{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else None
