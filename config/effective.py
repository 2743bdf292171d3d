"""What Vigie runs with, file by file (`vigie config check`), and each YAML file's JSON Schema
(`vigie config schema`), both from the declared models: one definition of each file's shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from config.archive import ArchiveFile
from config.checks import masked, validate
from config.environment import Environment
from config.notifications import NotificationsFile
from config.outbound import OutboundFile
from config.reporting import ReportingFile
from config.rules import BrandsFile, LexiconsFile, RoutingFile
from config.sla import TeamsFile
from config.sources import SourcesFile

# Each file of the configuration directory: its model, and whether it may be left out (its defaults).
FILE_MODELS: dict[str, tuple[type[BaseModel], bool]] = {
    "teams.yaml": (TeamsFile, False),
    "routing.yaml": (RoutingFile, False),
    "brands.yaml": (BrandsFile, False),
    "lexicons.yaml": (LexiconsFile, False),
    "sources.yaml": (SourcesFile, False),
    "notifications.yaml": (NotificationsFile, True),
    "reporting.yaml": (ReportingFile, True),
    "outbound.yaml": (OutboundFile, True),
    "archive.yaml": (ArchiveFile, True),
}


def masked_url(url: str) -> str:
    """A database URL with its password as ``***`` (``postgresql://vigie:***@db/vigie``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


def effective_environment(given: Environment, values: Mapping[str, Any]) -> dict[str, Any]:
    """Each variable Vigie reads with the value it runs with (``values``: those worked out at start,
    such as the worker id), secrets as ``***``."""
    out = masked(given) | dict(values)
    out["DATABASE_URL"] = masked_url(given.database_url)
    return {name: out[name] for name in (f.alias or n for n, f in Environment.model_fields.items()) if name in out}


def effective_files(files: Mapping[str, Any]) -> dict[str, Any]:
    """Each file (its YAML data, already checked) as Vigie reads it: every key, defaults included,
    secrets as ``***``."""
    return {name: masked(validate(model, files.get(name), name)) for name, (model, _) in FILE_MODELS.items()}


def json_schema(file: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one YAML file, for editors."""
    model, _ = FILE_MODELS[file]
    schema = model.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": file, **schema}
