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


SECRET_QUERY_WORDS = ("password", "secret", "token", "key")  # libpq's password=, sslpassword=, …


def masked_url(url: str) -> str:
    """A URL with its password as ``***`` (``postgresql://vigie:***@db/vigie``), and the value of
    every query parameter whose name holds a secret word (``?password=…``, ``sslpassword=…``) too."""
    parts = urlsplit(url)
    secret_query = any(w in name.lower() for name in (p.partition("=")[0] for p in parts.query.split("&"))
                       for w in SECRET_QUERY_WORDS)
    if parts.password is None and not secret_query:
        return url  # (urlunsplit would also turn sqlite:///a into sqlite:/a)
    if parts.password is not None:
        netloc = parts.netloc.rpartition("@")
        user = netloc[0].partition(":")[0]
        parts = parts._replace(netloc=f"{user}:***@{netloc[2]}")
    if parts.query:
        pairs = parts.query.split("&")
        parts = parts._replace(query="&".join(
            f"{name}=***" if sep and any(w in name.lower() for w in SECRET_QUERY_WORDS) else f"{name}{sep}{value}"
            for name, sep, value in (pair.partition("=") for pair in pairs)))
    return urlunsplit(parts)


def effective_environment(given: Environment, values: Mapping[str, Any]) -> dict[str, Any]:
    """Each variable Vigie reads with the value it runs with (``values``: those worked out at start,
    such as the worker id), secrets as ``***``."""
    out = masked(given) | dict(values)
    out["DATABASE_URL"] = masked_url(given.database_url)
    if given.database_read_url:
        out["DATABASE_READ_URL"] = masked_url(given.database_read_url)
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
