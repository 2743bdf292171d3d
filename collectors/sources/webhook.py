"""Webhook: JSON batches pushed to Vigie by listening tools and page-webhook relays.

Third-party listening tools, and relays of the Facebook, Instagram and LinkedIn page
webhooks, POST batches of posts to ``/hooks/<source name>`` on the dashboard server
(`vigie serve`, or gunicorn's ``dashboard.wsgi:server``). Nothing is polled: the
collector's scheduler skips this kind (``push = True``).

Config keys (`sources.yaml`)::

    - name: fb-page
      kind: webhook
      interval_seconds: 60          # required by every source; unused here
      secret_env: VIGIE_FB_HOOK_SECRET   # required: the shared signing secret (or secret_file: PATH),
                                    # at least 16 characters
      network: facebook             # label of the posts when an item carries none (default: webhook)
      items_path: entry.*.changes.*.value   # where the items are in the body (default: the body
                                    # itself when it is a list, else its `items` key); `*` walks a list
      fields:                       # where each post field is in an item (see collectors/mapping.py);
        external_id: post_id        # defaults: id, text, created_at, url, author.handle,
        text: [message, story]      # author.name, author.followers, network, language
        created_at: created_time    # ISO 8601 or epoch seconds (or milliseconds)
        author_handle: from.id
        author_name: from.name
      # preset: facebook_page       # instead of items_path, fields and network: read the Graph
                                    # API's Page feed webhook as a relay forwards it (PRESETS below)
      max_body_mb: 5                # larger bodies are refused with 413 (default 5)
      tolerance_seconds: 300        # how old (or early) a signed timestamp may be (default 300)
      # accept_v1_until: 2027-03-31 # also accept the first signature (sha256=, not covering the
                                    # source name) until this day included; none by default

Authentication: every request is signed with the shared secret, over the source's name, so
that a delivery signed for one source cannot be replayed to another sharing the secret. The
sender adds ``X-Vigie-Timestamp: <unix seconds>`` and
``X-Vigie-Signature: v2=<hex HMAC-SHA256 of "<source name>\n<timestamp>\n" + the raw body>``. A
request with no signature, a wrong one, or a timestamp further than ``tolerance_seconds`` from
our clock is refused with 401 and nothing is stored; within the tolerance a replayed batch
stores nothing twice, since posts are unique per source and id. (The platforms' own
signatures, e.g. Facebook's ``X-Hub-Signature-256``, are checked by the relay, which re-signs.)

Transition from the first signature (``sha256=<hex HMAC-SHA256 of "<timestamp>." + the raw
body>``, which does not cover the source): refused unless the source sets
``accept_v1_until: 2027-03-31`` (a date, UTC, inclusive; none by default). Until then a v1
delivery is stored, logged as a warning and counted on the source's health (its last error on
``/sources``); after it, 401.
The dashboard's login guard does not apply to ``/hooks/``: the signature is its authentication.

Answers (JSON): 200 ``{"stored", "duplicates", "rejected", "queued", "copies"}`` (each item sent
counted once in the first three); 400 the body is not JSON or, before the path's first ``*``,
has no list where ``items_path`` says (after it, a missing item is rejected alone); 401 bad or missing signature, stale
timestamp; 404 no enabled webhook source of that name; 413 body over ``max_body_mb``.
Items without an id or a text, or with an unreadable time, are kept in `rejected_items` and
the rest of the batch is stored. Limits: one batch is one transaction; keep batches to a few
thousand items.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from collectors.clean import clean_post
from collectors.mapping import FieldMapping, parse_path, select_items
from collectors.options import Credential, SourceOptions
from collectors.types import CollectorError, Headers, Parsed, PushSource, RawPost, Rejected, Unauthorized
from config.settings import SourceConfig

TIMESTAMP_HEADER = "X-Vigie-Timestamp"
SIGNATURE_HEADER = "X-Vigie-Signature"
MIN_SECRET_LENGTH = 16
_SIGNATURE = re.compile(r"(v2|sha256)=([0-9a-fA-F]{64})")


def _v2_message(source: str, timestamp: str, body: bytes) -> bytes:
    return source.encode() + b"\n" + timestamp.encode() + b"\n" + body


def sign(secret: str, source: str, timestamp: str, body: bytes) -> str:
    """The ``X-Vigie-Signature`` value for ``body`` sent to ``source`` at ``timestamp`` (senders and
    tests use it): ``v2=`` and the HMAC-SHA256 of the source name, the timestamp and the body."""
    digest = hmac.new(secret.encode(), _v2_message(source, timestamp, body), hashlib.sha256).hexdigest()
    return f"v2={digest}"


def sign_v1(secret: str, timestamp: str, body: bytes) -> str:
    """The first signature, over timestamp and body only: accepted only until ``accept_v1_until``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _day(value: Any) -> Any:
    """A date as YAML reads it (2027-03-31) or quoted ("2027-03-31"); anything else is left to fail."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected a date like 2027-03-31, got {value!r}") from None
    return value


def _path(value: str) -> str:
    try:
        parse_path(value, "items_path")
    except CollectorError as exc:
        raise ValueError(exc.message.removeprefix("items_path: ")) from None
    return value


# What a relay of a platform's own webhook sends, read without writing a mapping (`preset:`).
# facebook_page: the Page `feed` field of the Graph API webhooks (entry[].changes[].value): posts,
# comments, shares and photos by their id; the author as `from` (or `sender_id`/`sender_name`,
# the older format); the post's own address built from its id (`link` is what was shared, an
# outbound link, and a photo's file, never the post); reactions and removals carry no message
# and are kept as rejected items.
PRESETS: dict[str, dict[str, Any]] = {
    "facebook_page": {
        "network": "facebook",
        "items_path": "entry.*.changes.*.value",
        "fields": {
            "external_id": ["comment_id", "post_id"],
            "text": "message",
            "created_at": "created_time",
            "author_handle": ["from.id", "sender_id"],
            "author_name": ["from.name", "sender_name"],
            "url": ["permalink_url", "https://www.facebook.com/{post_id}?comment_id={comment_id}",
                    "https://www.facebook.com/{post_id}"],
            "links": "link",
        },
    },
}


class WebhookOptions(SourceOptions):
    credentials: ClassVar[tuple[Credential, ...]] = (
        Credential("secret", f"the shared signing secret (at least {MIN_SECRET_LENGTH} characters)",
                   required=True, min_length=MIN_SECRET_LENGTH),
    )
    preset: Literal["facebook_page"] | None = Field(
        None, description="read a platform's own webhook format: `facebook_page` (its items_path, fields and network)")
    network: str = Field("webhook", description="label for items that carry none")
    items_path: Annotated[str, AfterValidator(_path)] | None = Field(
        None, description="where the items are in the body (default: the body if it is a list, else its `items` key)")
    fields: dict[str, Any] | None = Field(
        None, description="where each post field is in an item (collectors/mapping.py); a list: the first present")
    max_body_mb: float = Field(5, gt=0, allow_inf_nan=False, description="larger bodies get 413")
    tolerance_seconds: float = Field(300, gt=0, allow_inf_nan=False,
                                     description="accepted clock skew, and the replay window")
    accept_v1_until: Annotated[date, BeforeValidator(_day)] | None = Field(
        None, description="also accept the first signature (`sha256=`, not covering the source) until this day (UTC)")

    @model_validator(mode="after")
    def _mapping(self) -> WebhookOptions:
        try:
            FieldMapping.from_options(self.merged_fields(), "-", self.merged_network())
        except CollectorError as exc:  # its message names the key (fields.<name>, network)
            raise ValueError(exc.message.removeprefix("-: ")) from None
        return self

    def _preset(self) -> dict[str, Any]:
        return PRESETS[self.preset] if self.preset else {}

    def merged_fields(self) -> dict[str, Any]:
        """The preset's fields, with those given in `fields` in their place."""
        return {**self._preset().get("fields", {}), **(self.fields or {})}

    def merged_network(self) -> str:
        explicit = "network" in self.model_fields_set
        return self.network if explicit or not self.preset else str(self._preset()["network"])

    def merged_items_path(self) -> str | None:
        return self.items_path if self.items_path is not None else self._preset().get("items_path")


class WebhookSource:
    kind: ClassVar[str] = "webhook"
    push: ClassVar[bool] = True
    Options: ClassVar[type[WebhookOptions]] = WebhookOptions

    def __init__(self, config: SourceConfig, options: WebhookOptions) -> None:
        self.name = config.name
        self._secret = config.secrets["secret"].reveal().encode()
        items_path = options.merged_items_path()
        self.items_path = None if items_path is None else parse_path(items_path, "items_path")
        self.mapping = FieldMapping.from_options(options.merged_fields(), f"source {config.name!r}",
                                                 options.merged_network())
        self.max_body_bytes = int(options.max_body_mb * 1024 * 1024)
        self.tolerance_seconds = float(options.tolerance_seconds)
        self.accept_v1_until = options.accept_v1_until

    def verify(self, headers: Headers, body: bytes, now: datetime) -> str | None:
        """Raise `Unauthorized` unless the signature header is ours for this source and ``body`` and
        the timestamp is recent. A v1 signature accepted in its transition period returns a warning."""
        timestamp, signature = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
        if not timestamp or not signature:
            raise Unauthorized(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise Unauthorized(f"{TIMESTAMP_HEADER}: expected unix seconds")
        if abs(now.timestamp() - int(timestamp)) > self.tolerance_seconds:
            raise Unauthorized(f"{TIMESTAMP_HEADER}: outside the {self.tolerance_seconds:g} s tolerance (replay?)")
        match = _SIGNATURE.fullmatch(signature.strip())
        if match is None:
            raise Unauthorized(f"{SIGNATURE_HEADER}: expected v2=<64 hex digits>")
        version, given = match.group(1), match.group(2).lower().encode()
        if version == "sha256":
            if self.accept_v1_until is None or now.astimezone(UTC).date() > self.accept_v1_until:
                raise Unauthorized(
                    f"{SIGNATURE_HEADER}: the v1 signature (sha256=) is no longer accepted; sign with v2=")
            message = timestamp.encode() + b"." + body
        else:
            message = _v2_message(self.name, timestamp, body)
        expected = hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given):
            raise Unauthorized(f"{SIGNATURE_HEADER}: signature does not match")
        if version == "sha256" and self.accept_v1_until is not None:
            return (f"a delivery signed v1 (sha256=, not covering the source) was accepted; v1 is refused after "
                    f"{self.accept_v1_until.isoformat()}: sign with v2=")
        return None

    def items(self, body: Any) -> list[Any]:
        """The items of a decoded body; ValueError (→ 400) when the body has no list where expected."""
        return select_items(body, self.items_path)

    def parse(self, payload: Any) -> Parsed:
        """``payload``: ``{"items": [...], "received_at": datetime}``; one Rejected per unreadable item."""
        received_at = payload.get("received_at") or datetime.now(UTC)
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        for item in payload["items"]:  # map_item passes on the Rejected that select_items made
            mapped = self.mapping.map_item(item, received_at)
            if isinstance(mapped, RawPost):  # cleaned again by ingest (a no-op): here to keep the item as sent
                cleaned = clean_post(mapped)
                if isinstance(cleaned, Rejected):
                    mapped = Rejected(cleaned.external_id, cleaned.reason, item)
            if isinstance(mapped, RawPost):
                posts.append(mapped)
            else:
                rejected.append(mapped)
        return Parsed(posts, rejected)


_CONFORMS: type[PushSource] = WebhookSource  # mypy checks here that the webhook keeps the PushSource contract
