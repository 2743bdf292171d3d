"""Source options, declared once per source as a pydantic model and checked when settings load.

Each source file declares the keys of its `sources.yaml` entry as a `SourceOptions` model
(type or range, default, one line of help each; unknown keys refused) and the credentials it
takes as `Credential` entries. `check_options` validates one entry against both and turns
pydantic's errors into one `CollectorError` naming the place and the key, e.g.
``sources.yaml: sources[2] (fb-page): max_body_mb: Input should be greater than 0, got 0``.
The README's per-source tables are checked against these declarations by a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from collectors.types import CollectorError
from config.checks import secret_name, unknown_key
from config.settings import SourceConfig
from config.sources import COMMON_KEYS


@dataclass(frozen=True)
class Credential:
    """A secret a source takes, given as ``<name>_env: VARIABLE`` or ``<name>_file: PATH`` (read by
    `config.sources`). A required one must be there and at least ``min_length`` long when enabled."""

    name: str
    description: str
    required: bool = False
    min_length: int = 1


class SourceOptions(BaseModel):
    """The options of one source kind. Strict: YAML gives the types, so ``"10"`` is not a number and
    ``true`` is not an integer; unknown keys are refused; a checked set of options never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    # The secrets the kind takes (``<name>_env`` / ``<name>_file``), declared with its options.
    credentials: ClassVar[tuple[Credential, ...]] = ()


M = TypeVar("M", bound=SourceOptions)


def check_options(
    config: SourceConfig,
    model: type[M],
    where: str | None = None,
) -> M:
    """``config.options`` validated against ``model``, and ``config.secrets`` against its ``credentials``
    (their presence only when the source is enabled: a disabled source may lack them).
    Raise a permanent CollectorError starting with ``where`` (default ``source '<name>'``)."""
    where = where or f"source {config.name!r}"
    credentials = model.credentials
    known = {c.name for c in credentials}
    for name in config.secrets:
        if name not in known:
            takes = ", ".join(f"{c}_env/_file" for c in sorted(known)) or "none"
            raise CollectorError(f"{where}: {name}_env/_file: unknown credential (this kind takes: {takes})", True)
    if config.enabled:
        for need in credentials:
            secret = config.secrets.get(need.name)
            if need.required and (secret is None or not secret.reveal()):
                raise CollectorError(
                    f"{where}: {need.name}: required ({need.name}_env: VARIABLE or {need.name}_file: PATH)", True
                )
            if secret is not None and secret.reveal() and len(secret.reveal()) < need.min_length:
                raise CollectorError(f"{where}: {need.name}: too short (at least {need.min_length} characters)", True)
    try:
        return model.model_validate(dict(config.options), context={"credentials": frozenset(config.secrets),
                                                                   "enabled": config.enabled})
    except ValidationError as exc:
        raise CollectorError(f"{where}: {describe(exc, model)}", permanent=True) from None


def valid_keys(model: type[SourceOptions]) -> list[str]:
    """Every key a source of this kind may have in sources.yaml: the common ones, its options and
    its credentials' ``_env``/``_file`` forms."""
    return [*COMMON_KEYS, *model.model_fields, *(f"{c.name}_{via}" for c in model.credentials for via in ("env",
            "file"))]


def describe(exc: ValidationError, model: type[SourceOptions] | None = None) -> str:
    """Each problem as ``key: what is wrong, got value`` (a problem of no single key: its message);
    an unknown key with the nearest valid one."""
    parts = []
    for error in exc.errors():
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
        if error["type"] == "value_error":  # our own checks: their message is the whole story
            message = str(error["ctx"]["error"])
        elif error["type"] == "extra_forbidden" and model is not None and len(error["loc"]) == 1:
            message = unknown_key(str(error["loc"][0]), valid_keys(model))  # (its value unsaid: a secret?)
        else:
            message = error["msg"]
            # An unknown key's value is not shown: it may be a credential written in the wrong place.
            if error["type"] not in ("missing", "extra_forbidden") and not secret_name(key):
                message += f", got {error['input']!r}"
        parts.append(f"{key}: {message}" if key else message)
    return "; ".join(parts)


def _check(test: Callable[[Any], object], expected: str) -> AfterValidator:
    def validate(value: Any) -> Any:
        if not test(value):
            raise ValueError(f"expected {expected}, got {value!r}")
        return value

    return AfterValidator(validate)


def text(expected: str) -> AfterValidator:
    """A string that is not blank (kept as given)."""
    return _check(lambda v: bool(v.strip()), expected)


def every(test: Callable[[Any], object], expected: str) -> AfterValidator:
    """A list whose every item passes ``test``."""
    return _check(lambda items: all(test(i) for i in items), expected)


def label(expected: str = "a short label") -> AfterValidator:
    """A non-empty label such as a network name."""
    return _check(bool, expected)


HttpUrl = Annotated[str, _check(lambda v: v.startswith(("http://", "https://")), "an http(s) URL")]


def at_least_one(*keys: str, expected: str) -> Any:
    """A check of the whole model, assigned in its class body: at least one of ``keys`` is given
    (neither None nor empty); otherwise ``expected`` is the error."""

    def check(model: Any) -> Any:
        if not any(getattr(model, key) for key in keys):
            raise ValueError(expected)
        return model

    return model_validator(mode="after")(check)
