"""Operations' settings from the environment: the collectors' heartbeat, the `/metrics` token, the log
format and the gunicorn workers. Read once by `config.settings.load_settings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from config.checks import ConfigError
from config.sources import Secret

OPS_ENV_VARS: dict[str, tuple[str, str]] = {
    "VIGIE_HEARTBEAT_SECONDS": ("15", "how often each collector writes its heartbeat row; a collector silent for "
                                "three of its intervals is gone (its sources turn stale, `/readyz` says so)"),
    "VIGIE_METRICS_TOKEN": ("unset (admins only)", "bearer token a Prometheus scraper sends to `/metrics` "
                            "(`Authorization: Bearer ...`); signed-in admins may read it too"),
    "VIGIE_LOG_FORMAT": ("plain", "`plain` lines or `json` (one object per line: time, level, logger, message, "
                         "exception) for every process, gunicorn's own logs included"),
    "VIGIE_WEB_WORKERS": ("4", "gunicorn workers started by deploy/gunicorn.conf.py"),
}
LOG_FORMATS: tuple[str, ...] = ("plain", "json")


@dataclass(frozen=True)
class OpsConfig:
    heartbeat_seconds: int = 15
    metrics_token: Secret | None = None
    log_format: str = "plain"
    web_workers: int = 4


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"environment: {name}: expected a positive integer, got {raw!r}")
    return int(raw)


def parse_ops(env: Mapping[str, str]) -> OpsConfig:
    log_format = (env.get("VIGIE_LOG_FORMAT") or "plain").strip().lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"environment: VIGIE_LOG_FORMAT: expected plain or json, got {log_format!r}")
    token = env.get("VIGIE_METRICS_TOKEN") or ""
    if token and len(token) < 16:
        raise ConfigError("environment: VIGIE_METRICS_TOKEN: expected at least 16 characters "
                          f"(got {len(token)})")
    return OpsConfig(
        heartbeat_seconds=_positive(env, "VIGIE_HEARTBEAT_SECONDS", 15),
        metrics_token=Secret(token) if token else None,
        log_format=log_format,
        web_workers=_positive(env, "VIGIE_WEB_WORKERS", 4),
    )
