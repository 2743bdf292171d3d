"""The environment's shape: one field per variable of `config.settings.ENV_VARS` (its name as the
alias), checked by pydantic like the YAML files; and the check that refuses an unknown ``VIGIE_*``
variable (a typo such as ``VIGIE_PROT`` would otherwise leave the default in force, unsaid).

Variables are strings: an empty one counts as unset. A variable named by a ``*_env`` key of
sources.yaml or notifications.yaml (a credential) is known too, and so are the test suite's own
(`TEST_ENV_VARS`) and the training tool's (`config.training`), which Vigie itself never reads.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field

from config.checks import SECRET, ConfigError, FileModel, expect, unknown_key, validate
from config.training import TRAINING_ENV_VARS

# Read by the test suite and its tools only (README: configuration reference, "tests only").
TEST_ENV_VARS: dict[str, str] = {
    "VIGIE_TEST_DATABASE_URL": "also run the database tests against this PostgreSQL database",
    "VIGIE_TEST_CLOCK_OFFSET": "the send test runner's clock, moved ahead by this many seconds",
    "VIGIE_FUZZ_SEED": "replays one run of the archive fuzz test",
    "VIGIE_FUZZ_TRIALS": "trials of the archive fuzz test",
    "VIGIE_SOAK_MINUTES": "length of the wall soak test",
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024


def _positive(value: Any) -> bool:
    return int(value) > 0


EnvPositiveInt = Annotated[int, Field(gt=0), expect("a positive integer", _positive, int)]
LogLevel = Annotated[str, Field(json_schema_extra={"enum": list(LOG_LEVELS)}),
                     expect("DEBUG, INFO, WARNING or ERROR", lambda v: v.upper() in LOG_LEVELS, str.upper)]
SessionKey = Annotated[str, SECRET, expect("at least 32 characters", lambda v: len(v) >= 32)]
SecretValue = Annotated[str, SECRET]
MetricsToken = Annotated[str, SECRET, expect("at least 16 characters", lambda v: len(v) >= 16)]
LogFormat = Annotated[str, Field(json_schema_extra={"enum": ["plain", "json"]}),
                      expect("plain or json", lambda v: v.strip().lower() in ("plain", "json"),
                             lambda v: v.strip().lower())]


def _networks(value: Any) -> tuple[str, ...]:
    """``127.0.0.1,10.0.0.0/8``: addresses or CIDRs separated by commas, as networks."""
    if isinstance(value, tuple):  # the default
        return value
    return tuple(str(ipaddress.ip_network(part.strip(), strict=False)) for part in value.split(",") if part.strip())


def _postgresql_url(value: Any) -> bool:
    """``postgresql[+psycopg]://[user[:password]@]host[:port]/database``: a streaming replica is PostgreSQL's,
    through the driver Vigie installs (its connect timeout is psycopg's)."""
    parts = urlsplit(str(value))
    scheme, _, driver = parts.scheme.partition("+")
    return (scheme == "postgresql" and driver in ("", "psycopg") and bool(parts.path.strip("/"))
            and (parts.port or 5432) > 0)


ReadUrl = Annotated[str, SECRET, expect("a PostgreSQL SQLAlchemy URL (postgresql+psycopg://user@replica/db)",
                                        _postgresql_url)]
Networks = Annotated[tuple[str, ...], expect("addresses or CIDRs separated by commas (e.g. 127.0.0.1,10.0.0.0/8)",
                                             _networks, _networks)]


class Environment(FileModel):
    """What Vigie reads from the environment (defaults as in ENV_VARS)."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # the environment holds much else

    config: str | None = Field(default=None, alias="VIGIE_CONFIG")
    database_url: SecretValue = Field(default="sqlite:///var/vigie.db", alias="DATABASE_URL", repr=False)
    database_read_url: ReadUrl | None = Field(default=None, alias="DATABASE_READ_URL", repr=False)
    host: str = Field(default="127.0.0.1", alias="VIGIE_HOST")
    port: EnvPositiveInt = Field(default=8050, alias="VIGIE_PORT")
    refresh_ms: EnvPositiveInt = Field(default=2000, alias="VIGIE_REFRESH_MS")
    batch_size: EnvPositiveInt = Field(default=500, alias="VIGIE_BATCH_SIZE")
    log_level: LogLevel = Field(default="INFO", alias="VIGIE_LOG_LEVEL")
    worker_id: str | None = Field(default=None, alias="VIGIE_WORKER_ID")
    secret_key: SessionKey | None = Field(default=None, alias="VIGIE_SECRET_KEY", repr=False)
    session_idle_minutes: EnvPositiveInt = Field(default=30, alias="VIGIE_SESSION_IDLE_MINUTES")
    session_max_hours: EnvPositiveInt = Field(default=12, alias="VIGIE_SESSION_MAX_HOURS")
    public_url: str | None = Field(default=None, alias="VIGIE_PUBLIC_URL")
    oidc_issuer: str | None = Field(default=None, alias="VIGIE_OIDC_ISSUER")
    oidc_client_id: str | None = Field(default=None, alias="VIGIE_OIDC_CLIENT_ID")
    oidc_client_secret: SecretValue | None = Field(default=None, alias="VIGIE_OIDC_CLIENT_SECRET", repr=False)
    oidc_username_claim: str = Field(default="preferred_username", alias="VIGIE_OIDC_USERNAME_CLAIM")
    trusted_proxies: Networks = Field(default=(), alias="VIGIE_TRUSTED_PROXIES")
    max_request_bytes: EnvPositiveInt = Field(default=DEFAULT_MAX_REQUEST_BYTES, alias="VIGIE_MAX_REQUEST_BYTES")
    heartbeat_seconds: EnvPositiveInt = Field(default=15, alias="VIGIE_HEARTBEAT_SECONDS")
    lease_seconds: EnvPositiveInt | None = Field(default=None, alias="VIGIE_LEASE_SECONDS")
    metrics_token: MetricsToken | None = Field(default=None, alias="VIGIE_METRICS_TOKEN", repr=False)
    log_format: LogFormat = Field(default="plain", alias="VIGIE_LOG_FORMAT")
    web_workers: EnvPositiveInt = Field(default=4, alias="VIGIE_WEB_WORKERS")
    web_threads: EnvPositiveInt = Field(default=2, alias="VIGIE_WEB_THREADS")
    proxy_url: SecretValue | None = Field(default=None, alias="VIGIE_PROXY_URL", repr=False)  # may hold user:password@
    ca_bundle: str | None = Field(default=None, alias="VIGIE_CA_BUNDLE")
    sentiment_model: str | None = Field(default=None, alias="VIGIE_SENTIMENT_MODEL")
    sentiment_tokenizer: str | None = Field(default=None, alias="VIGIE_SENTIMENT_TOKENIZER")
    sentiment_labels: str = Field(default="negative,neutral,positive", alias="VIGIE_SENTIMENT_LABELS")
    sentiment_batch: EnvPositiveInt = Field(default=32, alias="VIGIE_SENTIMENT_BATCH")
    sentiment_max_tokens: EnvPositiveInt = Field(default=128, alias="VIGIE_SENTIMENT_MAX_TOKENS")


def read_environment(env: Mapping[str, str]) -> Environment:
    """The variables of ``env`` that Vigie reads, checked; an empty one is unset."""
    names = {f.alias for f in Environment.model_fields.values()}
    given = {k: v for k, v in env.items() if k in names and v != ""}
    return validate(Environment, given, "environment")


def check_variable_names(env: Iterable[str], known: Iterable[str]) -> None:
    """Refuse a ``VIGIE_*`` variable Vigie does not know, naming the nearest known one (never its value)."""
    names = set(known) | set(TEST_ENV_VARS) | set(TRAINING_ENV_VARS)
    for name in sorted(env):
        if name.startswith("VIGIE_") and name not in names:
            valid = sorted(n for n in names if n.startswith("VIGIE_"))
            raise ConfigError(f"environment: {name}: {unknown_key(name, valid).replace('key', 'variable', 1)}")


def referenced_variables(*files: Any) -> set[str]:
    """The variables named by the ``*_env`` keys of sources.yaml and notifications.yaml (credentials)."""
    found: set[str] = set()
    for data in files:
        entries = []
        if isinstance(data, Mapping):
            for group in ("sources", "channels"):
                if isinstance(data.get(group), list):
                    entries += [e for e in data[group] if isinstance(e, Mapping)]
        for entry in entries:
            found |= {v for k, v in entry.items() if str(k).endswith("_env") and isinstance(v, str)}
    return found
