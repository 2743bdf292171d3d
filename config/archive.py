"""`archive.yaml`: how long records are kept, how often they are sealed, where the head is anchored,
and what compliance supervises.

::

    retention:
      classes: {sec_17a4: 6y, mifid: 5y, default: 7y}   # a number and y (calendar years), d (days) or h (hours)
      default: default              # the class of a record no rule picks
      rules:                        # the first rule whose keys all match wins; keys: network, brand, team
        - {team: legal, class: sec_17a4}
    seal_every_seconds: 60          # the sealer job: new records into hash-chained segments
    purge_every_minutes: 60         # the purge job: content past retention and not on hold -> tombstone
    anchor_file: var/archive-heads.jsonl   # each day's head appended here (keep a copy off this machine)
    anchor_hour: 0                  # the UTC hour the day's head is anchored and sent to compliance
    supervision:
      flags: [regulator, legal_threat, fraud]   # lexicon flags whose items always go to review
      sample_percent: 5             # share of everything else reviewed at random
      sample_rules:                 # per network and team, the first match wins
        - {network: x, team: marketing, percent: 10}
      free_form: true               # every free-form reply sent without pre-approval is reviewed
      due_hours: 72                 # a review not done in this time is overdue

A record's class is chosen when it is written, from its network, brand and team; it keeps the
``retain_until`` of that moment. The purge keeps a record until the latest of that date, the
date its class gives under the settings in force when the purge runs, and the date of the class
today's rules would pick for it (`models.retention`): lengthening a class or moving a rule to a
longer class keeps older records longer, shortening one never purges a record earlier than it
was promised.
Every key is optional; a missing file means the defaults above.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from config.checks import _bool, _fail, _list, _mapping, _positive_int, _read_yaml, _strings, _text

TOP_KEYS = ("retention", "seal_every_seconds", "purge_every_minutes", "anchor_file", "anchor_hour", "supervision")
DEFAULT_CLASSES: Mapping[str, str] = {"sec_17a4": "6y", "mifid": "5y", "default": "7y"}
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([ydh])\s*$")


@dataclass(frozen=True)
class Duration:
    """A retention period: calendar years, or days, or hours (hours for tests and the demo)."""

    amount: int
    unit: str  # y, d, h

    def after(self, start: datetime) -> datetime:
        """``start`` plus this period. A year after 29 February is 1 March (never earlier)."""
        if self.unit == "d":
            return start + timedelta(days=self.amount)
        if self.unit == "h":
            return start + timedelta(hours=self.amount)
        year = start.year + self.amount
        try:
            return start.replace(year=year)
        except ValueError:  # 29 February into a year without one: the day after 28 February
            return start.replace(year=year, month=3, day=1)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(value: Any, file: str, key: str) -> Duration:
    match = _DURATION.match(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if match is None or int(match.group(1)) <= 0:
        raise _fail(file, key, "a period such as 7y, 30d or 12h", value)
    return Duration(int(match.group(1)), match.group(2))


@dataclass(frozen=True)
class RetentionRule:
    retention_class: str
    network: str | None = None
    brand: str | None = None
    team: str | None = None

    def matches(self, network: str | None, brand: str | None, team: str | None) -> bool:
        return all(want is None or want == got for want, got in
                   ((self.network, network), (self.brand, brand), (self.team, team)))


@dataclass(frozen=True)
class Retention:
    classes: Mapping[str, Duration] = field(
        default_factory=lambda: {k: parse_duration(v, "", "") for k, v in DEFAULT_CLASSES.items()})
    default_class: str = "default"
    rules: tuple[RetentionRule, ...] = ()

    def class_for(self, network: str | None, brand: str | None, team: str | None) -> str:
        for rule in self.rules:
            if rule.matches(network, brand, team):
                return rule.retention_class
        return self.default_class

    def until(self, retention_class: str, start: datetime) -> datetime:
        """When a record of ``retention_class`` written at ``start`` may go: an unknown class (one
        removed from the settings since) keeps it as long as the longest class does."""
        period = self.classes.get(retention_class)
        if period is not None:
            return period.after(start)
        return max(p.after(start) for p in self.classes.values())


@dataclass(frozen=True)
class SampleRule:
    percent: float
    network: str | None = None
    team: str | None = None

    def matches(self, network: str | None, team: str | None) -> bool:
        return all(want is None or want == got for want, got in ((self.network, network), (self.team, team)))


@dataclass(frozen=True)
class Supervision:
    flags: tuple[str, ...] = ("regulator", "legal_threat", "fraud")
    sample_percent: float = 5.0
    sample_rules: tuple[SampleRule, ...] = ()
    free_form: bool = True
    due_hours: int = 72

    def percent(self, network: str | None, team: str | None) -> float:
        for rule in self.sample_rules:
            if rule.matches(network, team):
                return rule.percent
        return self.sample_percent


@dataclass(frozen=True)
class ArchiveConfig:
    retention: Retention = field(default_factory=Retention)
    seal_every_seconds: int = 60
    purge_every_minutes: int = 60
    anchor_file: str = "var/archive-heads.jsonl"
    anchor_hour: int = 0
    supervision: Supervision = field(default_factory=Supervision)


def _only(raw: Mapping[str, Any], allowed: tuple[str, ...], file: str, key: str) -> None:
    extra = sorted(str(k) for k in raw if k not in allowed)
    if extra:
        raise _fail(file, key, f"only {', '.join(allowed)}", extra)


def _percent(value: Any, file: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise _fail(file, key, "a percentage from 0 to 100", value)
    return float(value)


def _optional(item: Mapping[str, Any], name: str, known: set[str], file: str, key: str, what: str) -> str | None:
    if name not in item:
        return None
    value = _text(item[name], file, f"{key}.{name}")
    if known and value not in known:
        raise _fail(file, f"{key}.{name}", f"{what} ({', '.join(sorted(known))})", value)
    return value


def _retention(raw: Mapping[str, Any], teams: set[str], brands: set[str], file: str) -> Retention:
    _only(raw, ("classes", "default", "rules"), file, "retention")
    classes_raw = _mapping(raw.get("classes") or DEFAULT_CLASSES, file, "retention.classes")
    classes = {str(name): parse_duration(value, file, f"retention.classes.{name}")
               for name, value in classes_raw.items()}
    default = _text(raw.get("default", "default"), file, "retention.default")
    if default not in classes:
        raise _fail(file, "retention.default", f"a class of retention.classes ({', '.join(classes)})", default)
    rules = []
    for i, entry in enumerate(_list(raw.get("rules", []), file, "retention.rules")):
        key = f"retention.rules[{i}]"
        item = _mapping(entry, file, key)
        _only(item, ("network", "brand", "team", "class"), file, key)
        name = _text(item.get("class"), file, f"{key}.class")
        if name not in classes:
            raise _fail(file, f"{key}.class", f"a class of retention.classes ({', '.join(classes)})", name)
        rules.append(RetentionRule(name, _optional(item, "network", set(), file, key, ""),
                                   _optional(item, "brand", brands, file, key, "a brand from brands.yaml"),
                                   _optional(item, "team", teams, file, key, "a team from teams.yaml")))
    return Retention(classes, default, tuple(rules))


def _supervision(raw: Mapping[str, Any], teams: set[str], flags: set[str], file: str) -> Supervision:
    _only(raw, ("flags", "sample_percent", "sample_rules", "free_form", "due_hours"), file, "supervision")
    chosen = _strings(raw.get("flags", list(Supervision.flags)), file, "supervision.flags")
    for i, name in enumerate(chosen):
        if flags and name not in flags:
            raise _fail(file, f"supervision.flags[{i}]", f"a flag from lexicons.yaml ({', '.join(sorted(flags))})",
                        name)
    rules = []
    for i, entry in enumerate(_list(raw.get("sample_rules", []), file, "supervision.sample_rules")):
        key = f"supervision.sample_rules[{i}]"
        item = _mapping(entry, file, key)
        _only(item, ("network", "team", "percent"), file, key)
        rules.append(SampleRule(_percent(item.get("percent"), file, f"{key}.percent"),
                                _optional(item, "network", set(), file, key, ""),
                                _optional(item, "team", teams, file, key, "a team from teams.yaml")))
    return Supervision(
        flags=tuple(chosen) if flags else tuple(n for n in chosen),
        sample_percent=_percent(raw.get("sample_percent", 5), file, "supervision.sample_percent"),
        sample_rules=tuple(rules),
        free_form=_bool(raw.get("free_form", True), file, "supervision.free_form"),
        due_hours=_positive_int(raw.get("due_hours", 72), file, "supervision.due_hours"),
    )


def parse_archive(data: Any, teams: set[str], brands: set[str], flags: set[str],
                  file: str = "archive.yaml") -> ArchiveConfig:
    """Check ``archive.yaml`` against the teams, brands and lexicon flags it may name."""
    if data is None:
        return ArchiveConfig()
    root = _mapping(data, file, "(top level)")
    _only(root, TOP_KEYS, file, "(top level)")
    hour = root.get("anchor_hour", 0)
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise _fail(file, "anchor_hour", "an hour from 0 to 23", hour)
    return ArchiveConfig(
        retention=_retention(_mapping(root.get("retention") or {}, file, "retention"), teams, brands, file),
        seal_every_seconds=_positive_int(root.get("seal_every_seconds", 60), file, "seal_every_seconds"),
        purge_every_minutes=_positive_int(root.get("purge_every_minutes", 60), file, "purge_every_minutes"),
        anchor_file=_text(root.get("anchor_file", "var/archive-heads.jsonl"), file, "anchor_file"),
        anchor_hour=hour,
        supervision=_supervision(_mapping(root.get("supervision") or {}, file, "supervision"), teams, flags, file),
    )


def load_archive(config_dir: Path, teams: set[str], brands: set[str], flags: set[str]) -> ArchiveConfig:
    path = config_dir / "archive.yaml"
    if not path.is_file():  # optional: configuration folders made before the archive existed
        return ArchiveConfig()
    return parse_archive(_read_yaml(path), teams, brands, flags)
