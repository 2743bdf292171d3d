"""The detector's arithmetic, on hand-made counts (integration tests replay real streams)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from collectors.spikes import (
    Counts,
    Verdict,
    detect,
    ewma,
    history_windows,
    judge_sentiment,
    judge_volume,
    window_index,
)
from config.checks import ConfigError
from config.reporting import DetectorConfig, parse_reporting

CFG = DetectorConfig()


def _series(current: Counts, history: list[Counts]) -> list[Counts]:
    return [current, *reversed(history)]  # index 0 is now; history given oldest first


def test_ewma_follows_a_constant_and_weights_the_newest() -> None:
    assert ewma([5, 5, 5, 5], 0.2) == (5.0, 0.0)
    mean, var = ewma([0, 0, 0, 10], 0.5)
    assert mean == 5.0 and var > 0
    assert ewma([], 0.2) == (0.0, 0.0)


def test_window_index_counts_back_from_the_current_minute() -> None:
    now = datetime(2026, 11, 25, 12, 7, 30)
    assert window_index(datetime(2026, 11, 25, 12, 7), now, 10) == 0
    assert window_index(datetime(2026, 11, 25, 11, 58), now, 10) == 0  # 12:07 back to 11:58: ten minutes
    assert window_index(datetime(2026, 11, 25, 11, 57, 59), now, 10) == 1
    assert window_index(datetime(2026, 11, 25, 12, 30), now, 10) == 0  # a clock ahead of ours


def test_history_starts_with_the_first_mention() -> None:
    now = datetime(2026, 11, 25, 12, 0)
    assert history_windows(None, now, CFG) == 0
    assert history_windows(now - timedelta(minutes=5), now, CFG) == 0
    assert history_windows(now - timedelta(minutes=39), now, CFG) == 3  # 11:51 back to 11:21: three windows
    assert history_windows(now - timedelta(days=3), now, CFG) == CFG.baseline_windows


def test_steady_poisson_counts_never_alert() -> None:
    rng = random.Random(3)
    for mean in (0.5, 3, 40, 900):
        for _ in range(300):
            draws = [Counts(max(0, round(rng.gauss(mean, mean ** 0.5)))) for _ in range(37)]
            assert judge_volume(draws, CFG) is None, (mean, draws[0])


def test_a_surge_alerts_and_small_numbers_do_not() -> None:
    flat = [Counts(40)] * 36
    found = judge_volume(_series(Counts(120), flat), CFG)
    assert found is not None and found[0] == 120 and found[1] == 40 and found[2] >= 4
    assert judge_volume(_series(Counts(70), flat), CFG) is None  # z 4.7 but less than twice the usual
    quiet = [Counts(0)] * 36
    assert judge_volume(_series(Counts(7), quiet), CFG) is None  # under min_mentions
    assert judge_volume(_series(Counts(9), quiet), CFG) is not None  # a topic nobody spoke of, now nine posts
    assert judge_volume(_series(Counts(120), flat[:5]), CFG) is None  # too little history


def test_a_sentiment_drop_needs_a_real_rise_in_negative_share() -> None:
    base = [Counts(200, 40)] * 36  # 20 % negative
    found = judge_sentiment(_series(Counts(200, 100), base), CFG)
    assert found is not None and found[0] == 0.5 and found[1] == pytest.approx(0.2)
    assert judge_sentiment(_series(Counts(200, 60), base), CFG) is None  # +10 points: under min_negative_rise
    assert judge_sentiment(_series(Counts(10, 7), base), CFG) is None  # 70 % but only 7 negative posts
    assert judge_sentiment(_series(Counts(0, 0), base), CFG) is None


def test_detect_names_kind_scope_and_key() -> None:
    flat = [Counts(40, 8)] * 36
    series = {("topic", "outage"): _series(Counts(150, 120), flat),
              ("brand", "Aurelia Bank"): _series(Counts(41, 8), flat)}
    verdicts = detect(series, 36, CFG)
    assert [(v.kind, v.scope, v.key) for v in verdicts] == [("volume_surge", "topic", "outage"),
                                                           ("sentiment_drop", "topic", "outage")]
    assert verdicts[0].summary(10) == "Volume surge · topic outage: 150 mentions in 10 min (usually 40.0, z 17.4)"
    assert "80% negative" in verdicts[1].summary(10)
    assert detect(series, 3, CFG) == []  # three windows of history: not enough to judge


def test_a_past_surge_does_not_hide_the_next_one() -> None:
    # An hour ago the topic jumped from 70 to 230 posts per window, for two windows; now it does
    # again. Taken as they were, those windows would lift the baseline and its spread so much that
    # the new surge passed unseen; they enter the baseline capped (winsorized) instead.
    history = [Counts(70)] * 5 + [Counts(230), Counts(170)] + [Counts(70)] * 4
    counts = [Counts(190), *reversed(history)]
    found = judge_volume(counts, CFG)
    assert found is not None and found[1] < 85, found
    uncapped_mean, uncapped_var = ewma([c.total for c in history], CFG.ewma_alpha)
    assert (190 - uncapped_mean) / uncapped_var ** 0.5 < CFG.z_threshold  # what the plain EWMA would say
    # a lasting rise still becomes the new normal, step by step
    risen = [Counts(70)] * 12 + [Counts(140)] * 24
    assert judge_volume([Counts(145), *reversed(risen)], CFG) is None


def test_a_collection_gap_is_not_a_quiet_spell() -> None:
    # A steady 900 posts per window, then four hours in which the collector stored nothing, then
    # the stream again: the gap's empty windows are left out of the baseline, so no surge.
    steady = [Counts(900, 180)] * 12
    series = {("all", ""): [Counts(900, 180)] + [Counts(0)] * 24 + steady}
    gaps = frozenset(range(1, 25))
    assert detect(series, 36, CFG, gaps) == []
    assert [v.kind for v in detect(series, 36, CFG)] == ["volume_surge"]  # counted as silence, it would fire
    # a real surge right after the gap is still found, against the windows before it
    series[("all", "")][0] = Counts(3000, 600)
    assert [v.kind for v in detect(series, 36, CFG, gaps)] == ["volume_surge"]
    # gaps leave too little history: no verdict rather than a guess
    assert detect({("all", ""): [Counts(3000)] + [Counts(0)] * 33 + [Counts(900)] * 3}, 36, CFG,
                  frozenset(range(1, 34))) == []


def test_reporting_config_is_checked() -> None:
    flags = {"spam", "outage"}
    cfg = parse_reporting({"timezone": "Europe/Paris", "detector": {"z_threshold": 3, "scopes": ["topic"]}}, flags)
    assert cfg.timezone == "Europe/Paris" and cfg.detector.z_threshold == 3.0 and cfg.detector.scopes == {"topic"}
    assert replace(cfg.detector, z_threshold=4.0, scopes=CFG.scopes) == CFG
    for data, message in [
        ({"timezone": "Mars/Olympus"}, "reporting.yaml: timezone: expected an IANA time zone"),
        ({"detector": {"ewma_alpha": 1.5}}, "reporting.yaml: detector.ewma_alpha: expected a number above 0"),
        ({"detector": {"scopes": ["team"]}}, "reporting.yaml: detector.scopes[0]: expected one of all, brand, topic"),
        ({"detector": {"ignore_topics": ["weather"]}}, "reporting.yaml: detector.ignore_topics[0]: expected a flag"),
        ({"detector": {"window": 5}}, "reporting.yaml: detector.window: unknown key; did you mean window_minutes?"),
        ({"detector": {"baseline_windows": 3}}, "reporting.yaml: detector.min_baseline_windows: expected at most"),
        ({"wall": {"reload_minutes": -1}}, "reporting.yaml: wall.reload_minutes: expected a whole number"),
        ({"colour": "red"}, "reporting.yaml: colour: unknown key; expected one of timezone, detector, wall, summary"),
        ({"summary": {"run_at": "25:00"}}, "reporting.yaml: summary.run_at: expected a time of day like \"00:30\""),
        ({"summary": {"at": "01:00"}}, "reporting.yaml: summary.at: unknown key; expected one of run_at"),
        ({"sumary": {"run_at": "01:00"}}, "reporting.yaml: sumary: unknown key; did you mean summary?"),
    ]:
        with pytest.raises(ConfigError) as err:
            parse_reporting(data, flags)
        assert str(err.value).startswith(message), str(err.value)


def test_verdict_is_plain_data() -> None:
    v = Verdict("volume_surge", "all", "", 12.0, 3.0, 5.0, 12)
    assert v.summary(5) == "Volume surge · all mentions: 12 mentions in 5 min (usually 3.0, z 5.0)"
