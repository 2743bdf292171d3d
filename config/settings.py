"""Settings, read once at start into a frozen object.

Everything Vigie is told comes from two places: environment variables (the list is
`ENV_VARS` below, documented in the README) and the YAML files of the config
directory (`VIGIE_CONFIG`, by default the `config/` folder shipped with Vigie).
`load_settings()` is the only function in Vigie that reads `os.environ`; the
result is passed to `create_app()`, `create_scheduler()` and the CLI commands.

Each file's shape is declared once, as a pydantic model (`config.effective.FILE_MODELS`), and so is
the environment's (`config.environment.Environment`); the checks between files (a rule's team must
exist, flags named in lexicons.yaml…) are functions run after the models. A bad value fails at start
with a `ConfigError` naming the file, the key and what was expected, e.g.
``teams.yaml: teams.legal.sla_minutes.high: expected a positive integer, got 'soon'``; an unknown key
or ``VIGIE_*`` variable names the nearest valid one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.archive import ArchiveConfig, parse_archive
from config.auth import AUTH_ENV_VARS, AuthConfig, parse_auth
from config.checks import ConfigError, _read_yaml
from config.effective import FILE_MODELS
from config.egress import EGRESS_ENV_VARS, Egress, parse_egress
from config.environment import Environment, check_variable_names, read_environment, referenced_variables
from config.notifications import NotificationChannel, parse_notifications
from config.ops import OPS_ENV_VARS, OpsConfig, parse_ops
from config.outbound import OutboundConfig, parse_outbound
from config.reporting import ReportingConfig, parse_reporting
from config.rules import PRIORITIES as PRIORITIES
from config.rules import RULE_CONDITIONS as RULE_CONDITIONS
from config.rules import Brand as Brand
from config.rules import LexiconFlag as LexiconFlag
from config.rules import RoutingRule as RoutingRule
from config.rules import parse_brands, parse_lexicons, parse_routing
from config.sentiment_model import MODEL_ENV_VARS, SentimentModelConfig, parse_sentiment_model
from config.sla import SlaConfig, parse_sla, parse_teams
from config.sla import TeamConfig as TeamConfig
from config.sources import Secret as Secret  # re-exported: the rest of Vigie imports from config.settings
from config.sources import SourceConfig as SourceConfig
from config.sources import parse_sources as parse_sources

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent

# Every environment variable Vigie reads, with its default and meaning.
ENV_VARS: dict[str, tuple[str, str]] = {
    "VIGIE_CONFIG": ("config/ shipped with Vigie", "directory holding the YAML files below"),
    "DATABASE_URL": ("sqlite:///var/vigie.db", "any SQLAlchemy URL; PostgreSQL for scale-out"),
    "DATABASE_READ_URL": ("unset (pages read the primary)", "a PostgreSQL streaming replica of DATABASE_URL the "
                          "dashboard's read-only pages read from"),
    "VIGIE_HOST": ("127.0.0.1", "address `vigie serve` and `vigie demo` listen on"),
    "VIGIE_PORT": ("8050", "port `vigie serve` and `vigie demo` listen on"),
    "VIGIE_REFRESH_MS": ("2000", "how often live pages ask for changes, in milliseconds"),
    "VIGIE_BATCH_SIZE": ("500", "mentions written per transaction by the collectors"),
    "VIGIE_LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR"),
    "VIGIE_WORKER_ID": ("hostname:pid", "name of this collector process in source leases"),
    **AUTH_ENV_VARS,
    **OPS_ENV_VARS,
    **MODEL_ENV_VARS,
    **EGRESS_ENV_VARS,
}


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
    database_read_url: str | None = None  # a streaming replica the pages read (models.db, models.replica)
    environment: Environment | None = None  # the variables as read (`vigie config check` prints them)
    ops: OpsConfig = field(default_factory=OpsConfig)  # heartbeat, /metrics token, log format (config/ops.py)
    egress: Egress = field(default_factory=Egress)
    sentiment_model: SentimentModelConfig | None = None  # a firm's own ONNX model (config/sentiment_model.py)

    def team(self, key: str) -> TeamConfig:
        for team in self.teams:
            if team.key == key:
                return team
        raise KeyError(key)

    @property
    def team_keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.teams)


def read_files(config_dir: Path) -> dict[str, Any]:
    """Each file's YAML (None for an optional file left out)."""
    return {name: None if optional and not (config_dir / name).is_file() else _read_yaml(config_dir / name)
            for name, (_, optional) in FILE_MODELS.items()}


def config_directory(env: Mapping[str, str]) -> Path:
    config_dir = Path(read_environment(env).config or DEFAULT_CONFIG_DIR)
    if not config_dir.is_dir():
        raise ConfigError(f"environment: VIGIE_CONFIG: expected a directory, got {str(config_dir)!r}")
    return config_dir


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the environment and the YAML files once; raise ConfigError on a bad value."""
    env = os.environ if env is None else env
    given = read_environment(env)
    if given.database_read_url and not str(given.database_url).startswith("postgresql"):
        raise ConfigError("environment: DATABASE_READ_URL: a replica is read only beside a PostgreSQL DATABASE_URL "
                          "(its primary); unset it, or point DATABASE_URL at the primary")
    config_dir = config_directory(env)
    files = read_files(config_dir)
    check_variable_names(env, set(ENV_VARS) | referenced_variables(files["sources.yaml"], files["notifications.yaml"]))
    lexicon = parse_lexicons(files["lexicons.yaml"])
    teams = parse_teams(files["teams.yaml"])
    team_keys = {t.key for t in teams}
    flags = {f.name for f in lexicon}
    brands = parse_brands(files["brands.yaml"])
    own_brands = {b.name for b in brands if not b.competitor}
    rules, influencer = parse_routing(files["routing.yaml"], team_keys, flags, {b.name for b in brands})
    sources = parse_sources(files["sources.yaml"], env=env)
    outbound = parse_outbound(files["outbound.yaml"], team_keys, own_brands, {s.name for s in sources})
    values: dict[str, Any] = dict(
        environment=given,
        config_dir=config_dir,
        database_url=given.database_url,
        database_read_url=given.database_read_url,
        host=given.host,
        port=given.port,
        refresh_ms=given.refresh_ms,
        batch_size=given.batch_size,
        log_level=given.log_level,
        worker_id=given.worker_id or f"{os.uname().nodename}:{os.getpid()}",
        sources=sources,
        teams=teams,
        rules=rules,
        brands=brands,
        lexicon=lexicon,
        influencer_followers=influencer,
        sla=parse_sla(files["teams.yaml"], PRIORITIES),
        notifications=parse_notifications(files["notifications.yaml"], team_keys, env),
        reporting=parse_reporting(files["reporting.yaml"], flags),
        outbound=outbound,
        archive=parse_archive(files["archive.yaml"], team_keys, own_brands, flags, disclosures=outbound.disclosures),
        ops=parse_ops(env),
        sentiment_model=parse_sentiment_model(env),
        egress=parse_egress(env),
    )
    if "auth" not in overrides:  # tests pass their own (the default keeps a key file under var/)
        values["auth"] = parse_auth(env, given.host, given.port)
    values.update(overrides)
    return Settings(**values)
