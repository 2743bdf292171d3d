"""The demo source's per-post random draws and the text slots its templates fill.

Kept apart from ``demo.py`` (the source: stream, fetch/parse) because these run once
per generated post and are tuned for it; nothing here knows about cursors or pages.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Sequence
from hashlib import blake2b
from typing import TypeVar

from collectors.sources import demo_corpus as corpus

HINTING: frozenset[str] = frozenset({"mastodon", "bluesky"})  # networks that tag a language
WRONG_HINT_SHARE = 0.03  # platforms sometimes guess the language wrong
_GENERATED_SLOTS = frozenset({"amount", "fee", "small", "days", "minutes", "count", "times", "last4", "case",
                              "clock"})
T = TypeVar("T")
_SIXTEEN_WORDS = struct.Struct("<16I")  # one 64-byte BLAKE2 digest = 16 draws


class Draws:
    """Per-post random draws from a hash of ``"{seed}:{n}"``.

    Like ``random.Random(f"{seed}:{n}")`` (stable across runs, machines and Python
    versions) but about five times cheaper to set up, which matters at thousands of
    posts per second: seeding a Mersenne Twister costs more than generating a post.
    """

    __slots__ = ("_key", "_values", "_round")

    def __init__(self, key: str) -> None:
        self._key = key.encode()
        self._round = 0
        self._values: list[int] = []

    def random(self) -> float:
        """A float in [0, 1) with 32 bits of resolution (plenty for picking among templates)."""
        values = self._values
        if not values:
            digest = blake2b(self._key + b"/%d" % self._round, digest_size=64).digest()
            values.extend(_SIXTEEN_WORDS.unpack(digest))
            self._round += 1
        return values.pop() * 2.3283064365386963e-10  # 2 ** -32

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def randint(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))


def money(value: float, lang: str) -> str:
    if lang == "en":
        return f"${value:,.2f}".replace(".00", "")
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(",00", "") + " €"


class Slots(dict[str, str]):
    """Template slots drawn lazily, so a post only pays for the slots its template uses."""

    def __init__(self, rng: Draws, lang: str) -> None:
        super().__init__()
        self.rng = rng
        self.lang = lang

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key not in _GENERATED_SLOTS:
            value = rng.choice(corpus.SLOTS[self.lang][key])
        elif key == "amount":
            value = money(rng.randint(40, 4000) + rng.choice((0, 0, 0.5, 0.99)), self.lang)
        elif key == "fee":
            value = money(rng.choice((12, 15, 25, 29, 34, 35, 39)), self.lang)
        elif key == "small":
            value = money(rng.randint(1, 20), self.lang)
        elif key == "days":
            value = str(rng.randint(2, 21))
        elif key == "minutes":
            value = str(rng.choice((5, 10, 20, 35, 45, 50, 60, 90)))
        elif key == "last4":
            value = f"{rng.randint(0, 9999):04d}"
        elif key == "case":
            value = str(rng.randint(100000, 999999))
        elif key == "clock":
            value = f"{rng.randint(7, 22)}:{rng.randint(0, 59):02d}"
        else:
            value = str(rng.randint(2, 6))
        self[key] = value  # the same slot twice in a template gets the same value
        return value


def post_url(network: str, handle: str, post_id: str, lang: str, rng: Draws) -> str:
    if network == "x":
        return f"https://x.example/{handle}/status/{post_id}"
    if network == "mastodon":
        return f"https://mastodon.example/@{handle}/{post_id}"
    if network == "bluesky":
        return f"https://bsky.example/profile/{handle}.bsky.example/post/{post_id}"
    if network == "reddit":
        return f"https://reddit.example/r/{rng.choice(corpus.SUBREDDITS[lang])}/comments/{post_id}/"
    return f"https://news.example/{handle}/{post_id}"


def language_hint(network: str, lang: str, rng: Draws) -> str | None:
    if network not in HINTING:
        return None
    if rng.random() < WRONG_HINT_SHARE:
        return "fr" if lang == "en" else "en"
    return lang


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
