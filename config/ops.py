"""Operations' settings from the environment: the collectors' heartbeat and source leases, the
`/metrics` token, the log format and the gunicorn workers. Read once by `config.settings.load_settings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from config.checks import ConfigError
from config.environment import read_environment
from config.sources import Secret

OPS_ENV_VARS: dict[str, tuple[str, str]] = {
    "VIGIE_HEARTBEAT_SECONDS": ("15", "how often each collector writes its heartbeat row; a collector silent for "
                                "three of its intervals is gone (its sources turn stale, `/readyz` says so)"),
    "VIGIE_LEASE_SECONDS": ("the larger of 60 and three poll intervals", "how long a collector's lease on a "
                            "source lasts past its last write: a collector that dies without a clean stop has "
                            "its sources taken over by another after this long (plus one poll interval); at "
                            "least 10 and twice VIGIE_HEARTBEAT_SECONDS"),
    "VIGIE_METRICS_TOKEN": ("unset (admins only)", "bearer token a Prometheus scraper sends to `/metrics` "
                            "(`Authorization: Bearer ...`); signed-in admins may read it too"),
    "VIGIE_LOG_FORMAT": ("plain", "`plain` lines or `json` (one object per line: time, level, logger, message, "
                         "exception) for every process, gunicorn's own logs included"),
    "VIGIE_WEB_WORKERS": ("4", "gunicorn workers started by deploy/gunicorn.conf.py"),
    "VIGIE_WEB_THREADS": ("2", "threads per gunicorn worker: more let a slow request (an export, a PDF) block "
                          "fewer others, but the threads of a worker share one core (Python's lock): at 4, "
                          "the load test's callbacks took 4x longer in the server than at 1"),
}
LOG_FORMATS: tuple[str, ...] = ("plain", "json")
MIN_LEASE_SECONDS = 10  # a shorter lease is lost by any poll whose page takes longer to fetch and store


def lease_floor(heartbeat_seconds: int) -> int:
    """The shortest VIGIE_LEASE_SECONDS accepted: 10 s, and two heartbeat intervals (a lease that
    runs out before its holder has even missed two beats hands sources over from live collectors)."""
    return max(MIN_LEASE_SECONDS, 2 * heartbeat_seconds)


@dataclass(frozen=True)
class OpsConfig:
    heartbeat_seconds: int = 15
    lease_seconds: int | None = None  # None: max(60 s, 3 x the source's interval) (`collectors.runner.lease_ttl`)
    metrics_token: Secret | None = None
    log_format: str = "plain"
    web_workers: int = 4
    web_threads: int = 2


def parse_ops(env: Mapping[str, str]) -> OpsConfig:
    """The operations settings of ``env`` (checked by `config.environment.Environment`)."""
    given = read_environment(env)
    floor = lease_floor(given.heartbeat_seconds)
    if given.lease_seconds is not None and given.lease_seconds < floor:
        raise ConfigError(f"environment: VIGIE_LEASE_SECONDS: {given.lease_seconds} is too short; expected at least "
                          f"{floor} (10 s, and two VIGIE_HEARTBEAT_SECONDS intervals of {given.heartbeat_seconds} s)")
    return OpsConfig(
        heartbeat_seconds=given.heartbeat_seconds,
        lease_seconds=given.lease_seconds,
        metrics_token=Secret(given.metrics_token) if given.metrics_token else None,
        log_format=given.log_format,
        web_workers=given.web_workers,
        web_threads=given.web_threads,
    )
