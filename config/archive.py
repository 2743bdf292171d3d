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
from typing import Annotated, Any

from pydantic import Field, model_validator

from config.checks import (
    AtKey,
    Bool,
    FileModel,
    PositiveInt,
    Text,
    _fail,
    _is_int,
    _is_number,
    expect,
    validate,
)
from config.outbound import Disclosure, pick_disclosure

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
    # outbound.yaml's (`config.settings` puts them here): a template sent as written with its disclosure
    # line is not free-form
    disclosures: tuple[Disclosure, ...] = ()

    def disclosure(self, brand: str | None, network: str, language: str | None) -> str | None:
        return pick_disclosure(self.disclosures, brand, network, language)

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


Period = Annotated[str, Field(pattern=r"^\s*\d{1,4}\s*[ydh]\s*$"),
                   expect("a period such as 7y, 30d or 12h",
                          lambda v: not isinstance(v, bool) and isinstance(v, str | int) and _period_ok(v), str)]
Percent = Annotated[float, Field(ge=0, le=100),
                    expect("a percentage from 0 to 100", lambda v: _is_number(v) and 0 <= v <= 100, float)]
Hour = Annotated[int, Field(ge=0, le=23), expect("an hour from 0 to 23", lambda v: _is_int(v) and 0 <= v <= 23)]


def _period_ok(value: Any) -> bool:
    match = _DURATION.match(str(value))
    return match is not None and int(match.group(1)) > 0


class RetentionRuleEntry(FileModel):
    retention_class: Text = Field(alias="class", description="a class of retention.classes")
    network: Text | None = Field(default=None, description="a network")
    brand: Text | None = Field(default=None, description="one of the firm's brands of brands.yaml")
    team: Text | None = Field(default=None, description="a team of teams.yaml")


class RetentionBlock(FileModel):
    classes: dict[str, Period] = Field(default=dict(DEFAULT_CLASSES), description="retention classes and their periods")
    default: Text = Field(default="default", description="the class of a record no rule picks")
    rules: list[RetentionRuleEntry] = Field(default=[], description="the first rule whose keys all match wins")

    @model_validator(mode="after")
    def _known_classes(self) -> RetentionBlock:
        if self.default not in self.classes:
            raise AtKey("default", f"expected a class of retention.classes ({', '.join(self.classes)}), "
                                   f"got {self.default!r}")
        for i, rule in enumerate(self.rules):
            if rule.retention_class not in self.classes:
                raise AtKey(f"rules[{i}].class", f"expected a class of retention.classes "
                                                 f"({', '.join(self.classes)}), got {rule.retention_class!r}")
        return self


class SampleRuleEntry(FileModel):
    percent: Percent = Field(description="share of the matching items reviewed")
    network: Text | None = Field(default=None, description="a network")
    team: Text | None = Field(default=None, description="a team of teams.yaml")


class SupervisionBlock(FileModel):
    flags: list[Text] = Field(default=list(Supervision.flags),
            description="lexicon flags whose items always go to review")
    sample_percent: Percent = Field(default=5, description="share of everything else reviewed at random")
    sample_rules: list[SampleRuleEntry] = Field(default=[], description="per network and team, the first match wins")
    free_form: Bool = Field(default=True, description="every free-form reply sent without pre-approval is reviewed")
    due_hours: PositiveInt = Field(default=72, description="a review not done in this time is overdue")


class ArchiveFile(FileModel):
    retention: RetentionBlock = Field(default=RetentionBlock(), description="how long records are kept")
    seal_every_seconds: PositiveInt = Field(default=60, description="the sealer job's interval")
    purge_every_minutes: PositiveInt = Field(default=60, description="the purge job's interval")
    anchor_file: Text = Field(default="var/archive-heads.jsonl", description="each day's head is appended here")
    anchor_hour: Hour = Field(default=0, description="the UTC hour the day's head is anchored and sent to compliance")
    supervision: SupervisionBlock = Field(default=SupervisionBlock(),
            description="what compliance reviews after the fact")


def _known(value: str | None, known: set[str], file: str, key: str, what: str) -> str | None:
    if value is not None and known and value not in known:
        raise _fail(file, key, f"{what} ({', '.join(sorted(known))})", value)
    return value


def parse_archive(data: Any, teams: set[str], brands: set[str], flags: set[str],
                  file: str = "archive.yaml", disclosures: tuple[Disclosure, ...] = ()) -> ArchiveConfig:
    """Check ``archive.yaml`` against the teams, brands and lexicon flags it may name; supervision
    knows outbound.yaml's ``disclosures``."""
    checked = validate(ArchiveFile, data, file)
    ret, sup = checked.retention, checked.supervision
    rules = []
    for i, rule in enumerate(ret.rules):
        key = f"retention.rules[{i}]"
        rules.append(RetentionRule(rule.retention_class, rule.network,
                                   _known(rule.brand, brands, file, f"{key}.brand", "a brand from brands.yaml"),
                                   _known(rule.team, teams, file, f"{key}.team", "a team from teams.yaml")))
    for i, name in enumerate(sup.flags):
        _known(name, flags, file, f"supervision.flags[{i}]", "a flag from lexicons.yaml")
    samples = [SampleRule(r.percent, r.network,
                          _known(r.team, teams, file, f"supervision.sample_rules[{i}].team", "a team from teams.yaml"))
               for i, r in enumerate(sup.sample_rules)]
    return ArchiveConfig(
        retention=Retention({name: parse_duration(value, file, f"retention.classes.{name}")
                             for name, value in ret.classes.items()}, ret.default, tuple(rules)),
        seal_every_seconds=checked.seal_every_seconds,
        purge_every_minutes=checked.purge_every_minutes,
        anchor_file=checked.anchor_file,
        anchor_hour=checked.anchor_hour,
        supervision=Supervision(tuple(sup.flags), sup.sample_percent, tuple(samples), sup.free_form, sup.due_hours,
                                disclosures),
    )
