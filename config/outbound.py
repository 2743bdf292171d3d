"""`outbound.yaml`: what may go out, and how: the approval policy, approvals' expiry and SLA, each
network's length limit, the disclosures a brand must carry, outbound screening and the firm's
accounts for new posts.

::

    approval:
      default: template_only        # none | template_only | all (see below)
      rules:                        # the first rule whose keys all match wins; keys: team, network, brand
        - {team: legal, policy: all}
      expire_hours: 24              # a draft nobody decided in this time moves to the "expired" list
      sla_minutes: 60               # compliance's target to decide a waiting draft (the /approvals page)
    length_limits: {x: 280, bluesky: 300, mastodon: 500, reddit: 10000, demo: 500}
    disclosures:                    # added to (or checked in) every reply and post of the brand on those networks
      - {brand: Aurelia Bank, networks: [x], text: "Aurelia Bank SA, regulated by the ACPR"}
      - {brand: Aurelia Bank, networks: [x], language: fr, text: "Aurelia Bank SA, régulée par l'ACPR"}
    screening:
      on_hit: approve               # approve: a hit forces approval; block: a hit cannot be sent at all
      defaults: true                # start from Vigie's built-in list of promissory terms
      terms: {en: ["best rates in town"], fr: ["meilleur taux garanti"]}   # the firm's own, added
    accounts:                       # new posts (not replies) go out through this source per network
      demo: demo

Policies: ``none``: nothing waits, compliance supervises after the fact; ``template_only`` (the
default): an approved template used as it is goes out at once, anything else (free text, a
template whose fixed text was edited) waits for approval; ``all``: everything waits. Every key is
optional; a missing file means the defaults above (no rules, no disclosures, no accounts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, field_validator

from config.checks import Bool, FileModel, OneOf, PositiveInt, Text, _fail, expect, validate

POLICIES: tuple[str, ...] = ("none", "template_only", "all")
ON_HIT: tuple[str, ...] = ("approve", "block")
DEFAULT_LIMITS: Mapping[str, int] = {"x": 280, "bluesky": 300, "mastodon": 500, "reddit": 10000, "demo": 500}
FALLBACK_LIMIT = 5000  # a network with no limit configured


@dataclass(frozen=True)
class PolicyRule:
    policy: str
    team: str | None = None
    network: str | None = None
    brand: str | None = None

    def matches(self, team: str | None, network: str | None, brand: str | None) -> bool:
        return all(want is None or want == got for want, got in
                   ((self.team, team), (self.network, network), (self.brand, brand)))


@dataclass(frozen=True)
class Disclosure:
    brand: str
    networks: frozenset[str]
    text: str
    language: str | None = None  # the replies in this language; None: any language without one of its own


def pick_disclosure(disclosures: tuple[Disclosure, ...], brand: str | None, network: str,
                    language: str | None = None) -> str | None:
    """The line a reply of ``brand`` on ``network`` in ``language`` carries: the first entry for
    that language, else the first without a language, else the first of any language (a brand that
    must carry a line on a network always carries one); None when no entry names the brand and network."""
    found = [item for item in disclosures if item.brand == brand and network in item.networks]
    for item in found:
        if language is not None and item.language == language:
            return item.text
    general = [item for item in found if item.language is None] or found
    return general[0].text if general else None


@dataclass(frozen=True)
class OutboundConfig:
    default_policy: str = "template_only"
    rules: tuple[PolicyRule, ...] = ()
    expire_hours: int = 24
    sla_minutes: int = 60
    length_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    disclosures: tuple[Disclosure, ...] = ()
    on_hit: str = "approve"
    default_terms: bool = True
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    accounts: Mapping[str, str] = field(default_factory=dict)  # network -> source name

    def policy(self, team: str | None, network: str | None, brand: str | None) -> str:
        """The approval policy of a reply by ``team`` on ``network`` for ``brand``: the first rule
        that matches, else the default."""
        for rule in self.rules:
            if rule.matches(team, network, brand):
                return rule.policy
        return self.default_policy

    def limit(self, network: str) -> int:
        return self.length_limits.get(network, FALLBACK_LIMIT)

    def disclosure(self, brand: str | None, network: str, language: str | None = None) -> str | None:
        return pick_disclosure(self.disclosures, brand, network, language)


Policy = Annotated[str, OneOf(POLICIES)]


class PolicyRuleEntry(FileModel):
    policy: Policy = Field(description="none, template_only or all")
    team: Text | None = Field(default=None, description="a team of teams.yaml")
    network: Text | None = Field(default=None, description="a network")
    brand: Text | None = Field(default=None, description="one of the firm's brands of brands.yaml")


class ApprovalBlock(FileModel):
    default: Policy = Field(default="template_only", description="the policy no rule overrides")
    rules: list[PolicyRuleEntry] = Field(default=[], description="the first rule whose keys all match wins")
    expire_hours: PositiveInt = Field(default=24, description="a draft nobody decided in this time expires")
    sla_minutes: PositiveInt = Field(default=60, description="compliance's target to decide a waiting draft")


Language = Annotated[str, expect("a language code such as en or fr",
                                  lambda v: isinstance(v, str) and v.strip().isascii() and v.strip().isalpha()
                                  and 2 <= len(v.strip()) <= 3,
                                  lambda v: v.strip().lower())]


class DisclosureEntry(FileModel):
    brand: Text = Field(description="one of the firm's brands of brands.yaml")
    networks: list[Text] = Field(description="the networks it applies on")
    text: Text = Field(description="the line added to (or checked in) each reply and post")
    language: Language | None = Field(default=None, description="only the replies and posts in this language "
                                      "(a code such as fr); without: those in a language with no line of its own")

    @field_validator("networks")
    @classmethod
    def _some_network(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("expected at least one network, got []")
        return value


def _wildcards_ok(term: str) -> bool:
    return not any(word.endswith("*") and len(word.rstrip("*")) < 3 for word in term.split())


ScreeningTerm = Annotated[str, expect("a non-empty string with at least three letters before a *",
                                      lambda v: isinstance(v, str) and v.strip() and _wildcards_ok(v), str.strip)]


class ScreeningBlock(FileModel):
    on_hit: Annotated[str, OneOf(ON_HIT)] = Field(default="approve",
            description="approve: a hit forces approval; block: it cannot be sent")
    defaults: Bool = Field(default=True, description="start from Vigie's built-in list of promissory terms")
    terms: dict[str, list[ScreeningTerm]] = Field(default={}, description="the firm's own terms per language, added")


class OutboundFile(FileModel):
    approval: ApprovalBlock = Field(default=ApprovalBlock(), description="what waits for compliance's approval")
    length_limits: dict[str, PositiveInt] = Field(default=dict(DEFAULT_LIMITS),
            description="most characters per network")
    disclosures: list[DisclosureEntry] = Field(default=[], description="lines a brand must carry on some networks")
    screening: ScreeningBlock = Field(default=ScreeningBlock(), description="outbound screening of promissory language")
    accounts: dict[str, Text] = Field(default={}, description="per network, the source new posts go out through")


def _known(value: str | None, known: set[str], file: str, key: str, what: str) -> str | None:
    if value is not None and known and value not in known:
        raise _fail(file, key, f"{what} ({', '.join(sorted(known))})", value)
    return value


def parse_outbound(data: Any, teams: set[str], brands: set[str], sources: set[str],
                   file: str = "outbound.yaml") -> OutboundConfig:
    """Check ``outbound.yaml`` against the teams, brands and source names it may name."""
    checked = validate(OutboundFile, data, file)
    approval = checked.approval
    rules = []
    for i, rule in enumerate(approval.rules):
        key = f"approval.rules[{i}]"
        rules.append(PolicyRule(rule.policy, _known(rule.team, teams, file, f"{key}.team", "a team from teams.yaml"),
                                rule.network,
                                _known(rule.brand, brands, file, f"{key}.brand", "a brand from brands.yaml")))
    disclosures = []
    for i, item in enumerate(checked.disclosures):
        _known(item.brand, brands, file, f"disclosures[{i}].brand", "a brand from brands.yaml")
        disclosures.append(Disclosure(item.brand, frozenset(item.networks), item.text, item.language))
    for network, name in checked.accounts.items():
        _known(name, sources, file, f"accounts.{network}", "a source from sources.yaml")
    return OutboundConfig(
        default_policy=approval.default,
        rules=tuple(rules),
        expire_hours=approval.expire_hours,
        sla_minutes=approval.sla_minutes,
        length_limits={**DEFAULT_LIMITS, **checked.length_limits},
        disclosures=tuple(disclosures),
        on_hit=checked.screening.on_hit,
        default_terms=checked.screening.defaults,
        terms={lang: tuple(words) for lang, words in checked.screening.terms.items()},
        accounts=dict(checked.accounts),
    )
