"""The demo source's options (declared once, checked when settings load) and its seeded author pool.

Kept apart from ``demo.py`` (the stream, fetch and parse); the options are documented in
that module's docstring, which is the source's user documentation.
"""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from collectors.options import SourceOptions
from collectors.sources import demo_corpus as corpus
from collectors.sources.demo_draws import ascii_fold

AUTHORS: dict[str, int] = {"en": 208, "fr": 112}
INFLUENCERS: dict[str, int] = {"en": 3, "fr": 2}

Author = tuple[str, str, int | None]  # handle, display name, followers
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class DemoOptions(SourceOptions):
    seed: int = Field(7, ge=0, description="chooses the stream: same seed, same posts and ids")
    rate_per_minute: float = Field(90, gt=0, allow_inf_nan=False, description="posts per minute")
    backfill_hours: float = Field(6, ge=0, allow_inf_nan=False,
                                  description="on the first poll the stream starts this many hours ago")
    page_size: int = Field(200, gt=0, description="most posts per fetched page")
    duplicate_share: Share = Field(0.03, description="share of items served again with the same id")
    repost_share: Share = Field(0.04, description="share of cross-network reposts (duplicate_share + this ≤ 1)")
    malformed_share: Share = Field(0.0, description="share of broken items (missing text, bad date)")
    crisis_every_minutes: float = Field(0, ge=0, allow_inf_nan=False,
                                        description="a recurring outage every this many minutes (0: never)")
    crisis_minutes: float = Field(8, gt=0, allow_inf_nan=False, description="how long each crisis lasts")
    network_path: str | None = Field(None, description="where the demo network keeps the replies it accepts "
                                                       "(default var/demo-network/<source name>.jsonl)")
    refuse_share: Share = Field(0.0, description="share of reply attempts answered 'busy, try again'")

    @field_validator("repost_share")
    @classmethod
    def _shares_fit(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("duplicate_share", 0) + value > 1:
            raise ValueError(f"expected a share with duplicate_share + repost_share ≤ 1, got {value!r}")
        return value


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
