"""Settings loader and the default YAML configuration files."""

from config.settings import (
    PRIORITIES,
    Brand,
    ConfigError,
    LexiconFlag,
    RoutingRule,
    Settings,
    SourceConfig,
    TeamConfig,
    load_settings,
)

__all__ = [
    "PRIORITIES",
    "Brand",
    "ConfigError",
    "LexiconFlag",
    "RoutingRule",
    "Settings",
    "SourceConfig",
    "TeamConfig",
    "load_settings",
]
