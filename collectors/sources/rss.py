"""RSS and Atom feeds: blogs, news sites, forums, Google Alerts-style alert feeds.

Config keys (`sources.yaml`)::

    - name: banking-news
      kind: rss
      url: https://news.example.com/banking.rss   # required, http(s)
      interval_seconds: 300
      network: news          # label shown in the queues (default: rss)
      timeout_seconds: 10    # per request (default 10)
      retries: 2             # extra tries on timeouts, resets and 5xx (default 2)
      retry_base_seconds: 1  # backoff base, doubled per try, fully jittered (default 1)
      max_response_mb: 20    # larger answers are refused (default 20)
      username_env: FEED_USER      # optional HTTP basic auth, from the environment…
      password_file: /run/secrets/feed_password   # …or from a file

Authentication: none for public feeds; HTTP basic auth when `username`/`password` secrets
are given. Rate limits: one conditional GET per interval. The feed's ETag and
Last-Modified are sent back as If-None-Match / If-Modified-Since, and a 304 costs one
short request. The validators are kept in the cursor, so they move only in the
transaction that stores the items of that response. 429/503 with Retry-After are honoured.

Each entry becomes one post: its id (guid) is the external id (the link, or a hash of
title and summary, when the feed gives none). Its text is the title and the summary (else
the content): HTML and XHTML lose their markup, block elements separating words; plain text
(an Atom type="text", an RSS title without markup, as feedparser types them) is kept as
written, so an escaped "&lt;blink&gt;" stays the text "<blink>". Its url is its link made
absolute: against the xml:base in force, else the feed's own link (its site), else the feed's
URL without its query; a link that is not http(s), or a guid that is no web address, gives
no url. Its time is `published`, else `updated` (also when `published` cannot be read);
a date feedparser cannot read is tried again as ISO 8601 and RFC 2822. An entry that gives
a date but none that can be read (or one past year 9999 once in UTC) is rejected and kept
raw, never dated at the fetch time; an entry that gives no date at all is dated at the
fetch time, the nearest we know. Entries with neither title nor summary are rejected and
kept raw, and so is an entry that fails to be read for any other reason (with that reason):
one hostile entry never loses the rest of the page.
Whitespace or a UTF-8 byte order mark before `<?xml` is ignored. A feed that is not
well-formed but whose entries can be read keeps them, and one rejected row names the problem
with the first 8 KiB of the body (not all of it: the row is written on every change). A feed
that cannot be read at all (not XML, truncated) fails the poll with the parser's message;
the cursor does not move.
"""

from __future__ import annotations

import calendar
import codecs
import email.utils
import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
from pydantic import Field

from collectors.http import FEED_TYPES, HttpClient, HttpOptions
from collectors.markup import html_to_text
from collectors.options import Credential, HttpUrl, label
from collectors.types import CollectorError, Page, Parsed, RawPost, Rejected
from config.settings import SourceConfig

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# What feedparser is told of the response. Its xml:base stack does not restore an empty base (an
# item's xml:base would leak to the items after it), so the document gets a placeholder base in a
# scheme urljoin does not resolve against: links under an xml:base come back absolute, the others
# as written, and `_link` resolves those. The content type only avoids a "no Content-type" bozo
# flag; it reads the body's encoding exactly as no header does (BOM, then the XML declaration).
_HEADERS = {"content-location": "vigie-unresolved:/", "content-type": "application/xml"}
_WEB = ("http", "https")
_LEADING = b" \t\r\n"
_KEPT_BYTES = 8192  # of a body that is not well-formed


class RssOptions(HttpOptions):
    credentials: ClassVar[tuple[Credential, ...]] = (
        Credential("username", "HTTP basic auth user"),
        Credential("password", "HTTP basic auth password"),
    )
    url: HttpUrl = Field(description="the feed, http(s)")
    network: Annotated[str, label()] = Field("rss", description="label shown in the queues (news, forum, …)")


class RssSource:
    kind: ClassVar[str] = "rss"
    Options: ClassVar[type[RssOptions]] = RssOptions

    def __init__(self, config: SourceConfig, options: RssOptions) -> None:
        self.url, self.network = options.url, options.network
        user, password = config.secrets.get("username"), config.secrets.get("password")
        self.auth = (user.reveal(), password.reveal()) if user and password else None
        self.http = HttpClient.from_options(options)

    def _entry(self, entry: Any, base: str, feed_language: Any, fetched_at: datetime) -> RawPost | Rejected:
        title = _text(entry.get("title_detail"), entry.get("title", ""))
        summary = _text(*_summary(entry))
        ext = str(entry.get("id") or entry.get("link") or _digest(title, summary))
        if not title and not summary:
            return Rejected(ext, f"feed entry {ext!r} has neither title nor summary", dict(entry))
        created_at, unreadable = _entry_time(entry)
        if unreadable is not None:
            return Rejected(ext, f"feed entry {ext!r} has an unreadable date: {unreadable!r}", dict(entry))
        if not summary or not title or summary.startswith(title):
            text = summary or title
        else:
            text = f"{title}\n\n{summary}"
        return RawPost(
            raw=entry,
            external_id=ext,  # the pipeline makes long ids fit (prefix + hash)
            network=self.network,
            text=text,
            created_at=created_at or fetched_at,
            url=_link(entry, base),
            author_handle=entry.get("author") or None,
            author_name=entry.get("author") or None,
            language_hint=(entry.get("language") or feed_language or None),
        )

    def close(self) -> None:
        self.http.close()

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        validators = _validators(cursor)
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8"}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("modified"):
            headers["If-Modified-Since"] = validators["modified"]
        response = self.http.get(self.url, headers=headers, expect=FEED_TYPES, ok=(200, 304), auth=self.auth)
        if response.status == 304:  # nothing new since the validators we hold
            return Page(None, cursor)
        fresh = {"etag": response.headers.get("etag"), "modified": response.headers.get("last-modified")}
        fresh = {k: v for k, v in fresh.items() if v}
        return Page({"body": response.body, "fetched_at": now}, json.dumps(fresh, sort_keys=True) if fresh else None)

    def parse(self, payload: Any) -> Parsed:
        if payload is None:
            return Parsed([])
        body = _from_the_first_tag(payload["body"])
        try:
            feed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False, response_headers=_HEADERS)
        except Exception as exc:  # feedparser reads almost anything; a failure of its own fails the poll
            raise CollectorError(f"{self.url}: unreadable feed: {type(exc).__name__}: {exc}") from exc
        if feed.bozo and not feed.entries:
            raise CollectorError(f"{self.url}: unreadable feed: {feed.get('bozo_exception')}")
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        base = _base(self.url, feed.feed.get("link"))
        if feed.bozo and not isinstance(feed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
            # Not well-formed, yet entries could be read (feeds often are a little broken):
            # keep those, and keep the start of the body where an operator sees why the feed is suspect
            # (not all of it: this row is written again each time the feed changes).
            rejected.append(Rejected(None, f"{self.url}: feed is not well-formed: {feed.get('bozo_exception')}",
                                     _head(body)))
        for entry in feed.entries:
            try:
                item = self._entry(entry, base, feed.feed.get("language"), payload["fetched_at"])
            except Exception as exc:  # one hostile entry is kept raw; the rest of the page goes on
                ext = _known_id(entry)
                item = Rejected(ext, f"feed entry {ext!r} could not be read: {type(exc).__name__}: {exc}", _raw(entry))
            if isinstance(item, Rejected):
                rejected.append(item)
            else:
                posts.append(item)
        return Parsed(posts, rejected)


def _known_id(entry: Any) -> str | None:
    try:
        ext = entry.get("id") or entry.get("link")
        return str(ext) if ext else None
    except Exception:
        return None


def _raw(entry: Any) -> Any:
    try:
        return dict(entry)
    except Exception:
        return repr(entry)


def _from_the_first_tag(body: bytes) -> bytes:
    """The body without the whitespace and UTF-8 byte order marks some servers send before
    `<?xml` (XML allows nothing there, and feedparser would flag the whole feed). A body that does
    not then start with "<" (UTF-16, not XML at all) is left as it is."""
    start = body.lstrip(_LEADING)
    while start.startswith(codecs.BOM_UTF8):
        start = start[len(codecs.BOM_UTF8):].lstrip(_LEADING)
    return start if start.startswith(b"<") else body


def _head(body: bytes) -> str:
    """The start of a suspect body, as kept beside its problem."""
    head = body[:_KEPT_BYTES].decode("utf-8", "replace")
    return head if len(body) <= _KEPT_BYTES else f"{head}\n… ({len(body)} bytes in all, the first {_KEPT_BYTES} kept)"


def _validators(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def _summary(entry: Any) -> tuple[Any, str]:
    """The summary (else the first content) and its detail, which gives its type."""
    if entry.get("summary"):
        return entry.get("summary_detail"), str(entry["summary"])
    content = entry.get("content") or []
    return (content[0], str(content[0].get("value", ""))) if content else (None, "")


def _text(detail: Any, value: Any) -> str:
    """A title or summary as plain text, by the type feedparser gives it: HTML and XHTML lose their
    markup; plain text (an Atom type="text", an RSS title without markup) is kept as written, its
    entities already decoded, so "History of the &lt;blink&gt; tag" stays "History of the <blink> tag"
    (shown escaped, never rendered). Without a type (not seen from feedparser) it is read as HTML."""
    value = str(value or "")
    kind = detail.get("type") if isinstance(detail, dict) else None
    if kind is None or kind in _HTML_TYPES:
        return html_to_text(value)
    return " ".join(value.split())


def _entry_time(entry: Any) -> tuple[datetime | None, str | None]:
    """The entry's time (published, else updated) and, when a date is given but none can be read,
    that date (the entry is then rejected, not dated at the fetch time). (None, None): no date."""
    unreadable = None
    for key in ("published", "updated"):
        # read as a plain dict: feedparser's own lookup answers "updated" with "published" (deprecated)
        raw, parsed = dict.get(entry, key), dict.get(entry, f"{key}_parsed")
        if not raw and not parsed:
            continue
        when = _read_time(raw, parsed)
        if when is not None:
            return when, None
        if unreadable is None:
            unreadable = str(raw)[:200]
    return None, unreadable


def _read_time(raw: Any, parsed: Any) -> datetime | None:
    """A feed date as aware UTC, else None. ISO 8601 first: where Python reads it, it reads it
    exactly (feedparser reads the basic form 20261202T095000Z as midnight); then feedparser's
    reading; then RFC 2822 (an RFC 850 "Wednesday, 02-Dec-26" form). No offset means UTC. A time
    that leaves datetime's range once in UTC (year 9999 at -05:00) is unreadable."""
    text = raw.strip() if isinstance(raw, str) else ""
    readers = (
        lambda: datetime.fromisoformat(text) if text else None,
        lambda: datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None,
        lambda: email.utils.parsedate_to_datetime(text) if text else None,
    )
    for read in readers:
        try:
            when = read()
            if when is not None:
                return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, TypeError, OverflowError, OSError, IndexError):
            continue
    return None


def _base(feed_url: str, site: Any) -> str:
    """What a relative link is resolved against when no xml:base applies: the feed's own link (its
    site), else the feed's URL without its query (which may hold a token) and fragment."""
    try:
        parts = urlsplit(feed_url)
        page = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    except ValueError:
        page = ""
    if isinstance(site, str) and site.strip():
        resolved = _absolute(page, site)
        if resolved:
            return resolved
    return page


def _link(entry: Any, base: str) -> str | None:
    """The entry's link as an absolute http(s) URL, else None. A guid that feedparser takes for the
    link (RSS: isPermaLink is true unless said otherwise) counts only when it is a web address."""
    link = entry.get("link")
    if not isinstance(link, str) or not link.strip():
        return None
    if entry.get("guidislink") and link == entry.get("id") and not _absolute("", link):
        return None
    return _absolute(base, link)


def _absolute(base: str, link: str) -> str | None:
    try:
        url = urljoin(base, link.strip())
        parts = urlsplit(url)
        return url if parts.scheme in _WEB and parts.hostname else None
    except ValueError:  # e.g. a bad IPv6 host
        return None


def _digest(*parts: str) -> str:
    return "sha1:" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()
