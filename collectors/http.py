"""The one HTTP client every source uses.

* Timeouts are always set (connect, read, write, pool); a server that stops answering
  costs at most ``timeout`` seconds per attempt.
* Failures worth another try (connection errors, timeouts, truncated bodies, 5xx) are
  retried ``retries`` times with jittered exponential backoff ("full jitter":
  a uniform wait in [0, min(cap, base * 2**attempt)]).
* 429 and 503 with ``Retry-After`` (seconds or an HTTP-date) are not retried here: the
  client raises `RateLimited` carrying the moment the server allows the next request;
  the runner stores it on the source row and polls nothing before it (`not_before`).
* Bodies are read in a stream and cut at ``max_bytes``: a 50 MB answer to a feed poll
  fails with a clear error instead of filling memory.
* ``expect`` lists the content types a call accepts: an HTML error page served with 200
  in place of JSON fails naming what came back.
* Credentials travel in headers the caller gives; they are never put in an error
  message or a log line (errors name the URL without its query string).
* The firm's network: every request goes through the egress proxy (``VIGIE_PROXY_URL``) when one
  is set, and TLS is verified against the system's trust store (`truststore`) plus the CAs of
  ``VIGIE_CA_BUNDLE`` (`config.egress`), set once per process by `use_egress`. A certificate that
  is not trusted fails at once, not retried, saying so and what to do.
* Writes (a reply, a post) go through `HttpClient.send_once`, never `request`: one attempt,
  no redirect followed, any status returned, and a failure says which side of the wire it
  happened on: `NotSent` (nothing reached the server: the caller may try again) or
  `OutcomeUnknown` (the request may have been acted on: trying again could post twice).
"""

from __future__ import annotations

import email.utils
import functools
import json
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import truststore
from pydantic import Field

from collectors.options import SourceOptions
from collectors.types import CollectorError
from config.egress import Egress

USER_AGENT = "Vigie/0.1 (self-hosted social listening; +https://example.invalid/vigie)"
JSON_TYPES = ("application/json", "+json")
FEED_TYPES = ("xml", "rss", "atom")


class HttpOptions(SourceOptions):
    """The keys every polled source takes for this client (its model extends this one)."""

    timeout_seconds: float = Field(10, ge=0.01, allow_inf_nan=False,
                                   description="connect/read/write timeout of each request")
    retries: int = Field(2, ge=0, description="extra tries on timeouts, connection errors, truncated bodies and 5xx")
    retry_base_seconds: float = Field(1, ge=0, allow_inf_nan=False,
                                      description="backoff base: the n-th retry waits up to base × 2^(n-1)")
    max_response_mb: float = Field(20, ge=0.001, allow_inf_nan=False, description="a larger answer is refused")


class RateLimited(CollectorError):
    """The server asked us to wait (429/503 with Retry-After): nothing is sent before ``retry_at``."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class NotSent(CollectorError):
    """A write that certainly did not reach the server (connection refused, DNS, connect timeout)."""


class OutcomeUnknown(CollectorError):
    """A write that may have reached the server and been acted on (timeout after sending, reset,
    a truncated or oversized answer): only the platform can say whether it was made."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CollectorError(f"{_safe(self.url)}: malformed JSON ({exc})") from None

    def checked_json(self) -> Any:
        """The JSON body, for callers that accepted error statuses themselves (``expect=None``):
        an HTML error page served in place of JSON fails naming what came back."""
        _check_type(self, JSON_TYPES)
        return self.json()


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` as an absolute UTC time: delta-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.astimezone(UTC), now)


def parse_rate_limit_reset(value: str, now: datetime) -> datetime | None:
    """A rate-limit reset header: epoch seconds (X, Bluesky), seconds to wait (Reddit) or an
    ISO 8601 time (Mastodon). None when unreadable."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return max(when.astimezone(UTC), now)
    if number > 1_000_000_000:  # an epoch time, not a delay
        return max(datetime.fromtimestamp(number, UTC), now)
    return now + timedelta(seconds=max(0.0, number))


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff for ``attempt`` (0-based)."""
    return (rng or random).uniform(0, min(cap, base * (2**attempt)))


_egress = Egress()  # the process's egress settings: `use_egress`, at start


def use_egress(egress: Egress) -> None:
    """Route every client made from now on through ``egress`` (the settings' proxy and CA bundle).
    Called once per process by `collectors.sources.load_checked_settings`, which every process
    starts with, so that the sources and reply writers, built from their options alone, follow it."""
    global _egress
    _egress = egress


@functools.lru_cache(maxsize=4)
def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system's trust store (`truststore`), plus the CAs of ``ca_bundle`` when given."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def _untrusted(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind a transport error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _tls_message(url: str, error: ssl.SSLCertVerificationError) -> str:
    reason = error.verify_message or error.reason or str(error)
    bundle = f" or VIGIE_CA_BUNDLE (now {_egress.ca_bundle})" if _egress.ca_bundle else " or VIGIE_CA_BUNDLE"
    return (f"{_safe(url)}: TLS certificate not trusted ({reason}): add the CA that issued it to the system's "
            f"trust store{bundle}")


def _safe(url: str) -> str:
    """The URL without its query string, which may hold a token."""
    return url.split("?", 1)[0]


class HttpClient:
    """A small synchronous client around httpx with Vigie's rules (see the module docstring)."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        max_bytes: int = 20 * 1024 * 1024,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_bytes = max_bytes
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            trust_env=False,  # no proxies or netrc picked up from the environment: the settings say (`use_egress`)
            verify=tls_context(str(_egress.ca_bundle) if _egress.ca_bundle else None),
            proxy=_egress.proxy_url,
        )

    @classmethod
    def from_options(cls, options: HttpOptions) -> HttpClient:
        """Build from a source's checked options (`HttpOptions`)."""
        return cls(
            timeout=float(options.timeout_seconds),
            retries=options.retries,
            backoff_base=float(options.retry_base_seconds),
            max_bytes=int(options.max_response_mb * 1024 * 1024),
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        expect: tuple[str, ...] | None = JSON_TYPES,
        ok: tuple[int, ...] = (200,),
        auth: tuple[str, str] | None = None,
    ) -> Response:
        """Send one request (with retries); return the response when its status is in ``ok``."""
        last: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(backoff_seconds(attempt - 1, self.backoff_base, self.backoff_cap))
            try:
                response = self._send(method, url, params, headers, data, json_body, auth)
            except _Retry as exc:
                last = exc.message
                continue
            if response.status in ok:
                _check_type(response, expect)
                return response
            now = datetime.now(UTC)
            if response.status in (429, 503):
                retry_at = parse_retry_after(response.headers.get("retry-after"), now)
                for name in ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):  # X, Mastodon, Bluesky
                    if retry_at is None and name in response.headers:
                        retry_at = parse_rate_limit_reset(response.headers[name], now)
                if retry_at is not None or response.status == 429:
                    retry_at = retry_at or now + timedelta(seconds=60)
                    raise RateLimited(
                        f"{_safe(url)}: HTTP {response.status}, rate limited until {retry_at:%Y-%m-%d %H:%M:%S} UTC",
                        retry_at,
                    )
            if response.status >= 500:
                last = f"{_safe(url)}: HTTP {response.status}"
                continue
            detail = response.body[:200].decode("utf-8", "replace").strip()
            raise CollectorError(
                f"{_safe(url)}: HTTP {response.status}" + (f": {detail}" if detail else ""),
                permanent=response.status in (401, 403, 404, 410),
            )
        raise CollectorError(f"{last} (after {self.retries + 1} attempts)")

    def send_once(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> Response:
        """Make exactly ONE attempt of a request that could create something (a reply, a post) and
        return the response whatever its status. `request` would retry a timeout or a 5xx, which
        for a write may publish twice. Redirects are not followed (httpx would turn a POST into a
        GET). Raise `NotSent` when nothing reached the server, `OutcomeUnknown` otherwise."""
        try:
            request = self._client.build_request(method, url, headers=headers, json=json_body, data=data)
            resp = self._client.send(request, stream=True, follow_redirects=False)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The connection was never made (refused, DNS, no free connection, an untrusted certificate):
            # nothing was written.
            untrusted = _untrusted(exc)
            if untrusted is not None:
                raise NotSent(f"not sent: {_tls_message(url, untrusted)}") from None
            raise NotSent(f"{_safe(url)}: not sent: {_transport_error(exc, self.timeout)}") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            # Written, maybe wholly, then a timeout, a reset or a close: the server may have acted.
            raise OutcomeUnknown(f"{_safe(url)}: no answer: {_transport_error(exc, self.timeout)}") from None
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise OutcomeUnknown(f"{_safe(url)}: HTTP {resp.status_code}, answer over the limit of "
                                         f"{self.max_bytes:,} bytes")
                chunks.append(chunk)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise OutcomeUnknown(f"{_safe(url)}: HTTP {resp.status_code}, answer cut short: "
                                 f"{_transport_error(exc, self.timeout)}") from None
        finally:
            resp.close()
        return Response(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, b"".join(chunks),
                        str(resp.url))

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        json_body: Any,
        auth: tuple[str, str] | None,
    ) -> Response:
        try:
            with self._client.stream(
                method, url, params=params, headers=headers, data=data, json=json_body, auth=auth
            ) as resp:
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise CollectorError(f"{_safe(url)}: response of {int(declared):,} bytes is over the limit "
                                         f"of {self.max_bytes:,}")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise CollectorError(f"{_safe(url)}: response over the limit of {self.max_bytes:,} bytes")
                    chunks.append(chunk)
                return Response(
                    resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, b"".join(chunks), str(resp.url)
                )
        except httpx.TimeoutException:
            raise _Retry(f"{_safe(url)}: timed out after {self.timeout:g} s") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            untrusted = _untrusted(exc)
            if untrusted is not None:  # trying again changes nothing until someone adds the CA
                raise CollectorError(_tls_message(url, untrusted)) from None
            # connection refused or reset, truncated body (RemoteProtocolError), bad gzip…
            raise _Retry(f"{_safe(url)}: {type(exc).__name__}: {_strip_query(str(exc))}") from None


class _Retry(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _transport_error(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"{type(exc).__name__} after {timeout:g} s"
    return f"{type(exc).__name__}: {_strip_query(str(exc))}"


def _strip_query(text: str) -> str:
    return " ".join(_safe(word) if "://" in word else word for word in text.split())


def _check_type(response: Response, expect: tuple[str, ...] | None) -> None:
    if expect is None or response.status == 304:
        return
    ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not any(e in ctype for e in expect):
        raise CollectorError(
            f"{_safe(response.url)}: expected {' or '.join(expect)} content, got {ctype or 'no content type'!r}"
        )
