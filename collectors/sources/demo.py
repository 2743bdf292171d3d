"""Built-in demo source: an endless, seeded stream of public posts about Aurelia Bank.

`vigie demo` and the tests use it so that every queue, flag and chart has something to
show without any network access. It invents posts about the fictional "Aurelia Bank" /
"Banque Aurelia" and its competitors "Northwind Bank" and "Crédit Lumière", in English
(about 65 %) and French, on the networks ``x``, ``mastodon``, ``bluesky``, ``reddit`` and
``news``: complaints (app down, card declined or blocked, fees, account locked), fraud and
phishing reports, legal threats and regulator mentions (CFPB, FINRA, SEC, ACPR, AMF),
vulnerable customers (rare), praise, product questions, sales leads, competitor chatter,
spam and neutral news. The texts use the words of ``config/lexicons.yaml`` so every risk
flag fires. Authors come from a seeded pool of a few hundred handles with heavy-tailed
follower counts (a few influencers above 10,000, some accounts without a count).

On top of the originals the stream carries what real feeds carry: the same item served
again with the same id (an exact duplicate the pipeline must drop), the same text posted
on another network under a new id by the same author (a cross-network repost), "RT" and
quote-style reposts (about 2 %), and, if asked, malformed items (missing text or bad
date) that `parse` reports as problems while keeping the rest of the page. A duplicate
keeps its original's ``created_at`` and may land in the same page as the original. Only
``mastodon`` and ``bluesky`` items carry a ``lang`` tag (wrong about 3 % of the time).

Options (keys of the source's entry in ``sources.yaml``; unknown keys are refused):

``seed`` (int ≥ 0, default 7)
    Chooses the stream. Same seed, same posts, same ids, on every machine.
``rate_per_minute`` (positive number, default 90)
    Post ``n`` is scheduled at ``anchor + n * 60 / rate_per_minute`` seconds.
``backfill_hours`` (number ≥ 0, default 6)
    On the very first fetch (no cursor) the anchor is ``now - backfill_hours`` so the
    dashboards start with history: 6 h at 90/min is 32,400 posts, served page by page.
``page_size`` (positive int, default 200)
    At most this many items per page; ``has_more`` says more are already due.
``duplicate_share``, ``repost_share`` (0..1, defaults 0.03 and 0.04, sum ≤ 1)
    Share of exact duplicates and of cross-network reposts among served items.
``malformed_share`` (0..1, default 0.0)
    Share of items with a missing text or an unreadable ``created_at``.
``crisis_every_minutes`` (number ≥ 0, default 0: never), ``crisis_minutes`` (positive, default 8)
    A recurring crisis for the wall's alerts: in the first ``crisis_minutes`` of every
    ``crisis_every_minutes`` of the clock (counted from the Unix epoch, so the same for every
    cursor), an outage: half of the original posts are complaints that the app or the website
    is down. The rest of the stream is unchanged: without a crisis it is the same stream.

Replying: the demo network accepts replies (collectors/replies/demo.py), so `vigie demo` shows
the whole outbound loop without a network. ``network_path`` (default
``var/demo-network/<source name>.jsonl``) is the file holding what it published, one JSON line
per post, written under a file lock; a second post with the same idempotency key is refused and
answered with the first one's id. ``refuse_share`` (0..1, default 0) is the share of attempts it
answers "busy, try again later", to watch retries.

Example::

    sources:
      - name: demo
        kind: demo
        interval_seconds: 2
        seed: 7
        rate_per_minute: 90
        backfill_hours: 6
        page_size: 200
        duplicate_share: 0.03
        repost_share: 0.04
        malformed_share: 0.0
        crisis_every_minutes: 60
        crisis_minutes: 8

Determinism: post ``n`` is drawn from its own random stream (a BLAKE2 hash of
``"{seed}:{n}"``), so it does not depend on what was generated before. The cursor is
``"<anchor epoch seconds>:<next post number>"``; `fetch` returns the posts due at ``now``
from that number on, so the same cursor always yields the same items (a later ``now`` can
only append to a page that was not full) and a replay after a crash neither loses nor
duplicates anything. Changing
``rate_per_minute`` on an existing cursor re-times the rest of the stream (a burst when
raised, a pause when lowered); changing ``seed`` changes the posts and their ids.

Payload, shaped like a platform API answer::

    {"data": [{"id": "7000000000042", "network": "x", "text": "...",
               "created_at": "2024-11-25T01:20:28.000000Z", "url": "https://x.example/...",
               "lang": null, "author": {"handle": "...", "name": "...", "followers_count": 120},
               "_demo": {"category": "complaint", "variant": "original", "lang": "en"}}],
     "meta": {"result_count": 1, "next_token": "1732500000.0:43", "has_more": false}}

``_demo`` is the generator's ground truth (category, original/duplicate/repost/rt/
malformed, true language) for demos and tests; `parse` ignores it.
"""

from __future__ import annotations

import math
from bisect import bisect
from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any, ClassVar

from collectors.sources import demo_corpus as corpus
from collectors.sources.demo_draws import Draws, Slots, language_hint, post_url
from collectors.sources.demo_options import DemoOptions, make_authors
from collectors.types import CollectorError, Page, Parsed, RawPost, Rejected
from config.settings import SourceConfig

NETWORKS: tuple[str, ...] = ("x", "mastodon", "bluesky", "reddit", "news")
_SOCIAL: tuple[str, ...] = ("x", "bluesky", "mastodon", "reddit")
_SOCIAL_CUM: list[float] = list(accumulate((0.42, 0.20, 0.18, 0.20)))
EN_SHARE = 0.65
RT_SHARE = 0.02  # RT / quote-style reposts, on top of repost_share
NEWS_ELSEWHERE_SHARE = 0.02  # readers' comments under news articles
LOOKBACK = 300  # duplicates and reposts refer to one of the previous LOOKBACK posts

CRISIS_SHARE = 0.5  # of the original posts during a crisis: complaints
_CATEGORIES: list[str] = list(corpus.CATEGORY_WEIGHTS)
_CATEGORY_CUM: list[float] = list(accumulate(corpus.CATEGORY_WEIGHTS.values()))

class DemoSource:
    """Seeded generator of bank-related posts; see the module docstring for its options."""

    kind: ClassVar[str] = "demo"
    Options: ClassVar[type[DemoOptions]] = DemoOptions

    def __init__(self, config: SourceConfig, options: DemoOptions) -> None:
        self.name = config.name
        self.seed = options.seed
        self.rate_per_minute = float(options.rate_per_minute)
        self.backfill_hours = float(options.backfill_hours)
        self.page_size = options.page_size
        self.duplicate_share = float(options.duplicate_share)
        self.repost_share = float(options.repost_share)
        self.malformed_share = float(options.malformed_share)
        self.crisis_every = float(options.crisis_every_minutes)
        self.crisis_minutes = float(options.crisis_minutes)
        self._step = 60.0 / self.rate_per_minute
        self._authors = make_authors(self.seed)

    # --- generation ---------------------------------------------------------------------

    def _post_id(self, n: int) -> str:
        return f"{self.seed}{n:012d}"

    def _created(self, anchor: float, n: int) -> str:
        d = datetime.fromtimestamp(anchor + n * self._step, UTC)
        # %-formatting is twice as fast as isoformat() here, and this runs once per post
        return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031
            d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)

    def _in_crisis(self, timestamp: float) -> bool:
        return (timestamp / 60) % self.crisis_every < self.crisis_minutes

    def _original(self, n: int, anchor: float, rng: Draws) -> dict[str, Any]:
        lang = "en" if rng.random() < EN_SHARE else "fr"
        category = _CATEGORIES[bisect(_CATEGORY_CUM, rng.random() * _CATEGORY_CUM[-1])]
        templates = corpus.TEMPLATES[category][lang]
        if self.crisis_every and self._in_crisis(anchor + n * self._step) and rng.random() < CRISIS_SHARE:
            # (the extra draw happens in a crisis only: other posts stay the same)
            category, templates = "complaint", corpus.CRISIS_TEMPLATES[lang]
        template = rng.choice(templates)
        slots = Slots(rng, lang)
        text = template.format_map(slots)
        mood = corpus.MOODS.get(category)
        if mood is not None and rng.random() < 0.35:
            text = f"{rng.choice(corpus.OPENERS[mood][lang])} {text}"
        tail_mood = corpus.TAIL_MOODS.get(category)
        if tail_mood is not None and rng.random() < corpus.TAIL_SHARE:
            text = f"{text} {rng.choice(corpus.TAILS[tail_mood][lang]).format_map(slots)}".strip()
        text = " ".join(text.split())
        news_share = 0.7 if category == "news" else NEWS_ELSEWHERE_SHARE
        followers: int | None
        if rng.random() < news_share:
            network = "news"
        else:
            network = _SOCIAL[bisect(_SOCIAL_CUM, rng.random() * _SOCIAL_CUM[-1])]
        if network == "news" and category == "news":
            handle, name, followers = rng.choice(corpus.OUTLETS[lang])
        else:  # people share headlines, and other posts on news sites are readers' comments
            handle, name, followers = rng.choice(self._authors[lang])
        post_id = self._post_id(n)
        return {
            "id": post_id,
            "network": network,
            "text": text,
            "created_at": self._created(anchor, n),
            "url": post_url(network, handle, post_id, lang, rng),
            "lang": language_hint(network, lang, rng),
            "author": {"handle": handle, "name": name, "followers_count": followers},
            "_demo": {"category": category, "variant": "original", "lang": lang},
        }

    def _repost(self, item: dict[str, Any], n: int, anchor: float, rng: Draws) -> dict[str, Any]:
        """The same author posts the same text on another network, under a new id."""
        truth = item["_demo"]
        network = rng.choice([net for net in _SOCIAL if net != item["network"]])
        post_id = self._post_id(n)
        handle = item["author"]["handle"]
        return {
            **item,
            "id": post_id,
            "network": network,
            "created_at": self._created(anchor, n),
            "url": post_url(network, handle, post_id, truth["lang"], rng),
            "lang": language_hint(network, truth["lang"], rng),
            "_demo": {**truth, "variant": "repost", "of": item["id"]},
        }

    def _retweet(self, item: dict[str, Any], n: int, anchor: float, rng: Draws) -> dict[str, Any]:
        """Someone else shares the post: "RT @author: text" on x, a quote elsewhere."""
        truth = item["_demo"]
        lang = truth["lang"]
        network = rng.choice(("x", "x", "bluesky", "mastodon"))
        handle, name, followers = rng.choice(self._authors[lang])
        source_handle = item["author"]["handle"]
        if network == "x":
            text = f"RT @{source_handle}: {item['text']}"
        else:
            text = f"{rng.choice(corpus.QUOTE_OPENERS[lang])} “{item['text']}” (@{source_handle})"
        post_id = self._post_id(n)
        return {
            "id": post_id,
            "network": network,
            "text": text,
            "created_at": self._created(anchor, n),
            "url": post_url(network, handle, post_id, lang, rng),
            "lang": language_hint(network, lang, rng),
            "author": {"handle": handle, "name": name, "followers_count": followers},
            "_demo": {**truth, "variant": "rt", "of": item["id"]},
        }

    def _item(self, n: int, anchor: float) -> dict[str, Any]:
        """The item served as post number ``n``: a pure function of (seed, n, anchor, rate)."""
        steps: list[tuple[str, int, Draws]] = []
        k = n
        while True:  # follow duplicate/repost links back to an original, without recursion
            rng = Draws(f"{self.seed}:{k}")
            kind_u = rng.random()
            if k == n:
                own_rng, malformed = rng, rng.random() < self.malformed_share
            else:
                rng.random()  # keep the draw sequence the same whether k is served or referenced
            variant = None
            if kind_u < self.duplicate_share:
                variant = "duplicate"
            elif kind_u < self.duplicate_share + self.repost_share:
                variant = "repost"
            elif kind_u < self.duplicate_share + self.repost_share + RT_SHARE:
                variant = "rt"
            if variant is not None:
                back = rng.randint(1, LOOKBACK)
                if k - back >= 0:
                    steps.append((variant, k, rng))
                    k -= back
                    continue
            item = self._original(k, anchor, rng)
            break
        for variant, k, rng in reversed(steps):
            if variant == "duplicate":
                item = {**item, "_demo": {**item["_demo"], "variant": "duplicate"}}
            elif variant == "repost":
                item = self._repost(item, k, anchor, rng)
            else:
                item = self._retweet(item, k, anchor, rng)
        if malformed:
            item = self._malform(item, own_rng)
        return item

    @staticmethod
    def _malform(item: dict[str, Any], rng: Draws) -> dict[str, Any]:
        item = {**item, "_demo": {**item["_demo"], "variant": "malformed"}}
        flaw = rng.randint(0, 3)
        if flaw == 0:
            del item["text"]
        elif flaw == 1:
            item["text"] = ""
        elif flaw == 2:
            item["created_at"] = "yesterday, around noon"
        else:
            item["created_at"] = "2024-02-30T25:61:00Z"
        return item

    # --- the contract -------------------------------------------------------------------

    def _read_cursor(self, cursor: str) -> tuple[float, int]:
        anchor_text, _, number_text = cursor.rpartition(":")
        try:
            anchor, number = float(anchor_text), int(number_text)
        except ValueError:
            anchor, number = math.nan, -1
        if not math.isfinite(anchor) or number < 0:
            raise CollectorError(f"source {self.name!r}: cursor {cursor!r} is not "
                                 "'<anchor epoch seconds>:<next post number>'", permanent=True)
        return anchor, number

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        """Items due at ``now`` from the cursor on, at most ``page_size`` of them."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)  # naive times are taken as UTC
        now_ts = now.timestamp()
        if cursor is None:
            anchor, start = round(now_ts - self.backfill_hours * 3600, 3), 0
        else:
            anchor, start = self._read_cursor(cursor)
        last_due = math.floor((now_ts - anchor) / self._step)  # then fix float rounding at the edge
        while anchor + (last_due + 1) * self._step <= now_ts:
            last_due += 1
        while last_due >= 0 and anchor + last_due * self._step > now_ts:
            last_due -= 1
        end = max(start, min(last_due + 1, start + self.page_size))
        items = [self._item(n, anchor) for n in range(start, end)]
        next_cursor = f"{anchor!r}:{end}"
        has_more = end <= last_due
        payload = {"data": items, "meta": {"result_count": len(items), "next_token": next_cursor,
                                           "has_more": has_more}}
        return Page(payload=payload, next_cursor=next_cursor, has_more=has_more)

    def parse(self, payload: Any) -> Parsed:
        """Map the payload's items to RawPost; one problem string per unreadable item."""
        data = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(data, list):
            raise CollectorError(f"source {self.name!r}: payload has no 'data' list")
        posts: list[RawPost] = []
        rejected: list[Rejected] = []
        for index, item in enumerate(data):
            try:
                posts.append(_raw_post(item))
            except ValueError as exc:
                item_id = item.get("id") if isinstance(item, Mapping) else None
                reason = f"source {self.name!r}: item {index} (id {item_id!r}): {exc}"
                rejected.append(Rejected(str(item_id) if item_id is not None else None, reason, item))
        return Parsed(posts, rejected)


def _optional_str(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise ValueError(f"{what} is not a string: {value!r}")


def _raw_post(item: Any) -> RawPost:
    """One payload item to a RawPost; ValueError names what is wrong."""
    if not isinstance(item, Mapping):
        raise ValueError(f"not an object: {type(item).__name__}")
    post_id, network, text = item.get("id"), item.get("network"), item.get("text")
    if not isinstance(post_id, str) or not post_id:
        raise ValueError("missing id")
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing text")
    raw_date = item.get("created_at")
    try:
        created = datetime.fromisoformat(raw_date)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"bad created_at {raw_date!r}") from None
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)
    author = item.get("author") or {}
    if not isinstance(author, Mapping):
        raise ValueError("author is not an object")
    followers = author.get("followers_count")
    if followers is not None and (type(followers) is not int or followers < 0):  # bool is not a count
        raise ValueError(f"bad followers_count {followers!r}")
    return RawPost(
        raw=item,
        external_id=post_id,
        network=network,
        text=text,
        created_at=created,
        url=_optional_str(item.get("url"), "url"),
        author_handle=_optional_str(author.get("handle"), "author.handle"),
        author_name=_optional_str(author.get("name"), "author.name"),
        author_followers=followers,
        language_hint=_optional_str(item.get("lang"), "lang"),
    )
