"""What every network writer shares: the job's interface (`Outgoing`, `Outcome`, `Writer`) and the
few rules for reading a write's answer, kept in one place so every network classifies alike.

A write is ONE request through `HttpClient.send_once`; its result is one of four outcomes:
"sent" (the platform's id read from a 2xx), "retry" (certainly not made: 429/503, nothing reached
the server, a rate limit inside a 200), "uncertain" (may have been made: a timeout after sending,
a reset, a 5xx) or "failed" (a permanent refusal, with the reason in plain words).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from collectors.http import (
    HttpClient,
    NotSent,
    OutcomeUnknown,
    Response,
    parse_rate_limit_reset,
    parse_retry_after,
)
from config.settings import SourceConfig


@dataclass(frozen=True)
class Outgoing:
    reply_id: int
    kind: str  # "reply" (an answer to a mention) or "post" (a new post from the firm's account)
    text: str  # the exact final text, sent byte for byte
    idempotency_key: str  # 32 lowercase hex chars, fixed when the reply was stored
    target_id: str | None  # the answered mention's external_id as its source stored it (None for a post)
    target_url: str | None  # the answered mention's URL (None for a post)
    attempt: int  # 1 on the first attempt
    first_attempt_at: datetime | None  # naive UTC of the first attempt (None on the first)


State = Literal["sent", "retry", "uncertain", "failed"]


@dataclass(frozen=True)
class Outcome:
    state: State
    platform_id: str | None = None  # sent: the platform's id of the new post
    url: str | None = None  # sent: its public URL (http/https only)
    retry_at: datetime | None = None  # retry/uncertain: not before this (aware UTC); None = caller's backoff
    error: str | None = None  # plain text for an operator; never a credential or a token


class Writer(Protocol):
    @property
    def network(self) -> str: ...  # "mastodon", "bluesky", "x", "reddit", "demo"

    @property
    def supports_posts(self) -> bool: ...  # can publish a new post (not only replies)

    def idempotent(self, out: Outgoing, now: datetime) -> bool: ...

    def send(self, out: Outgoing) -> Outcome: ...

    def find(self, out: Outgoing) -> Outcome | None: ...

    def close(self) -> None: ...


class WriterClass(Protocol):
    """What the registry holds: a writer class, built from the source's config, and its test of
    whether that config can write at all (the write credentials are there)."""

    def __call__(self, config: SourceConfig) -> Writer: ...

    def configured(self, config: SourceConfig) -> bool: ...


def has_secret(config: SourceConfig, name: str) -> bool:
    secret = config.secrets.get(name)
    return secret is not None and bool(secret.reveal())


def sent(platform_id: Any, url: Any) -> Outcome:
    """"sent" with the platform's id; a URL that is not http(s) is left out (it is shown to people)."""
    link = url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
    return Outcome("sent", str(platform_id), link)


def failed(error: str) -> Outcome:
    return Outcome("failed", error=error)


def attempt(http: HttpClient, method: str, url: str, *, headers: Mapping[str, str],
            json_body: Any = None, data: Mapping[str, str] | None = None) -> Response | Outcome:
    """The one request that may create a post: its Response, or the Outcome when none came back."""
    try:
        return http.send_once(method, url, headers=headers, json_body=json_body, data=data)
    except NotSent as exc:
        return Outcome("retry", error=exc.message)
    except OutcomeUnknown as exc:
        return Outcome("uncertain", error=exc.message)


def wait_until(response: Response, now: datetime | None = None) -> datetime | None:
    """When the platform allows the next request: Retry-After, else a rate-limit reset header."""
    now = now or datetime.now(UTC)
    when = parse_retry_after(response.headers.get("retry-after"), now)
    for name in ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):  # X, Mastodon/Reddit, Bluesky
        if when is None and name in response.headers:
            when = parse_rate_limit_reset(response.headers[name], now)
    return when


def refused(network: str, response: Response, what: str, secrets: tuple[str, ...] = ()) -> Outcome:
    """The Outcome of an answer that is not a success: 429/503 retry (at the time the platform
    gives, else 60 s for a 429), other 5xx uncertain (the post may have been made before the
    error), the rest a permanent refusal naming the status and the platform's own words."""
    status = response.status
    words = detail(response, secrets)
    said = f"{network} answered HTTP {status} to {what}" + (f": {words}" if words else "")
    if status in (429, 503):
        when = wait_until(response)
        if status == 429 or when is not None:
            return Outcome("retry", retry_at=when or datetime.now(UTC) + timedelta(seconds=60), error=said)
    if status >= 500:
        return Outcome("uncertain", error=said)
    if status in (401, 403):
        return failed(f"{network} refused the write token (HTTP {status}) for {what}"
                      + (f": {words}" if words else "") + "; check the source's write credential and its scopes")
    return failed(said)


def detail(response: Response, secrets: tuple[str, ...] = ()) -> str:
    """The platform's error in a few words (its JSON `error`/`message`/`detail`/`title`, else the
    body's start), single-line, at most 200 characters, with any secret we sent scrubbed out."""
    text = ""
    try:
        body = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "message", "error_description", "title", "detail")
                 if isinstance(body.get(k), str | int) and str(body[k]).strip()]
        text = ": ".join(dict.fromkeys(parts))
    if not text:
        text = response.body[:200].decode("utf-8", "replace")
    text = " ".join(text.split())[:200]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def same_text(published: str, sent_text: str) -> bool:
    """Whether a platform's copy of a post is the text we sent (spacing aside: platforms trim it)."""
    return " ".join(published.split()) == " ".join(sent_text.split())


def naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


URL = re.compile(r"https?://\S+")
