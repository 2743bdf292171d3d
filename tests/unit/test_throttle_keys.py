"""How the sign-in throttle keys a client address (models/throttle.py): pure."""

from __future__ import annotations

from models.throttle import address_key, throttle_keys


def test_ipv6_clients_are_counted_by_their_64_and_ipv4_by_the_address() -> None:
    # One IPv6 client usually holds a whole /64: a new address in it is no new client.
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"  # the next /64 is another client
    assert address_key("2001:DB8:1:2:0:0:0:1") == "2001:db8:1:2::/64"  # however it is written
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("192.0.2.8") == "192.0.2.8"
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"  # IPv4-mapped: the IPv4 client
    assert address_key("") == "?" and address_key("not an address") == "not an address"
    assert throttle_keys("2001:db8:1:2::99", "alice")[0][0] == "address:2001:db8:1:2::/64"
