"""Trusted reverse proxies: the one place that reads ``X-Forwarded-For``, ``-Proto`` and ``-Host``.

A WSGI middleware wrapped around the Flask app by `create_app`. When the peer (the address that
opened the connection) is one of VIGIE_TRUSTED_PROXIES, the client's address is found by walking
``X-Forwarded-For`` from the right, skipping the trusted hops: the first address that is not a
trusted proxy is the client (what the sign-in throttle and the audit trail see as
``request.remote_addr``); the proxy's ``X-Forwarded-Proto`` (http or https: cookies, HSTS) and
``X-Forwarded-Host`` are honoured too. From any other peer these headers are dropped before the app
sees them: a client that sends its own ``X-Forwarded-For`` gains nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
HOST = re.compile(r"[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    ip = _address(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in trusted)


def client_address(peer: str, forwarded_for: str, trusted: Sequence[Network]) -> str:
    """The client's address (pure): ``peer`` itself unless it is a trusted proxy; then the rightmost
    address of ``forwarded_for`` that is not a trusted proxy. A malformed entry stops the walk at the
    last good hop (the proxy that passed it on)."""
    if not is_trusted(peer, trusted):
        return peer
    client = peer
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        ip = _address(hop)
        if ip is None:
            break
        client = str(ip)
        if not is_trusted(client, trusted):
            break
    return client


def _last(value: str) -> str:
    return value.split(",")[-1].strip()


class TrustedProxies:
    """WSGI middleware: see the module's docstring."""

    def __init__(self, app: Callable[..., Any], trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = networks(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        forwarded = {name: environ.pop(name) for name in FORWARDED_HEADERS if name in environ}
        peer = str(environ.get("REMOTE_ADDR") or "")
        if self.trusted and is_trusted(peer, self.trusted):
            environ["vigie.proxy_peer"] = peer
            environ["REMOTE_ADDR"] = client_address(peer, forwarded.get("HTTP_X_FORWARDED_FOR", ""), self.trusted)
            proto = _last(forwarded.get("HTTP_X_FORWARDED_PROTO", "")).lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = _last(forwarded.get("HTTP_X_FORWARDED_HOST", ""))
            if host and HOST.fullmatch(host):
                environ["HTTP_HOST"] = host
        return self.app(environ, start_response)
