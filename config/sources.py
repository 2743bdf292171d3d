"""`sources.yaml`: the sources to poll, their options, and their credentials read once at start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from config.checks import Bool, ConfigError, FileModel, PositiveNumber, Text, _fail, expect, validate


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
        if not isinstance(value, str) or not value.strip():
            raise _fail(file, where, "a variable name" if via == "env" else "a file path", value)
        ref = value.strip()
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


SourceName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$"),
                      expect("lower-case letters, digits, '-' or '_'",
                             lambda v: isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9_-]*", v.strip()),
                             str.strip)]
COMMON_KEYS: tuple[str, ...] = ("name", "kind", "interval_seconds", "enabled")


class SourceEntry(FileModel):
    """The keys every source has; the others are its kind's options (checked against the kind's own
    `Options` model when the settings load, `collectors.sources.check_sources`) and its credentials
    (``<name>_env: VARIABLE`` or ``<name>_file: PATH``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: SourceName = Field(description="the source's name (used once; lower-case letters, digits, - or _)")
    kind: Text = Field(description="its kind: bluesky, demo, mastodon, reddit, rss, webhook or x")
    interval_seconds: PositiveNumber = Field(description="seconds between two polls")
    enabled: Bool = Field(default=True, description="false: kept here, never polled")


class SourcesFile(FileModel):
    sources: list[SourceEntry] = Field(description="the sources `vigie collect` polls")


def parse_sources(
    data: Any, file: str = "sources.yaml", env: Mapping[str, str] | None = None
) -> tuple[SourceConfig, ...]:
    checked = validate(SourcesFile, data, file)
    out: list[SourceConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(checked.sources):
        key = f"sources[{i}]"
        if entry.name in seen:
            raise _fail(file, f"{key}.name", "a name used once", entry.name)
        seen.add(entry.name)
        extra = dict(entry.model_extra or {})
        secrets = _source_secrets(extra, file, key, env or {}, entry.enabled)
        options = {k: v for k, v in extra.items() if not str(k).endswith(("_env", "_file"))}
        out.append(SourceConfig(entry.name, entry.kind, entry.interval_seconds, entry.enabled, options, secrets))
    return tuple(out)
