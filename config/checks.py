"""What the settings files share: `ConfigError`, reading a YAML file, and the declared validation
(`FileModel`, the annotated value types, `validate` turning pydantic's errors into one ConfigError
naming the file, each key's path, what was expected and, for an unknown key, the nearest valid name)."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


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


# --- declared validation: pydantic models of the files ------------------------------------------
# Each YAML file's shape is one `FileModel` (unknown keys refused); its values use the annotated
# types below, whose checks say what was expected in the house style. `validate` turns pydantic's
# errors into one ConfigError naming the file, the path of each key and, for an unknown key, the
# nearest valid name. Values are echoed (", got 'soon'") except a secret's and an unknown key's
# (a credential written under a misspelt key must not reach a log).


class FileModel(BaseModel):
    """The shape of one file (or of a block of it): unknown keys refused, frozen once checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_block_is_default(cls, data: Any) -> Any:
        """A block left empty (``wall:`` with its keys commented out) means its defaults."""
        if isinstance(data, Mapping):
            blocks = {f.alias or n for n, f in cls.model_fields.items() if isinstance(f.default, BaseModel)}
            return {k: v for k, v in data.items() if not (v is None and k in blocks)}
        return data


class AtKey(ValueError):
    """Raised by a model's own check of several keys: the problem belongs to ``key`` of that model."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class SecretMarker:
    """Metadata of a field whose value is never echoed in an error nor printed."""


SECRET = SecretMarker()


class Expect:
    """A before-validator: ``test(value)`` holds, else the error ``expected <what>``; ``convert``
    (optional) gives the value kept."""

    def __init__(self, expected: str, test: Callable[[Any], object],
                 convert: Callable[[Any], Any] | None = None) -> None:
        self.expected, self.test, self.convert = expected, test, convert

    def __call__(self, value: Any) -> Any:
        try:
            ok = bool(self.test(value))
        except (TypeError, ValueError, AttributeError):
            ok = False
        if not ok:
            raise PydanticCustomError("expected", "expected {expected}", {"expected": self.expected})
        return self.convert(value) if self.convert else value


def expect(expected: str, test: Callable[[Any], object], convert: Callable[[Any], Any] | None = None) -> Any:
    return BeforeValidator(Expect(expected, test, convert))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


Text = Annotated[str, Field(min_length=1), expect("a non-empty string", lambda v: isinstance(v, str) and v.strip(),
                                                    str.strip)]
SecretText = Annotated[str, Field(min_length=1), SECRET,
                       expect("a non-empty string", lambda v: isinstance(v, str) and v.strip(), str.strip)]
PositiveInt = Annotated[int, Field(gt=0), expect("a positive integer", lambda v: _is_int(v) and v > 0)]
NonNegativeInt = Annotated[int, Field(ge=0), expect("a whole number, 0 or more", lambda v: _is_int(v) and v >= 0)]
PositiveNumber = Annotated[float, Field(gt=0), expect("a positive number", lambda v: _is_number(v) and v > 0, float)]
Bool = Annotated[bool, expect("true or false", lambda v: isinstance(v, bool))]


class OneOf:
    """Metadata of a string among ``choices``: ``Annotated[str, OneOf(("a", "b"))]`` (an enum in the JSON Schema)."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices
        self.func = Expect(f"one of {', '.join(choices)}", lambda v: isinstance(v, str) and v in choices)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.func, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["enum"] = list(self.choices)
        return out


def _zone_ok(value: Any) -> bool:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


Zone = Annotated[str, Field(description="an IANA time zone such as Europe/Paris"),
                 expect("an IANA time zone", lambda v: isinstance(v, str) and v.strip() and _zone_ok(v), str.strip)]

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, file: str, context: Mapping[str, Any] | None = None) -> M:
    """``data`` (a file's YAML; None, an empty file, is an empty mapping) checked against ``model``."""
    try:
        return model.model_validate({} if data is None else data, context=dict(context or {}))
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, model, file)) from None


def key_path(loc: tuple[int | str, ...]) -> str:
    """``("teams", "legal", "sla_minutes")`` as ``teams.legal.sla_minutes``; list items as ``rules[2]``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc if p != "[key]").lstrip(".")


def unknown_key(key: str, known: Iterable[str]) -> str:
    """What to say of an unknown key: the nearest valid name, else the valid names."""
    names = list(dict.fromkeys(known))
    near = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if near:
        return f"unknown key; did you mean {near[0]}?"
    return f"unknown key; expected one of {', '.join(names)}" if names else "unknown key"


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """``Annotated[X, meta…]`` and ``X | None`` down to X, with the metadata met on the way."""
    meta: list[Any] = []
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            meta.extend(tp.__metadata__)
            tp = get_args(tp)[0]
        elif origin in (Union, UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, meta
            tp = args[0]
        else:
            return tp, meta


def field_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[Any, list[Any], str | None]:
    """The declared type at ``loc`` under ``model``, its metadata, and the name of the field it is in."""
    tp: Any = model
    meta: list[Any] = []
    name: str | None = None
    for part in loc:
        tp, more = _unwrap(tp)
        meta += more
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            found = next((f for n, f in tp.model_fields.items() if part in (n, f.alias)), None)
            if found is None:
                return None, [], name
            tp, meta, name = found.annotation, list(found.metadata), str(part)
        elif get_origin(tp) in (list, tuple, set, frozenset, Sequence) and isinstance(part, int):
            tp, meta = get_args(tp)[0], []
        elif get_origin(tp) in (dict, Mapping) and not isinstance(part, int):
            tp, meta = get_args(tp)[1], []
        else:
            return None, [], name
    tp, more = _unwrap(tp)
    return tp, meta + more, name


def field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


# Names whose values are never echoed nor printed, marked or not (a credential put in the wrong place).
_SECRET_NAME = re.compile(r"secret|password|passwd|token|credential|(^|_)key$", re.IGNORECASE)


def is_secret(model: type[BaseModel], loc: tuple[int | str, ...]) -> bool:
    _, meta, name = field_at(model, loc)
    return any(isinstance(m, SecretMarker) for m in meta) or bool(name and secret_name(name))


def _expected_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    _, meta, _ = field_at(model, loc)
    for m in meta:
        if isinstance(getattr(m, "func", None), Expect):
            return str(m.func.expected)
    return None


MAX_ERRORS = 10


def describe_errors(exc: ValidationError, model: type[BaseModel], file: str) -> str:
    """One line per problem: ``file: key.path: what is wrong``."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        shown = "" if is_secret(model, loc) else f", got {error.get('input')!r}"
        if kind == "extra_forbidden":
            parent, _, _ = field_at(model, loc[:-1])
            known = field_names(parent) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
            message = unknown_key(str(loc[-1]), known)
        elif kind == "missing":
            what = _expected_at(model, loc)
            message = f"required: expected {what}" if what else "required"
        elif kind == "value_error":  # our own checks of several keys: their message is the whole story
            message = str(error["ctx"]["error"])
            if isinstance(error["ctx"]["error"], AtKey):
                loc = (*loc, error["ctx"]["error"].key)
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "expected a mapping" + shown
        elif kind in ("list_type", "tuple_type"):
            message = "expected a list" + shown
        else:
            message = error["msg"] + shown
        lines.append(f"{file}: {key_path(loc) or '(top level)'}: {message}")
    if len(lines) > MAX_ERRORS:  # a file of the wrong shape altogether: the first problems say enough
        lines[MAX_ERRORS:] = [f"{file}: … and {len(lines) - MAX_ERRORS} more problems"]
    return "\n".join(lines)


def secret_name(key: str) -> bool:
    """A key whose value is secret by its name (``*_env``/``*_file`` name where a secret is, not the secret)."""
    return bool(_SECRET_NAME.search(key)) and not key.endswith(("_env", "_file"))


def masked(value: Any) -> Any:
    """A checked model as plain data (by the files' key names, defaults included, keys left unset
    without a default left out), each secret as ``***``."""
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        for field_name, info in type(value).model_fields.items():
            key = info.alias or field_name
            item = getattr(value, field_name)
            if item is None:  # unset, and nothing in its place
                continue
            meta = [*info.metadata, *_unwrap(info.annotation)[1]]
            secret = any(isinstance(m, SecretMarker) for m in meta) or secret_name(key)
            out[key] = "***" if secret and item is not None else masked(item)
        for key, item in (value.model_extra or {}).items():
            out[key] = "***" if secret_name(str(key)) else masked(item)
        return out
    if isinstance(value, Mapping):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [masked(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
