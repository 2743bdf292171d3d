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
    settings = load_settings(env={"VIGIE_LEASE_SECONDS": "7"})
    assert settings.ops.lease_seconds == 7
    assert lease_ttl(settings, SourceConfig("b", "demo", 300, True, {})) == timedelta(seconds=7)


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5"])
def test_a_lease_that_is_not_a_positive_integer_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="VIGIE_LEASE_SECONDS"):
        load_settings(env={"VIGIE_LEASE_SECONDS": value})

