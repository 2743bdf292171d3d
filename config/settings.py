"""Settings, read once at start into a frozen object.

Everything Vigie is told comes from two places: environment variables (the list is
`ENV_VARS` below, documented in the README) and the YAML files of the config
directory (`VIGIE_CONFIG`, by default the `config/` folder shipped with Vigie).
`load_settings()` is the only function in Vigie that reads `os.environ`; the
result is passed to `create_app()`, `create_scheduler()` and the CLI commands.

A bad value fails at start with a `ConfigError` naming the file, the key and what
was expected, e.g. ``teams.yaml: teams.legal.sla_minutes.high: expected a positive
integer, got 'soon'``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.archive import ArchiveConfig, load_archive
from config.auth import AUTH_ENV_VARS, AuthConfig, parse_auth
from config.checks import (
    ConfigError,
    _bool,
    _fail,
    _list,
    _mapping,
    _positive_int,
    _read_yaml,
    _strings,
    _text,
)
from config.egress import EGRESS_ENV_VARS, Egress, parse_egress
from config.notifications import NotificationChannel, load_notifications
from config.outbound import OutboundConfig, load_outbound
from config.reporting import ReportingConfig, load_reporting
from config.sla import SlaConfig, parse_sla
from config.sources import Secret as Secret  # re-exported: the rest of Vigie imports from config.settings
from config.sources import SourceConfig as SourceConfig
from config.sources import parse_sources as parse_sources

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent
PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")

# Every environment variable Vigie reads, with its default and meaning.
ENV_VARS: dict[str, tuple[str, str]] = {
    "VIGIE_CONFIG": ("config/ shipped with Vigie", "directory holding the YAML files below"),
    "DATABASE_URL": ("sqlite:///var/vigie.db", "any SQLAlchemy URL; PostgreSQL for scale-out"),
    "VIGIE_HOST": ("127.0.0.1", "address `vigie serve` and `vigie demo` listen on"),
    "VIGIE_PORT": ("8050", "port `vigie serve` and `vigie demo` listen on"),
    "VIGIE_REFRESH_MS": ("2000", "how often live pages ask for changes, in milliseconds"),
    "VIGIE_BATCH_SIZE": ("500", "mentions written per transaction by the collectors"),
    "VIGIE_LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR"),
    "VIGIE_WORKER_ID": ("hostname:pid", "name of this collector process in source leases"),
    **AUTH_ENV_VARS,
    **EGRESS_ENV_VARS,
}


@dataclass(frozen=True)
class TeamConfig:
    key: str
    label: str
    sla_minutes: Mapping[str, int]


@dataclass(frozen=True)
class RoutingRule:
    id: str
    team: str
    when: Mapping[str, Any]
    description: str
    status: str = "new"


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


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    database_url: str
    host: str
    port: int
    refresh_ms: int
    batch_size: int
    log_level: str
    worker_id: str
    sources: tuple[SourceConfig, ...]
    teams: tuple[TeamConfig, ...]
    rules: tuple[RoutingRule, ...]
    brands: tuple[Brand, ...]
    lexicon: tuple[LexiconFlag, ...]
    influencer_followers: int
    auth: AuthConfig
    sla: SlaConfig
    notifications: tuple[NotificationChannel, ...]
    reporting: ReportingConfig
    outbound: OutboundConfig = field(default_factory=OutboundConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    egress: Egress = field(default_factory=Egress)

    def team(self, key: str) -> TeamConfig:
        for team in self.teams:
            if team.key == key:
                return team
        raise KeyError(key)

    @property
    def team_keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.teams)


# --- the files ----------------------------------------------------------------------------


def parse_teams(data: Any, file: str = "teams.yaml") -> tuple[TeamConfig, ...]:
    root = _mapping(data, file, "(top level)")
    teams = _mapping(root.get("teams"), file, "teams")
    if not teams:
        raise _fail(file, "teams", "at least one team", teams)
    out: list[TeamConfig] = []
    for key_name, raw in teams.items():
        key = f"teams.{key_name}"
        if not isinstance(key_name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key_name):
            raise _fail(file, key, "a lower_snake_case team key", key_name)
        item = _mapping(raw, file, key)
        label = _text(item.get("label", key_name.replace("_", " ").capitalize()), file, f"{key}.label")
        sla = _mapping(item.get("sla_minutes"), file, f"{key}.sla_minutes")
        minutes: dict[str, int] = {}
        for prio in PRIORITIES:
            minutes[prio] = _positive_int(sla.get(prio), file, f"{key}.sla_minutes.{prio}")
        extra = set(sla) - set(PRIORITIES)
        if extra:
            raise _fail(file, f"{key}.sla_minutes", f"only {', '.join(PRIORITIES)}", sorted(extra))
        out.append(TeamConfig(key_name, label, minutes))
    return tuple(out)


RULE_CONDITIONS: dict[str, str] = {
    "flags_any": "a list of risk flag names",
    "sentiment": "one of negative, neutral, positive",
    "sentiment_below": "a number between -1 and 1",
    "competitor": "true or false",
    "brand_any": "a list of brand names",
    "language_any": "a list of language codes",
    "priority_at_least": "one of critical, high, medium, low",
    "min_followers": "a positive integer",
    "text_regex": "a regular expression",
}


def _known_names(value: Any, file: str, key: str, known: set[str], what: str) -> tuple[str, ...]:
    names = _strings(value, file, key)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise _fail(file, key, f"{what} ({', '.join(sorted(known))})", unknown)
    return names


def _check_condition(name: str, value: Any, file: str, key: str, flags: set[str], brands: set[str]) -> Any:
    if name == "flags_any":
        return _known_names(value, file, key, flags, "flags defined in lexicons.yaml")
    if name == "brand_any":
        return _known_names(value, file, key, brands, "brand names from brands.yaml")
    if name == "language_any":
        return _strings(value, file, key)
    if name == "sentiment":
        if value not in SENTIMENT_LABELS:
            raise _fail(file, key, RULE_CONDITIONS[name], value)
        return value
    if name == "sentiment_below":
        if isinstance(value, bool) or not isinstance(value, int | float) or not -1 <= value <= 1:
            raise _fail(file, key, RULE_CONDITIONS[name], value)
        return float(value)
    if name == "competitor":
        return _bool(value, file, key)
    if name == "priority_at_least":
        if value not in PRIORITIES:
            raise _fail(file, key, RULE_CONDITIONS[name], value)
        return value
    if name == "min_followers":
        return _positive_int(value, file, key)
    if name == "text_regex":
        text = _text(value, file, key)
        try:
            re.compile(text)
        except re.error as exc:
            raise _fail(file, key, f"a valid regular expression ({exc})", text) from exc
        return text
    raise _fail(file, key, f"one of {', '.join(RULE_CONDITIONS)}", name)


def parse_routing(
    data: Any, teams: tuple[TeamConfig, ...], flags: set[str], brands: set[str], file: str = "routing.yaml"
) -> tuple[RoutingRule, ...]:
    root = _mapping(data, file, "(top level)")
    team_keys = {t.key for t in teams}
    out: list[RoutingRule] = []
    seen: set[str] = set()
    rules = _list(root.get("rules"), file, "rules")
    for i, raw in enumerate(rules):
        key = f"rules[{i}]"
        item = _mapping(raw, file, key)
        rule_id = _text(item.get("id"), file, f"{key}.id")
        if rule_id in seen:
            raise _fail(file, f"{key}.id", "an id used once", rule_id)
        seen.add(rule_id)
        team = _text(item.get("team"), file, f"{key}.team")
        if team not in team_keys:
            raise _fail(file, f"{key}.team", f"a team from teams.yaml ({', '.join(sorted(team_keys))})", team)
        when_raw = _mapping(item.get("when", {}), file, f"{key}.when")
        when = {
            cond: _check_condition(cond, val, file, f"{key}.when.{cond}", flags, brands)
            for cond, val in when_raw.items()
        }
        description = _text(item.get("description", rule_id), file, f"{key}.description")
        status = item.get("status", "new")
        if status not in ("new", "dismissed"):
            raise _fail(file, f"{key}.status", "new or dismissed", status)
        out.append(RoutingRule(rule_id, team, when, description, status))
    if not out or out[-1].when:
        raise _fail(file, "rules", "a last rule with no `when` (the default route)", "none")
    return tuple(out)


def parse_brands(data: Any, file: str = "brands.yaml") -> tuple[Brand, ...]:
    root = _mapping(data, file, "(top level)")
    out: list[Brand] = []
    for group, competitor in (("brands", False), ("competitors", True)):
        entries = root.get(group, [] if competitor else None)
        for i, raw in enumerate(_list(entries, file, group)):
            key = f"{group}[{i}]"
            item = _mapping(raw, file, key)
            name = _text(item.get("name"), file, f"{key}.name")
            handles = _strings(item.get("handles", []), file, f"{key}.handles")
            keywords = _strings(item.get("keywords", []), file, f"{key}.keywords")
            if not handles and not keywords:
                raise _fail(file, key, "at least one handle or keyword", item)
            out.append(Brand(name, handles, keywords, competitor))
    if not any(not b.competitor for b in out):
        raise _fail(file, "brands", "at least one of the firm's own brands", "none")
    return tuple(out)


def parse_lexicons(data: Any, file: str = "lexicons.yaml") -> tuple[LexiconFlag, ...]:
    root = _mapping(data, file, "(top level)")
    flags = _mapping(root.get("flags"), file, "flags")
    out: list[LexiconFlag] = []
    for name, raw in flags.items():
        key = f"flags.{name}"
        item = _mapping(raw, file, key)
        severity = item.get("severity")
        if severity not in PRIORITIES:
            raise _fail(file, f"{key}.severity", f"one of {', '.join(PRIORITIES)}", severity)
        terms_raw = _mapping(item.get("terms"), file, f"{key}.terms")
        terms = {lang: _strings(words, file, f"{key}.terms.{lang}") for lang, words in terms_raw.items()}
        out.append(LexiconFlag(str(name), severity, terms))
    return tuple(out)


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment: {name}: expected a positive integer, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"environment: {name}: expected a positive integer, got {raw!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the environment and the YAML files once; raise ConfigError on a bad value."""
    env = os.environ if env is None else env
    config_dir = Path(env.get("VIGIE_CONFIG") or DEFAULT_CONFIG_DIR)
    if not config_dir.is_dir():
        raise ConfigError(f"environment: VIGIE_CONFIG: expected a directory, got {str(config_dir)!r}")
    level = env.get("VIGIE_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"environment: VIGIE_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
    lexicon = parse_lexicons(_read_yaml(config_dir / "lexicons.yaml"))
    teams_data = _read_yaml(config_dir / "teams.yaml")
    teams = parse_teams(teams_data)
    brands = parse_brands(_read_yaml(config_dir / "brands.yaml"))
    routing_data = _read_yaml(config_dir / "routing.yaml")
    rules = parse_routing(routing_data, teams, {f.name for f in lexicon}, {b.name for b in brands})
    influencer = _positive_int(
        _mapping(routing_data, "routing.yaml", "(top level)").get("influencer_followers", 10000),
        "routing.yaml",
        "influencer_followers",
    )
    host = env.get("VIGIE_HOST") or "127.0.0.1"
    port = _env_int(env, "VIGIE_PORT", 8050)
    sources = parse_sources(_read_yaml(config_dir / "sources.yaml"), env=env)
    values: dict[str, Any] = dict(
        config_dir=config_dir,
        database_url=env.get("DATABASE_URL") or "sqlite:///var/vigie.db",
        host=host,
        port=port,
        refresh_ms=_env_int(env, "VIGIE_REFRESH_MS", 2000),
        batch_size=_env_int(env, "VIGIE_BATCH_SIZE", 500),
        log_level=level,
        worker_id=env.get("VIGIE_WORKER_ID") or f"{os.uname().nodename}:{os.getpid()}",
        sources=sources,
        teams=teams,
        rules=rules,
        brands=brands,
        lexicon=lexicon,
        influencer_followers=influencer,
        sla=parse_sla(teams_data, PRIORITIES),
        notifications=load_notifications(config_dir, {t.key for t in teams}, env),
        reporting=load_reporting(config_dir, {f.name for f in lexicon}),
        outbound=load_outbound(config_dir, {t.key for t in teams}, {b.name for b in brands if not b.competitor},
                               {s.name for s in sources}),
        archive=load_archive(config_dir, {t.key for t in teams}, {b.name for b in brands if not b.competitor},
                             {f.name for f in lexicon}),
        egress=parse_egress(env),
    )
    if "auth" not in overrides:  # tests pass their own (the default keeps a key file under var/)
        values["auth"] = parse_auth(env, host, port)
    values.update(overrides)
    return Settings(**values)
