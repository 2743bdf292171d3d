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
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, model_validator

from config.checks import (
    AtKey,
    FileModel,
    NonNegativeInt,
    OneOf,
    PositiveInt,
    PositiveNumber,
    Text,
    Zone,
    _fail,
    _is_number,
    expect,
    validate,
)

SCOPES: tuple[str, ...] = ("all", "brand", "topic")
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


Fraction = Annotated[float, Field(gt=0, le=1),
                     expect("a number above 0 and at most 1", lambda v: _is_number(v) and 0 < v <= 1, float)]


def _clock(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2}):(\d{2})", value.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(value)
    return int(match.group(1)), int(match.group(2))


Clock = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$"),
                  expect('a time of day like "00:30"', lambda v: isinstance(v, str) and _clock(v), str.strip)]
_D = DetectorConfig()


class DetectorBlock(FileModel):
    every_seconds: PositiveInt = Field(default=_D.every_seconds, description="how often the detector runs")
    window_minutes: PositiveInt = Field(default=_D.window_minutes,
            description="the window it judges: the last N minutes")
    baseline_windows: PositiveInt = Field(default=_D.baseline_windows,
            description="earlier windows making the baseline")
    min_baseline_windows: PositiveInt = Field(default=_D.min_baseline_windows,
                                              description="no verdict on a scope with less history than this")
    ewma_alpha: Fraction = Field(default=_D.ewma_alpha, description="weight of the newest window in the baseline")
    z_threshold: PositiveNumber = Field(default=_D.z_threshold, description="standard deviations above the baseline")
    min_mentions: PositiveInt = Field(default=_D.min_mentions, description="never alert on fewer mentions than this")
    min_ratio: PositiveNumber = Field(default=_D.min_ratio,
            description="a surge is at least this many times the baseline")
    min_negative_rise: Fraction = Field(default=_D.min_negative_rise,
            description="a sentiment drop: the negative share "
                                                                          "rose by at least this much")
    quiet_minutes: PositiveInt = Field(default=_D.quiet_minutes,
            description="an alert stays open until quiet this long")
    scopes: list[Annotated[str, OneOf(SCOPES)]] = Field(default=sorted(_D.scopes),
            description="all, brand and/or topic")
    ignore_topics: list[Text] = Field(default=sorted(_D.ignore_topics),
            description="flags that are not topics worth an alert")

    @model_validator(mode="after")
    def _baseline(self) -> DetectorBlock:
        if self.min_baseline_windows > self.baseline_windows:
            raise AtKey("min_baseline_windows", f"expected at most baseline_windows ({self.baseline_windows}), "
                                                f"got {self.min_baseline_windows!r}")
        return self


class WallBlock(FileModel):
    reload_minutes: NonNegativeInt = Field(default=360, description="the wall reloads itself this often (0: never)")


class SummaryBlock(FileModel):
    run_at: Clock = Field(default="00:30",
            description="local time after which yesterday's summary is computed and sent")


class ReportingFile(FileModel):
    timezone: Zone = Field(default="UTC", description="where \"today\" starts on the wall and in the daily summary")
    detector: DetectorBlock = Field(default=DetectorBlock(), description="the spike and crisis detector")
    wall: WallBlock = Field(default=WallBlock(), description="the wall screen")
    summary: SummaryBlock = Field(default=SummaryBlock(), description="the managers' daily summary")


def parse_reporting(data: Any, flags: set[str], file: str = "reporting.yaml") -> ReportingConfig:
    checked = validate(ReportingFile, data, file)
    d = checked.detector
    for i, flag in enumerate(d.ignore_topics):
        if flag not in flags:
            raise _fail(file, f"detector.ignore_topics[{i}]", "a flag defined in lexicons.yaml", flag)
    values = d.model_dump()
    values.update(scopes=frozenset(d.scopes), ignore_topics=frozenset(d.ignore_topics))
    return ReportingConfig(
        timezone=checked.timezone,
        detector=DetectorConfig(**values),
        wall_reload_minutes=checked.wall.reload_minutes,
        summary_run_at=_clock(checked.summary.run_at),
    )
