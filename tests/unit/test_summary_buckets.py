"""The summary counts' minute buckets and the percentiles read from them (pure): each value is
within half a bucket of what its bucket stands for, and a histogram of bucket middles gives the
median and nearest-rank percentile that `statistics.median` and `models.summary_sla.percentile` give."""

from __future__ import annotations

import random
import statistics
from collections import Counter

from models.summary_counts import hist_median, hist_percentile
from models.summary_fold import BUCKETS, LAST_WIDTH, bucket, bucket_middle
from models.summary_sla import percentile


def _width(value: float) -> int:
    return next((w for bound, w in BUCKETS if value < bound), LAST_WIDTH)


def test_every_value_is_within_half_a_bucket_of_its_bucket() -> None:
    rng = random.Random(4)
    for value in [0.0, 0.2, 59.99, 60.0, 239.9, 240.0, 1439.0, 1440.0, 10079.0, 10080.0, 50_000.0] + [
            rng.uniform(0, 20_000) for _ in range(5000)]:
        lower = bucket(value)
        assert lower <= value < lower + _width(value)
        assert abs(bucket_middle(lower) - value) <= _width(value) / 2
    assert bucket(-3.0) == 0  # (a claim stamped before the queueing: clock skew)


def test_histogram_percentiles_are_those_of_the_values_they_stand_for() -> None:
    rng = random.Random(9)
    for size in (1, 2, 3, 10, 101, 1000):
        values = [bucket_middle(bucket(rng.expovariate(1 / 90))) for _ in range(size)]
        hist = sorted(Counter(values).items())
        assert hist_median(hist) == statistics.median(values)
        for share in (0.5, 0.9, 1.0):
            assert hist_percentile(hist, share) == percentile(values, share)
    assert hist_median([]) is None and hist_percentile([], 0.9) is None
