"""`sources.yaml`: the sources to poll, their options, and their credentials read once at start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.checks import ConfigError, _bool, _fail, _list, _mapping, _positive_number, _text


class Secret:
    """A credential read at start. Its repr and str never show the value, so a log line or a
    traceback that prints a config object leaks nothing; `reveal()` is the one way to it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    interval_seconds: float
    enabled: bool
    options: Mapping[str, Any] = field(default_factory=dict)
    # Credentials, from `<name>_env: VARIABLE` or `<name>_file: PATH` keys in sources.yaml.
    secrets: Mapping[str, Secret] = field(default_factory=dict)


def _source_secrets(
    item: Mapping[str, Any], file: str, key: str, env: Mapping[str, str], enabled: bool
) -> dict[str, Secret]:
    """`token_env: VAR` reads the variable, `token_file: PATH` the file (stripped), both as secret `token`.
    A disabled source's missing credentials are not an error (it will not be polled)."""
    secrets: dict[str, Secret] = {}
    for option, value in item.items():
        if not isinstance(option, str) or not option.endswith(("_env", "_file")):
            continue
        name, _, via = option.rpartition("_")
        where = f"{key}.{option}"
        ref = _text(value, file, where)
        if name in secrets:
            raise _fail(file, where, f"one of {name}_env or {name}_file, not both", ref)
        if via == "env":
            found = env.get(ref, "")
            if not found and enabled:
                raise ConfigError(f"{file}: {where}: environment variable {ref} is not set")
        else:
            try:
                found = Path(ref).read_text(encoding="utf-8").strip()
            except OSError as exc:
                if enabled:
                    raise ConfigError(f"{file}: {where}: cannot read secret file {ref!r}: {exc.strerror}") from None
                found = ""
        secrets[name] = Secret(found)
    return secrets


def parse_sources(
    data: Any, file: str = "sources.yaml", env: Mapping[str, str] | None = None
) -> tuple[SourceConfig, ...]:
    root = _mapping(data, file, "(top level)")
    out: list[SourceConfig] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(root.get("sources"), file, "sources")):
        key = f"sources[{i}]"
        item = _mapping(raw, file, key)
        name = _text(item.get("name"), file, f"{key}.name")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise _fail(file, f"{key}.name", "lower-case letters, digits, '-' or '_'", name)
        if name in seen:
            raise _fail(file, f"{key}.name", "a name used once", name)
        seen.add(name)
        kind = _text(item.get("kind"), file, f"{key}.kind")
        interval = _positive_number(item.get("interval_seconds"), file, f"{key}.interval_seconds")
        enabled = _bool(item.get("enabled", True), file, f"{key}.enabled")
        secrets = _source_secrets(item, file, key, env or {}, enabled)
        options = {
            k: v
            for k, v in item.items()
            if k not in {"name", "kind", "interval_seconds", "enabled"} and not str(k).endswith(("_env", "_file"))
        }
        out.append(SourceConfig(name, kind, interval, enabled, options, secrets))
    return tuple(out)
