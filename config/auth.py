"""Sign-in and web settings from the environment: the session-signing key, session lifetimes, the
public address, OpenID Connect (optional), the trusted reverse proxies and the request size limit.
Read once by `config.settings.load_settings`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from config.checks import ConfigError
from config.environment import DEFAULT_MAX_REQUEST_BYTES, read_environment
from config.sources import Secret

AUTH_ENV_VARS: dict[str, tuple[str, str]] = {
    "VIGIE_SECRET_KEY": ("random, kept in var/secret_key", "signs session cookies; set the same value on every "
                         "dashboard worker (at least 32 characters)"),
    "VIGIE_SESSION_IDLE_MINUTES": ("30", "a signed-in session ends after this long without a request"),
    "VIGIE_SESSION_MAX_HOURS": ("12", "a signed-in session ends this long after sign-in, busy or not"),
    "VIGIE_PUBLIC_URL": ("http://VIGIE_HOST:VIGIE_PORT", "the dashboard's address as users reach it: kiosk "
                         "links, links in notifications, the OpenID Connect redirect; https:// makes cookies Secure"),
    "VIGIE_OIDC_ISSUER": ("unset (OpenID Connect off)", "issuer URL of the OpenID Connect provider "
                          "(its /.well-known/openid-configuration is read at start)"),
    "VIGIE_OIDC_CLIENT_ID": ("", "client id registered with the provider"),
    "VIGIE_OIDC_CLIENT_SECRET": ("", "client secret registered with the provider"),
    "VIGIE_OIDC_USERNAME_CLAIM": ("preferred_username", "ID-token claim shown in the log next to a refused "
                                  "identity, to help an admin bind it; never matched (identities are matched "
                                  "on issuer and subject only)"),
    "VIGIE_TRUSTED_PROXIES": ("unset (none)", "comma-separated addresses or CIDRs of the reverse proxies in front "
                              "of the dashboard: only their X-Forwarded-For/-Proto/-Host are believed"),
    "VIGIE_MAX_REQUEST_BYTES": ("4194304 (4 MiB)", "largest request body the dashboard reads (Dash updates "
                                "included; webhooks keep their own max_body_mb); larger ones get 413"),
}


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: Secret
    username_claim: str


@dataclass(frozen=True)
class AuthConfig:
    secret_key: Secret
    session_idle_minutes: int
    session_max_hours: int
    public_url: str
    oidc: OidcConfig | None
    trusted_proxies: tuple[str, ...] = ()  # networks, as ipaddress.ip_network accepts them
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def _secret_key(given: str | None, key_file: Path) -> Secret:
    if given:  # (its length checked by config.environment)
        return Secret(given)
    # One random key per installation, shared by the workers of this machine through the file.
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    value = key_file.read_text().strip()
    if len(value) < 32:
        raise ConfigError(f"{key_file}: expected a session key of at least 32 characters; delete the file to make one")
    return Secret(value)


def parse_auth(env: Mapping[str, str], host: str, port: int, key_file: Path = Path("var/secret_key")) -> AuthConfig:
    """The sign-in settings from ``env`` (checked by `config.environment.Environment`) and the key file."""
    given = read_environment(env)
    public_url = (given.public_url or f"http://{host}:{port}").rstrip("/")
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"environment: VIGIE_PUBLIC_URL: expected an http(s):// address, got {public_url!r}")
    oidc = None
    issuer = (given.oidc_issuer or "").rstrip("/")
    if issuer:
        if urlsplit(issuer).scheme not in ("http", "https"):
            raise ConfigError(f"environment: VIGIE_OIDC_ISSUER: expected an http(s):// address, got {issuer!r}")
        if not given.oidc_client_id:
            raise ConfigError("environment: VIGIE_OIDC_CLIENT_ID: required when VIGIE_OIDC_ISSUER is set")
        if not given.oidc_client_secret:
            raise ConfigError("environment: VIGIE_OIDC_CLIENT_SECRET: required when VIGIE_OIDC_ISSUER is set")
        oidc = OidcConfig(issuer, given.oidc_client_id, Secret(given.oidc_client_secret), given.oidc_username_claim)
    return AuthConfig(
        secret_key=_secret_key(given.secret_key, key_file),
        session_idle_minutes=given.session_idle_minutes,
        session_max_hours=given.session_max_hours,
        public_url=public_url,
        oidc=oidc,
        trusted_proxies=given.trusted_proxies,
        max_request_bytes=given.max_request_bytes,
    )
