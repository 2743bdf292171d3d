"""Finding the client's address behind trusted reverse proxies (dashboard/proxies.py), pure."""

from __future__ import annotations

import pytest

from dashboard.proxies import client_address, networks

TRUSTED = networks(["127.0.0.1", "10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(("peer", "forwarded_for", "client"), [
    ("192.0.2.1", "", "192.0.2.1"),  # no proxy
    ("192.0.2.1", "198.51.100.7", "192.0.2.1"),  # an untrusted peer's header is ignored
    ("127.0.0.1", "", "127.0.0.1"),  # the proxy itself, nothing forwarded
    ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
    ("127.0.0.1", "198.51.100.7, 10.2.3.4", "198.51.100.7"),  # two trusted hops skipped
    ("127.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a forged first hop is not believed
    ("127.0.0.1", "garbage, 198.51.100.7", "198.51.100.7"),
    ("127.0.0.1", "198.51.100.7, garbage", "127.0.0.1"),  # a malformed hop: stop at the proxy that passed it
    ("127.0.0.1", "2001:db8::5", "2001:db8::5"),
    ("fd00::1", "[2001:db8::5]", "2001:db8::5"),
    ("::ffff:10.0.0.9", "198.51.100.7", "198.51.100.7"),  # an IPv4 proxy seen through an IPv6 socket
])
def test_client_address(peer: str, forwarded_for: str, client: str) -> None:
    assert client_address(peer, forwarded_for, TRUSTED) == client
