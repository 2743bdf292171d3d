"""`brands.yaml`, `lexicons.yaml` and `routing.yaml`: their shapes (pydantic models) and the frozen
objects the rest of Vigie reads. A rule's team, flags and brands are checked against the other
files after the models, by `parse_routing`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from config.checks import Bool, FileModel, OneOf, PositiveInt, Text, _fail, _is_number, expect, validate

PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
Priority = Annotated[str, OneOf(PRIORITIES)]


def _regex(value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("expected", "expected a regular expression")
    try:
        re.compile(value.strip())
    except re.error as exc:
        raise PydanticCustomError("expected", "expected a valid regular expression ({reason})",
                                  {"reason": str(exc)}) from None
    return value.strip()


Regex = Annotated[str, BeforeValidator(_regex)]
Score = Annotated[float, Field(ge=-1, le=1),
                  expect("a number between -1 and 1", lambda v: _is_number(v) and -1 <= v <= 1, float)]


@dataclass(frozen=True)
class RoutingRule:
    id: str
    team: str
    when: Mapping[str, Any]
    description: str
    status: str = "new"
    descriptions: Mapping[str, str] = field(default_factory=dict)  # in other languages (``descriptions``)

    @property
    def label(self) -> str:
        """The rule's sentence in the language of whoever reads (i18n.current_reader)."""
        from i18n import current_reader

        return self.descriptions.get(current_reader().language, self.description)


@dataclass(frozen=True)
class Brand:
    name: str
    handles: tuple[str, ...]
    keywords: tuple[str, ...]
    competitor: bool


@dataclass(frozen=True)
class LexiconFlag:
    """One risk flag: its severity and its terms per language."""

    name: str
    severity: str
    terms: Mapping[str, tuple[str, ...]]
    english: str = ""  # the flag's name as shown (``label``; default: from its key)
    labels: Mapping[str, str] = field(default_factory=dict)  # other languages' names (``labels``)

    @property
    def label(self) -> str:
        """The flag's name in the language of whoever reads (i18n.current_reader)."""
        from i18n import current_reader

        return self.labels.get(current_reader().language, self.english or self.name)


# --- brands.yaml ------------------------------------------------------------------------------------


class BrandEntry(FileModel):
    name: Text = Field(description="the brand's name, as shown and as routing rules name it")
    handles: list[Text] = Field(default=[], description="its accounts (@name, case-insensitive)")
    keywords: list[Text] = Field(default=[], description="words or phrases naming it (whole words, accents ignored)")

    @model_validator(mode="after")
    def _some_term(self) -> BrandEntry:
        if not self.handles and not self.keywords:
            raise ValueError(f"expected at least one handle or keyword, got {self.model_dump()!r}")
        return self


class BrandsFile(FileModel):
    brands: list[BrandEntry] = Field(description="the firm's own brands (tried first)")
    competitors: list[BrandEntry] = Field(default=[], description="competitors' brands")

    @field_validator("brands")
    @classmethod
    def _own_brand(cls, value: list[BrandEntry]) -> list[BrandEntry]:
        if not value:
            raise ValueError("expected at least one of the firm's own brands, got none")
        return value


def parse_brands(data: Any, file: str = "brands.yaml") -> tuple[Brand, ...]:
    checked = validate(BrandsFile, data, file)
    return tuple(Brand(b.name, tuple(b.handles), tuple(b.keywords), competitor)
                 for group, competitor in ((checked.brands, False), (checked.competitors, True)) for b in group)


# --- lexicons.yaml ----------------------------------------------------------------------------------


class FlagEntry(FileModel):
    severity: Priority = Field(description="the lowest priority a mention carrying the flag gets")
    label: Text | None = Field(default=None, description="the flag's name as shown (default: from its key)")
    labels: dict[Annotated[str, OneOf(("fr",))], Text] = Field(
        default_factory=dict, description="the flag's name in the interface's other languages, e.g. {fr: Fraude}")
    terms: dict[str, list[Text]] = Field(description="terms per language code (a trailing * matches any ending)")


class LexiconsFile(FileModel):
    flags: dict[str, FlagEntry] = Field(description="risk flags by name")


def parse_lexicons(data: Any, file: str = "lexicons.yaml") -> tuple[LexiconFlag, ...]:
    checked = validate(LexiconsFile, data, file)
    return tuple(LexiconFlag(name, flag.severity, {lang: tuple(words) for lang, words in flag.terms.items()},
                             flag.label or name.replace("_", " ").capitalize(), dict(flag.labels))
                 for name, flag in checked.flags.items())


# --- routing.yaml -----------------------------------------------------------------------------------


class When(FileModel):
    """A rule's conditions: all must hold."""

    flags_any: list[Text] | None = Field(default=None, description="a list of risk flag names")
    sentiment: Annotated[str, OneOf(SENTIMENT_LABELS)] | None = Field(default=None,
            description="one of negative, neutral, positive")
    sentiment_below: Score | None = Field(default=None, description="a number between -1 and 1")
    competitor: Bool | None = Field(default=None, description="true or false")
    brand_any: list[Text] | None = Field(default=None, description="a list of brand names")
    language_any: list[Text] | None = Field(default=None, description="a list of language codes")
    priority_at_least: Priority | None = Field(default=None, description="one of critical, high, medium, low")
    min_followers: PositiveInt | None = Field(default=None, description="a positive integer")
    text_regex: Regex | None = Field(default=None, description="a regular expression")

    @model_validator(mode="before")
    @classmethod
    def _no_empty_condition(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            empty = sorted(str(k) for k, v in data.items() if v is None)
            if empty:  # `flags_any:` left empty would match everything: say so rather than route all
                raise ValueError(f"expected a value for each condition, got none for {', '.join(empty)}")
        return data


RULE_CONDITIONS: dict[str, str] = {name: str(f.description) for name, f in When.model_fields.items()}


class RuleEntry(FileModel):
    id: Text = Field(description="the rule's name, stored on each item it routes (used once)")
    team: Text = Field(description="the team of teams.yaml the item goes to")
    when: When = Field(default=When(), description="conditions, all of which must hold (none: the default route)")
    description: Text | None = Field(default=None, description="a sentence saying why (default: the id)")
    descriptions: dict[Annotated[str, OneOf(("fr",))], Text] = Field(
        default_factory=dict, description="the sentence in other languages, e.g. {fr: Fraude signalée}")
    status: Annotated[str, OneOf(("new", "dismissed"))] = Field(default="new",
            description="new, or dismissed (filed closed)")


class RoutingFile(FileModel):
    influencer_followers: PositiveInt = Field(default=10000, description="authors with at least this many followers "
                                                                 "raise priority one step")
    rules: list[RuleEntry] = Field(description="ordered rules: the first whose conditions hold wins")


def parse_routing(
    data: Any, team_keys: set[str], flags: set[str], brands: set[str], file: str = "routing.yaml"
) -> tuple[tuple[RoutingRule, ...], int]:
    """The rules and the influencer threshold, the rules' teams, flags and brands checked against
    the other files."""
    checked = validate(RoutingFile, data, file)
    out: list[RoutingRule] = []
    seen: set[str] = set()
    for i, rule in enumerate(checked.rules):
        key = f"rules[{i}]"
        if rule.id in seen:
            raise _fail(file, f"{key}.id", "an id used once", rule.id)
        seen.add(rule.id)
        if rule.team not in team_keys:
            raise _fail(file, f"{key}.team", f"a team from teams.yaml ({', '.join(sorted(team_keys))})", rule.team)
        given = rule.when.model_dump(exclude_none=True)
        when = {name: given[name] for name in data["rules"][i].get("when") or {}}  # in the file's order
        for name, known, what in (("flags_any", flags, "flags defined in lexicons.yaml"),
                                  ("brand_any", brands, "brand names from brands.yaml")):
            unknown = [n for n in when.get(name, ()) if n not in known]
            if unknown:
                raise _fail(file, f"{key}.when.{name}", f"{what} ({', '.join(sorted(known))})", unknown)
        out.append(RoutingRule(rule.id, rule.team, {k: tuple(v) if isinstance(v, list) else v
                                                    for k, v in when.items()},
                               rule.description or rule.id, rule.status, dict(rule.descriptions)))
    if not out or out[-1].when:
        raise _fail(file, "rules", "a last rule with no `when` (the default route)", "none")
    return tuple(out), checked.influencer_followers
