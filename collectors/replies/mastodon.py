"""Mastodon writer: a reply (or a post) through `POST /api/v1/statuses` on the source's instance.

The mention's external id is the status id on the configured instance (mastodon.py stores the
boosted status for a boost), so it is the `in_reply_to_id` as is. Mastodon keeps an
`Idempotency-Key` for one hour: within it, sending again returns the first status instead of
posting twice, so `idempotent()` holds for 50 minutes after the first attempt (a margin for
clocks and queues), after which a lost answer is settled by `find()`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from collectors.http import HttpClient
from collectors.markup import html_to_text
from collectors.options import check_options
from collectors.replies.base import (
    Outcome,
    Outgoing,
    attempt,
    failed,
    has_secret,
    naive_utc,
    refused,
    same_text,
    sent,
)
from collectors.sources.mastodon import MastodonOptions
from collectors.types import CollectorError, parse_iso_time
from config.settings import SourceConfig

KEY_KEPT = timedelta(minutes=50)  # Mastodon keeps Idempotency-Key 1 hour; 10 minutes' margin
LOOKBACK = 40  # statuses read by find(): Mastodon's largest page


class MastodonWriter:
    network: ClassVar[str] = "mastodon"
    supports_posts: ClassVar[bool] = True

    @staticmethod
    def configured(config: SourceConfig) -> bool:
        return has_secret(config, "write_token")

    def __init__(self, config: SourceConfig) -> None:
        options = check_options(config, MastodonOptions)
        self.instance = options.instance.rstrip("/")
        self._token = config.secrets["write_token"].reveal()
        self.http = HttpClient.from_options(options)

    def close(self) -> None:
        self.http.close()

    def idempotent(self, out: Outgoing, now: datetime) -> bool:
        # No first attempt recorded: the one just made is the first, so its key is fresh.
        return out.first_attempt_at is None or naive_utc(now) - naive_utc(out.first_attempt_at) < KEY_KEPT

    def send(self, out: Outgoing) -> Outcome:
        body: dict[str, Any] = {"status": out.text}
        if out.kind == "reply":
            if not out.target_id:
                return failed("mastodon: a reply without the id of the status it answers")
            body["in_reply_to_id"] = out.target_id
        headers = {**self._auth(), "Idempotency-Key": out.idempotency_key}
        answer = attempt(self.http, "POST", f"{self.instance}/api/v1/statuses", headers=headers, json_body=body)
        if isinstance(answer, Outcome):
            return answer
        if answer.status != 200:
            return refused("Mastodon", answer, "the new status", (self._token,))
        status = _object(answer)
        if status is None or not status.get("id"):
            return Outcome("uncertain", error="Mastodon answered 200 without a status id")
        return sent(status["id"], status.get("url") or status.get("uri"))

    def find(self, out: Outgoing) -> Outcome | None:
        """The account's newest statuses, for one that answers the same status with the same text.
        Not found is a "retry" only when the page reaches back before the first attempt (or is
        the account's whole timeline); otherwise nobody can tell."""
        try:
            me = self.http.get(f"{self.instance}/api/v1/accounts/verify_credentials", headers=self._auth())
            account = me.json()
            if not isinstance(account, dict) or not account.get("id"):
                return None
            page = self.http.get(f"{self.instance}/api/v1/accounts/{account['id']}/statuses",
                                 params={"limit": LOOKBACK, "exclude_reblogs": "true"}, headers=self._auth())
            statuses = page.json()
        except CollectorError:
            return None
        if not isinstance(statuses, list):
            return None
        for status in statuses:
            if not isinstance(status, dict) or not isinstance(status.get("content"), str):
                continue
            answers = status.get("in_reply_to_id")
            if (str(answers) if answers else None) == (out.target_id if out.kind == "reply" else None) \
                    and same_text(html_to_text(status["content"]), out.text):
                return sent(status.get("id"), status.get("url") or status.get("uri"))
        if len(statuses) < LOOKBACK or (out.first_attempt_at and _oldest(statuses) < naive_utc(out.first_attempt_at)):
            return Outcome("retry", error="mastodon: the status was not published")
        return None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}


def _object(response: Any) -> dict[str, Any] | None:
    try:
        body = response.json()
    except CollectorError:
        return None
    return body if isinstance(body, dict) else None


def _oldest(statuses: list[Any]) -> datetime:
    times = [parse_iso_time(s.get("created_at")) for s in statuses if isinstance(s, dict)]
    known = [naive_utc(t) for t in times if t is not None]
    return min(known) if known else datetime.max
