"""`reporting.yaml`: the reporting time zone, the spike and crisis detector, the wall, the daily summary.

::

    timezone: Europe/Paris        # an IANA zone: where "today" starts on the wall (and the daily summary's day)
    detector:                     # the collector's `alerts:detect` job (see collectors/jobs/spike_watch.py)
      every_seconds: 30           # how often it runs
      window_minutes: 10          # the window it judges: the last N minutes, against the windows before
      baseline_windows: 36        # how many earlier windows make the baseline (36 x 10 min = 6 h)
      min_baseline_windows: 6     # no verdict on a scope with less history than this (a new install)
      ewma_alpha: 0.2             # weight of the newest window in the baseline's moving mean and variance
      z_threshold: 4.0            # standard deviations above the baseline that make a surge
      min_mentions: 8             # never alert on fewer mentions than this in the window
      min_ratio: 2.0              # volume surge: the window holds at least this many times the baseline
      min_negative_rise: 0.15     # sentiment drop: the negative share rose by at least this much (0.15 = 15 points)
      quiet_minutes: 30           # an alert stays open (and is not raised again) until quiet this long
      scopes: [all, brand, topic] # all mentions; each brand (own and competitors); each risk flag of lexicons.yaml
      ignore_topics: [spam]       # flags that are not topics worth an alert
    wall:
      reload_minutes: 360         # the wall reloads itself this often (0: never), once the server answers
    summary:
      run_at: "00:30"             # local time after which the scheduler computes (and sends) yesterday's summary

Every key is optional; the defaults are the values above. A missing file means all defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.checks import _fail, _mapping, _positive_int, _positive_number, _read_yaml, _strings
from config.sla import _zone

SCOPES: tuple[str, ...] = ("all", "brand", "topic")
TOP_KEYS: tuple[str, ...] = ("timezone", "detector", "wall", "summary")
DETECTOR_KEYS: tuple[str, ...] = (
    "every_seconds", "window_minutes", "baseline_windows", "min_baseline_windows", "ewma_alpha", "z_threshold",
    "min_mentions", "min_ratio", "min_negative_rise", "quiet_minutes", "scopes", "ignore_topics",
)
WALL_KEYS: tuple[str, ...] = ("reload_minutes",)
SUMMARY_KEYS: tuple[str, ...] = ("run_at",)


@dataclass(frozen=True)
class DetectorConfig:
    every_seconds: int = 30
    window_minutes: int = 10
    baseline_windows: int = 36
    min_baseline_windows: int = 6
    ewma_alpha: float = 0.2
    z_threshold: float = 4.0
    min_mentions: int = 8
    min_ratio: float = 2.0
    min_negative_rise: float = 0.15
    quiet_minutes: int = 30
    scopes: frozenset[str] = frozenset(SCOPES)
    ignore_topics: frozenset[str] = frozenset({"spam"})


@dataclass(frozen=True)
class ReportingConfig:
    timezone: str = "UTC"
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    wall_reload_minutes: int = 360
    summary_run_at: tuple[int, int] = (0, 30)  # (hour, minute), local


def _only(raw: Mapping[str, Any], allowed: tuple[str, ...], file: str, key: str) -> None:
    extra = sorted(str(k) for k in raw if k not in allowed)
    if extra:
        raise _fail(file, key, f"only {', '.join(allowed)}", extra)


def _fraction(value: Any, file: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise _fail(file, key, "a number above 0 and at most 1", value)
    return float(value)


def _non_negative_int(value: Any, file: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(file, key, "a whole number, 0 or more", value)
    return value


def _clock(value: Any, file: str, key: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2}):(\d{2})", value.strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise _fail(file, key, 'a time of day like "00:30"', value)
    return int(match.group(1)), int(match.group(2))


def _detector(data: Any, flags: set[str], file: str) -> DetectorConfig:
    raw = _mapping(data, file, "detector")
    _only(raw, DETECTOR_KEYS, file, "detector")
    d = DetectorConfig()

    def get(name: str, check: Any) -> Any:
        return check(raw[name], file, f"detector.{name}") if name in raw else getattr(d, name)

    scopes = get("scopes", _strings)
    for i, scope in enumerate(scopes):
        if scope not in SCOPES:
            raise _fail(file, f"detector.scopes[{i}]", f"one of {', '.join(SCOPES)}", scope)
    ignore = get("ignore_topics", _strings)
    for i, flag in enumerate(ignore):
        if flag not in flags:
            raise _fail(file, f"detector.ignore_topics[{i}]", "a flag defined in lexicons.yaml", flag)
    out = DetectorConfig(
        every_seconds=get("every_seconds", _positive_int),
        window_minutes=get("window_minutes", _positive_int),
        baseline_windows=get("baseline_windows", _positive_int),
        min_baseline_windows=get("min_baseline_windows", _positive_int),
        ewma_alpha=get("ewma_alpha", _fraction),
        z_threshold=get("z_threshold", _positive_number),
        min_mentions=get("min_mentions", _positive_int),
        min_ratio=get("min_ratio", _positive_number),
        min_negative_rise=get("min_negative_rise", _fraction),
        quiet_minutes=get("quiet_minutes", _positive_int),
        scopes=frozenset(scopes),
        ignore_topics=frozenset(ignore),
    )
    if out.min_baseline_windows > out.baseline_windows:
        raise _fail(file, "detector.min_baseline_windows", f"at most baseline_windows ({out.baseline_windows})",
                    out.min_baseline_windows)
    return out


def parse_reporting(data: Any, flags: set[str], file: str = "reporting.yaml") -> ReportingConfig:
    if data is None:
        return ReportingConfig()
    root = _mapping(data, file, "(top level)")
    _only(root, TOP_KEYS, file, "(top level)")
    wall = _mapping(root.get("wall") or {}, file, "wall")
    _only(wall, WALL_KEYS, file, "wall")
    summary = _mapping(root.get("summary") or {}, file, "summary")
    _only(summary, SUMMARY_KEYS, file, "summary")
    return ReportingConfig(
        timezone=_zone(root["timezone"], file, "timezone") if "timezone" in root else "UTC",
        detector=_detector(root.get("detector") or {}, flags, file),
        wall_reload_minutes=_non_negative_int(wall.get("reload_minutes", 360), file, "wall.reload_minutes"),
        summary_run_at=_clock(summary.get("run_at", "00:30"), file, "summary.run_at"),
    )


def load_reporting(config_dir: Path, flags: set[str]) -> ReportingConfig:
    path = config_dir / "reporting.yaml"
    if not path.is_file():  # optional: configuration folders made before the detector existed
        return ReportingConfig()
    return parse_reporting(_read_yaml(path), flags)
