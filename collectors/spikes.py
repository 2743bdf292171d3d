"""The spike and crisis detector's arithmetic: pure functions, counts in, verdicts out.

Time is cut into windows of ``window_minutes`` ending at the current minute: window 0 is the
last ``window_minutes`` (the current minute included), window 1 the one before, and so on up
to ``baseline_windows``. For each scope (all mentions, each brand, each topic) the detector has
the mentions and the negative mentions of every window, and judges window 0 against an
exponentially weighted moving mean and variance (EWMA) of the windows before it, oldest first,
started from their median, each window entering it at most ``BASELINE_CAP_SD`` standard
deviations above it (a past crisis counts as a high window, not as a new normal, so it does not
hide the next one; a lasting rise still lifts the baseline step by step):

- **volume surge**: ``z = (count - mean) / sd`` with ``sd`` at least the Poisson spread of the
  mean (``sqrt(mean)``, and at least 1), so a quiet scope's few mentions never look like a
  crisis; it fires when ``z >= z_threshold``, ``count >= min_mentions`` and ``count >=
  min_ratio * mean``.
- **sentiment drop**: the negative share of window 0 against the EWMA of the earlier windows'
  shares, ``z`` in binomial standard deviations for window 0's size; it fires when ``z >=
  z_threshold``, the share rose by ``min_negative_rise`` or more and at least ``min_mentions``
  mentions were negative.

Windows that start before the first mention ever stored are not history (a new install would
otherwise see a surge in its first poll), nor are earlier windows in which nothing at all was
stored, in any scope: for a firm's public mentions that is a collection gap (collector stopped,
sources failing), not a quiet spell, and counting it as zero would make the first windows after
the gap look like a surge. A scope with fewer than ``min_baseline_windows`` of history gets no
verdict.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from config.reporting import DetectorConfig

KINDS: tuple[str, ...] = ("volume_surge", "sentiment_drop")
# A window enters the baseline at most this many standard deviations above it (winsorized): the
# windows of a past surge count as high, not as a new normal, and do not inflate the spread.
BASELINE_CAP_SD = 2.0


@dataclass(frozen=True)
class Counts:
    total: int = 0
    negative: int = 0


@dataclass(frozen=True)
class Verdict:
    kind: str  # volume_surge, sentiment_drop
    scope: str  # all, brand, topic
    key: str  # "" for all, the brand, the flag
    observed: float  # window 0's count, or its negative share
    expected: float  # the baseline's
    z: float
    mentions: int  # mentions in window 0

    def summary(self, window_minutes: int) -> str:
        """One plain line, e.g. "Volume surge · topic outage: 64 mentions in 10 min (usually 5.1)"."""
        where = {"all": "all mentions", "brand": f"brand {self.key}", "topic": f"topic {self.key}"}[self.scope]
        if self.kind == "volume_surge":
            return (f"Volume surge · {where}: {int(self.observed)} mentions in {window_minutes} min "
                    f"(usually {self.expected:.1f}, z {self.z:.1f})")
        return (f"Sentiment drop · {where}: {self.observed:.0%} negative in {window_minutes} min "
                f"(usually {self.expected:.0%}, {self.mentions} mentions, z {self.z:.1f})")


def ewma(values: Iterable[float], alpha: float,
         cap: Callable[[float, float, int], float] | None = None) -> tuple[float, float]:
    """Exponentially weighted mean and variance of ``values`` (oldest first); (0, 0) if empty.

    With ``cap(mean, var, i)``, value ``i`` enters the baseline at most at that level, and the mean
    starts from the values' median: a past surge counts as a high window, not as a new normal (so
    one crisis does not hide the next), while a lasting rise still lifts the baseline step by step."""
    values = list(values)
    if not values:
        return 0.0, 0.0
    mean = statistics.median(values) if cap is not None else float(values[0])
    var = 0.0
    for i, x in enumerate(values):
        if cap is None and i == 0:
            continue
        if cap is not None:
            x = min(x, cap(mean, var, i))
        diff = x - mean
        step = alpha * diff
        mean += step
        var = (1 - alpha) * (var + diff * step)
    return mean, var


def window_index(minute: datetime, now: datetime, window_minutes: int) -> int:
    """Which window a minute falls in: 0 for the last ``window_minutes`` (a later minute too, though
    the watch reads nothing after ``now``: a post stamped ahead of our clock waits for its time)."""
    last = now.replace(second=0, microsecond=0)
    back = int((last - minute.replace(second=0, microsecond=0)).total_seconds() // 60)
    return max(0, back // window_minutes)


def history_windows(first_mention: datetime | None, now: datetime, cfg: DetectorConfig) -> int:
    """How many windows before window 0 are history: those that start at or after the first
    mention (a window the install began in the middle of would look quiet, and is left out)."""
    if first_mention is None:
        return 0
    last = now.replace(second=0, microsecond=0)
    window_0_start = last - timedelta(minutes=cfg.window_minutes - 1)
    if first_mention >= window_0_start:
        return 0
    whole = int((window_0_start - first_mention).total_seconds() // 60) // cfg.window_minutes
    return min(cfg.baseline_windows, whole)


def _volume_sd(mean: float, var: float) -> float:
    return math.sqrt(max(var, mean, 1.0))  # never below the Poisson spread of the mean


def _share_sd(base: float, total: int) -> float:
    p = min(max(base, 0.02), 0.98)  # a baseline with no negatives at all still has some spread
    return math.sqrt(p * (1 - p) / total)


def judge_volume(counts: Sequence[Counts], cfg: DetectorConfig) -> tuple[float, float, float] | None:
    """(observed, expected, z) if window 0 (``counts[0]``) is a surge over ``counts[1:]``."""
    history = [c.total for c in reversed(counts[1:])]
    if len(history) < cfg.min_baseline_windows:
        return None
    mean, var = ewma(history, cfg.ewma_alpha, lambda m, v, _i: m + BASELINE_CAP_SD * _volume_sd(m, v))
    x = counts[0].total
    sd = _volume_sd(mean, var)
    z = (x - mean) / sd
    if x >= cfg.min_mentions and z >= cfg.z_threshold and x >= cfg.min_ratio * mean:
        return float(x), mean, z
    return None


def judge_sentiment(counts: Sequence[Counts], cfg: DetectorConfig) -> tuple[float, float, float] | None:
    """(share, baseline share, z) if window 0's negative share is a drop in sentiment."""
    history = [c for c in reversed(counts[1:])]
    if len(history) < cfg.min_baseline_windows:
        return None
    now = counts[0]
    if now.total == 0 or now.negative < cfg.min_mentions:
        return None
    judged = [c for c in history if c.total]
    if len(judged) < cfg.min_baseline_windows:
        return None
    base, _ = ewma([c.negative / c.total for c in judged], cfg.ewma_alpha,
                   lambda m, _v, i: m + BASELINE_CAP_SD * _share_sd(m, judged[i].total))
    share = now.negative / now.total
    z = (share - base) / _share_sd(base, now.total)
    if z >= cfg.z_threshold and share - base >= cfg.min_negative_rise:
        return share, base, z
    return None


def detect(series: dict[tuple[str, str], list[Counts]], history: int, cfg: DetectorConfig,
           gaps: frozenset[int] = frozenset()) -> list[Verdict]:
    """Verdicts for every scope of ``series`` ((scope, key) -> counts of windows 0..history);
    ``gaps``: earlier windows in which nothing was stored at all, left out of every baseline."""
    out: list[Verdict] = []
    for (scope, key), counts in sorted(series.items()):
        counts = [c for i, c in enumerate(counts[: history + 1]) if i == 0 or i not in gaps]
        found = judge_volume(counts, cfg)
        if found:
            out.append(Verdict("volume_surge", scope, key, *found, mentions=counts[0].total))
        found = judge_sentiment(counts, cfg)
        if found:
            out.append(Verdict("sentiment_drop", scope, key, *found, mentions=counts[0].total))
    return out
