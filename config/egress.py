"""How Vigie reaches the platforms from a bank's network: an egress proxy and extra trusted CAs.

Every outbound platform request (polls, replies, posts: `collectors/http.py`, the one HTTP client)
goes through ``VIGIE_PROXY_URL`` when it is set (HTTPS through an HTTP CONNECT tunnel), and
verifies TLS against the system's trust store (the `truststore` package: where the firm installs
its corporate CAs) plus the PEM file ``VIGIE_CA_BUNDLE`` (for a CA the system does not hold, e.g.
the proxy's TLS-inspection CA). Checked once, at start: a bad value names the variable.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from config.checks import ConfigError
from config.environment import read_environment

EGRESS_ENV_VARS: dict[str, tuple[str, str]] = {
    "VIGIE_PROXY_URL": ("unset (direct)", "egress proxy every outbound platform request goes through, e.g. "
                        "http://proxy.bank.internal:3128 (https:// URLs through a CONNECT tunnel); may carry "
                        "user:password@"),
    "VIGIE_CA_BUNDLE": ("unset (the system's trust store alone)", "PEM file of extra CA certificates trusted for "
                        "outbound TLS, beside the system's trust store"),
}


@dataclass(frozen=True)
class Egress:
    proxy_url: str | None = field(default=None, repr=False)  # may hold the proxy's credentials
    ca_bundle: Path | None = None

    @property
    def proxy_display(self) -> str | None:
        """The proxy's address without its credentials, for messages."""
        if self.proxy_url is None:
            return None
        parts = urlsplit(self.proxy_url)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def parse_egress(env: Mapping[str, str]) -> Egress:
    """The proxy and CA bundle of ``env`` (declared in `config.environment.Environment`), checked."""
    given = read_environment(env)
    proxy = (given.proxy_url or "").strip() or None
    if proxy is not None:
        parts = urlsplit(proxy)
        try:
            parts.port  # noqa: B018 (a bad port raises here)
        except ValueError:
            parts = parts._replace(netloc="")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            shown = f"{parts.scheme}://{parts.hostname or ''}" if parts.hostname else "a value without a host"
            raise ConfigError("environment: VIGIE_PROXY_URL: expected http://HOST:PORT or https://HOST:PORT "
                              f"(optionally with user:password@), got {shown!r}")
    bundle_raw = (given.ca_bundle or "").strip()
    bundle = Path(bundle_raw).expanduser() if bundle_raw else None
    if bundle is not None:
        if not bundle.is_file():
            raise ConfigError(f"environment: VIGIE_CA_BUNDLE: expected a PEM file of CA certificates, "
                              f"{str(bundle)!r} is not a file")
        try:
            ssl.create_default_context(cafile=str(bundle))
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(f"environment: VIGIE_CA_BUNDLE: {str(bundle)!r} holds no readable PEM certificate "
                              f"({exc})") from None
    return Egress(proxy, bundle)
