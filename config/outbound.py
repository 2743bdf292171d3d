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
from pathlib import Path
from typing import Any

from config.checks import _bool, _fail, _list, _mapping, _positive_int, _read_yaml, _strings, _text

POLICIES: tuple[str, ...] = ("none", "template_only", "all")
ON_HIT: tuple[str, ...] = ("approve", "block")
DEFAULT_LIMITS: Mapping[str, int] = {"x": 280, "bluesky": 300, "mastodon": 500, "reddit": 10000, "demo": 500}
FALLBACK_LIMIT = 5000  # a network with no limit configured
TOP_KEYS = ("approval", "length_limits", "disclosures", "screening", "accounts")
RULE_KEYS = ("team", "network", "brand", "policy")


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

    def disclosure(self, brand: str | None, network: str) -> str | None:
        for item in self.disclosures:
            if item.brand == brand and network in item.networks:
                return item.text
        return None


def _only(raw: Mapping[str, Any], allowed: tuple[str, ...], file: str, key: str) -> None:
    extra = sorted(str(k) for k in raw if k not in allowed)
    if extra:
        raise _fail(file, key, f"only {', '.join(allowed)}", extra)


def _choice(value: Any, choices: tuple[str, ...], file: str, key: str) -> str:
    if value not in choices:
        raise _fail(file, key, f"one of {', '.join(choices)}", value)
    return str(value)


def _known(value: Any, known: set[str], file: str, key: str, what: str) -> str:
    name = _text(value, file, key)
    if known and name not in known:
        raise _fail(file, key, f"{what} ({', '.join(sorted(known))})", name)
    return name


def parse_outbound(data: Any, teams: set[str], brands: set[str], sources: set[str],
                   file: str = "outbound.yaml") -> OutboundConfig:
    """Check ``outbound.yaml`` against the teams, brands and source names it may name."""
    if data is None:
        return OutboundConfig()
    root = _mapping(data, file, "(top level)")
    _only(root, TOP_KEYS, file, "(top level)")
    approval = _mapping(root.get("approval") or {}, file, "approval")
    _only(approval, ("default", "rules", "expire_hours", "sla_minutes"), file, "approval")
    rules: list[PolicyRule] = []
    for i, raw in enumerate(_list(approval.get("rules", []), file, "approval.rules")):
        key = f"approval.rules[{i}]"
        item = _mapping(raw, file, key)
        _only(item, RULE_KEYS, file, key)
        rules.append(PolicyRule(
            policy=_choice(item.get("policy"), POLICIES, file, f"{key}.policy"),
            team=_known(item["team"], teams, file, f"{key}.team", "a team from teams.yaml") if "team" in item else None,
            network=_text(item["network"], file, f"{key}.network") if "network" in item else None,
            brand=_known(item["brand"], brands, file, f"{key}.brand", "a brand from brands.yaml")
            if "brand" in item else None,
        ))
    limits = dict(DEFAULT_LIMITS)
    for network, value in _mapping(root.get("length_limits") or {}, file, "length_limits").items():
        limits[str(network)] = _positive_int(value, file, f"length_limits.{network}")
    disclosures: list[Disclosure] = []
    for i, raw in enumerate(_list(root.get("disclosures", []), file, "disclosures")):
        key = f"disclosures[{i}]"
        item = _mapping(raw, file, key)
        _only(item, ("brand", "networks", "text"), file, key)
        networks = _strings(item.get("networks"), file, f"{key}.networks")
        if not networks:
            raise _fail(file, f"{key}.networks", "at least one network", networks)
        brand = _known(item.get("brand"), brands, file, f"{key}.brand", "a brand from brands.yaml")
        disclosures.append(Disclosure(brand, frozenset(networks), _text(item.get("text"), file, f"{key}.text")))
    screening = _mapping(root.get("screening") or {}, file, "screening")
    _only(screening, ("on_hit", "defaults", "terms"), file, "screening")
    terms = {str(lang): _strings(words, file, f"screening.terms.{lang}")
             for lang, words in _mapping(screening.get("terms") or {}, file, "screening.terms").items()}
    for lang, words in terms.items():
        for i, term in enumerate(words):
            if any(word.endswith("*") and len(word.rstrip("*")) < 3 for word in term.split()):
                raise _fail(file, f"screening.terms.{lang}[{i}]", "at least three letters before a *", term)
    accounts = {str(network): _known(name, sources, file, f"accounts.{network}", "a source from sources.yaml")
                for network, name in _mapping(root.get("accounts") or {}, file, "accounts").items()}
    return OutboundConfig(
        default_policy=_choice(approval.get("default", "template_only"), POLICIES, file, "approval.default"),
        rules=tuple(rules),
        expire_hours=_positive_int(approval.get("expire_hours", 24), file, "approval.expire_hours"),
        sla_minutes=_positive_int(approval.get("sla_minutes", 60), file, "approval.sla_minutes"),
        length_limits=limits,
        disclosures=tuple(disclosures),
        on_hit=_choice(screening.get("on_hit", "approve"), ON_HIT, file, "screening.on_hit"),
        default_terms=_bool(screening.get("defaults", True), file, "screening.defaults"),
        terms=terms,
        accounts=accounts,
    )


def load_outbound(config_dir: Path, teams: set[str], brands: set[str], sources: set[str]) -> OutboundConfig:
    path = config_dir / "outbound.yaml"
    if not path.is_file():  # optional: configuration folders made before replies existed
        return OutboundConfig()
    return parse_outbound(_read_yaml(path), teams, brands, sources)
