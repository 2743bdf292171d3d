"""VIGIE_LEASE_SECONDS: how long a collector's lease on a source lasts (`collectors.runner.lease_ttl`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from collectors.runner import lease_ttl
from config.settings import ConfigError, Settings, SourceConfig, load_settings


def test_unset_the_lease_is_the_larger_of_a_minute_and_three_intervals(base_settings: Settings) -> None:
    assert base_settings.ops.lease_seconds is None
    assert lease_ttl(base_settings, SourceConfig("a", "demo", 5, True, {})) == timedelta(seconds=60)
    assert lease_ttl(base_settings, SourceConfig("b", "demo", 300, True, {})) == timedelta(seconds=900)


def test_a_lease_set_in_seconds_applies_to_every_source() -> None:
    settings = load_settings(env={"VIGIE_LEASE_SECONDS": "30"})
    assert settings.ops.lease_seconds == 30
    assert lease_ttl(settings, SourceConfig("b", "demo", 300, True, {})) == timedelta(seconds=30)


@pytest.mark.parametrize(("lease", "beat", "floor"), [("7", "15", 30), ("29", "15", 30), ("5", "1", 10), ("9", "2", 10),
                                                      ("39", "20", 40)])
def test_a_lease_shorter_than_10_s_or_two_heartbeats_is_refused(lease: str, beat: str, floor: int) -> None:
    with pytest.raises(ConfigError, match=f"VIGIE_LEASE_SECONDS: {lease} is too short; expected at least {floor} "):
        load_settings(env={"VIGIE_LEASE_SECONDS": lease, "VIGIE_HEARTBEAT_SECONDS": beat})
    settings = load_settings(env={"VIGIE_LEASE_SECONDS": str(floor), "VIGIE_HEARTBEAT_SECONDS": beat})
    assert settings.ops.lease_seconds == floor  # the floor itself is accepted


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5"])
def test_a_lease_that_is_not_a_positive_integer_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="VIGIE_LEASE_SECONDS"):
        load_settings(env={"VIGIE_LEASE_SECONDS": value})



def test_unset_the_lease_never_falls_under_two_heartbeats() -> None:
    settings = load_settings(env={"VIGIE_HEARTBEAT_SECONDS": "45"})  # default lease: a minute, under 2 x 45 s
    assert lease_ttl(settings, SourceConfig("a", "demo", 5, True, {})) == timedelta(seconds=90)
