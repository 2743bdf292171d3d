"""Value checks shared by the settings files: each names the file, the key and what was expected."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names file and key."""


def _fail(file: str, key: str, expected: str, got: Any) -> ConfigError:
    return ConfigError(f"{file}: {key}: expected {expected}, got {got!r}")


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path.name}: file not found in {path.parent}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from exc


def _mapping(value: Any, file: str, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(file, key, "a mapping", value)
    return value


def _list(value: Any, file: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(file, key, "a list", value)
    return value


def _text(value: Any, file: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, key, "a non-empty string", value)
    return value.strip()


def _positive_int(value: Any, file: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(file, key, "a positive integer", value)
    return value


def _positive_number(value: Any, file: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(file, key, "a positive number", value)
    return float(value)


def _bool(value: Any, file: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(file, key, "true or false", value)
    return value


def _strings(value: Any, file: str, key: str) -> tuple[str, ...]:
    return tuple(_text(v, file, f"{key}[{i}]") for i, v in enumerate(_list(value, file, key)))
