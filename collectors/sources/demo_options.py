"""The demo source's options (checked once, when the source is built) and its seeded author pool.

Kept apart from ``demo.py`` (the stream, fetch and parse); the options are documented in
that module's docstring, which is the source's user documentation.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from collectors.sources import demo_corpus as corpus
from collectors.sources.demo_draws import ascii_fold
from collectors.types import CollectorError

AUTHORS: dict[str, int] = {"en": 208, "fr": 112}
INFLUENCERS: dict[str, int] = {"en": 3, "fr": 2}

DEFAULTS: dict[str, Any] = {
    "seed": 7,
    "rate_per_minute": 90,
    "backfill_hours": 6,
    "page_size": 200,
    "duplicate_share": 0.03,
    "repost_share": 0.04,
    "malformed_share": 0.0,
    "crisis_every_minutes": 0,
    "crisis_minutes": 8,
}
Author = tuple[str, str, int | None]  # handle, display name, followers


@dataclass(frozen=True)
class DemoOptions:
    seed: int
    rate_per_minute: float
    backfill_hours: float
    page_size: int
    duplicate_share: float
    repost_share: float
    malformed_share: float
    crisis_every_minutes: float
    crisis_minutes: float


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bad(name: str, key: str, expected: str, got: Any, what: str = "option") -> CollectorError:
    return CollectorError(f"source {name!r}: {what} {key!r}: expected {expected}, got {got!r}", permanent=True)


def parse_demo_options(name: str, given: Mapping[str, Any]) -> DemoOptions:
    """The options of source ``name`` with their defaults; a bad or unknown one raises a permanent
    CollectorError naming the source and the key."""
    options = {**DEFAULTS, **dict(given)}
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        key = unknown[0]
        raise _bad(name, key, f"one of {', '.join(DEFAULTS)}", options[key], "unknown option")
    seed = options["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _bad(name, "seed", "an integer ≥ 0", seed)
    rate = options["rate_per_minute"]
    if not _is_number(rate) or rate <= 0:
        raise _bad(name, "rate_per_minute", "a positive number", rate)
    backfill = options["backfill_hours"]
    if not _is_number(backfill) or backfill < 0:
        raise _bad(name, "backfill_hours", "a number ≥ 0", backfill)
    page_size = options["page_size"]
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size <= 0:
        raise _bad(name, "page_size", "a positive integer", page_size)
    shares = {}
    for key in ("duplicate_share", "repost_share", "malformed_share"):
        value = options[key]
        if not _is_number(value) or not 0 <= value <= 1:
            raise _bad(name, key, "a number between 0 and 1", value)
        shares[key] = float(value)
    if shares["duplicate_share"] + shares["repost_share"] > 1:
        raise _bad(name, "repost_share", "a share with duplicate_share + repost_share ≤ 1", shares["repost_share"])
    crisis_every = options["crisis_every_minutes"]
    if not _is_number(crisis_every) or crisis_every < 0:
        raise _bad(name, "crisis_every_minutes", "a number ≥ 0 (0: no crisis)", crisis_every)
    crisis_minutes = options["crisis_minutes"]
    if not _is_number(crisis_minutes) or crisis_minutes <= 0:
        raise _bad(name, "crisis_minutes", "a positive number", crisis_minutes)
    return DemoOptions(seed=seed, rate_per_minute=float(rate), backfill_hours=float(backfill), page_size=page_size,
                       duplicate_share=shares["duplicate_share"], repost_share=shares["repost_share"],
                       malformed_share=shares["malformed_share"], crisis_every_minutes=float(crisis_every),
                       crisis_minutes=float(crisis_minutes))


def make_authors(seed: int) -> dict[str, list[Author]]:
    """A fixed pool per seed: handles, EN/FR display names, heavy-tailed followers."""
    rng = random.Random(f"{seed}:authors")
    taken: set[str] = set()
    pools: dict[str, list[Author]] = {}
    for lang, count in AUTHORS.items():
        pool: list[Author] = []
        stars = set(rng.sample(range(count), INFLUENCERS[lang]))
        for i in range(count):
            first = rng.choice(corpus.FIRST_NAMES[lang])
            last = rng.choice(corpus.LAST_NAMES[lang])
            f, la = ascii_fold(first), ascii_fold(last)
            handle = rng.choice((f + la, f"{f}_{la}", f"{f[0]}{la}{rng.randint(1, 99)}",
                                 f"{f}{rng.randint(70, 2009)}", f"{la}_{f[0]}", f"the{f}{la[:3]}"))
            while handle in taken:
                handle += str(rng.randint(0, 9))
            taken.add(handle)
            full = f"{first} {last}"
            name = rng.choice((full,) * 6 + (f"{first} {last[0]}.", first, f"{full} 🌻", full.upper()))
            followers: int | None
            if i in stars:
                followers = rng.randint(12_000, 250_000)
            elif rng.random() < 0.06:
                followers = None  # some platforms hide or omit the count
            else:
                followers = min(9_000, int(25 * rng.paretovariate(1.1)) - 25 + rng.randint(0, 15))
            pool.append((handle, name, followers))
        pools[lang] = pool
    return pools
