"""`vigie config check` and `vigie config schema`: the configuration as Vigie reads it.

``check`` loads the settings as every command does (the environment, every YAML file, every
source's options and credentials) and prints what Vigie would run with, file by file, defaults
filled in and secrets as ``***``; a bad value prints the error and exits 2, as every other command
does. ``schema`` writes the JSON Schema of each YAML file, generated from the same models, for
editors (``# yaml-language-server: $schema=schema/teams.schema.json`` at the top of a file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from config.checks import masked
from config.effective import FILE_MODELS, effective_environment, effective_files, json_schema, masked_url
from config.settings import DEFAULT_CONFIG_DIR, Settings, read_files
from vigie.common import checked_settings


def effective(settings: Settings) -> dict[str, Any]:
    """Per file (and ``environment``), every key with the value Vigie runs with; secrets as ``***``;
    each source's options with its kind's defaults."""
    from collectors.options import check_options
    from collectors.sources import REGISTRY

    files = effective_files(read_files(settings.config_dir))
    for entry, config in zip(files["sources.yaml"]["sources"], settings.sources, strict=True):
        cls = REGISTRY.get(config.kind)
        if cls is not None:  # (a disabled source of an unknown kind is never built)
            options = masked(check_options(config, cls.Options))
            entry.update({k: v for k, v in options.items() if k not in entry})
    out: dict[str, Any] = {}
    if settings.environment is not None:
        worked_out = {"VIGIE_CONFIG": str(settings.config_dir), "VIGIE_WORKER_ID": settings.worker_id,
                      "VIGIE_PUBLIC_URL": settings.auth.public_url, "VIGIE_SECRET_KEY": "***"}
        if settings.environment.proxy_url:  # its address shown, its password not
            worked_out["VIGIE_PROXY_URL"] = masked_url(settings.environment.proxy_url)
        out["environment"] = effective_environment(settings.environment, worked_out)
    return out | files


def sources_schema() -> dict[str, Any]:
    """sources.yaml's schema, with each kind's own keys (its options and credentials) under an if/then."""
    from collectors.sources import REGISTRY

    schema = json_schema("sources.yaml")
    entry = schema["$defs"]["SourceEntry"]
    common = dict(entry["properties"])
    entry["allOf"] = []
    for kind, cls in sorted(REGISTRY.items()):
        options = cls.Options.model_json_schema()
        defs = options.pop("$defs", {})
        schema["$defs"].update(defs)
        keys = {**common, **options.get("properties", {})}
        for credential in cls.Options.credentials:
            for via, what in (("env", "an environment variable holding it"), ("file", "a file holding it")):
                keys[f"{credential.name}_{via}"] = {"type": "string",
                        "description": f"{credential.description}: {what}"}
        entry["allOf"].append({"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                               "then": {"properties": keys, "additionalProperties": False}})
    return schema


def schemas() -> dict[str, dict[str, Any]]:
    """Each YAML file's JSON Schema, by the name it is written under (``teams.schema.json``)."""
    return {f"{file.removesuffix('.yaml')}.schema.json":
            sources_schema() if file == "sources.yaml" else json_schema(file) for file in FILE_MODELS}


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n"


@click.group("config")
def config() -> None:
    """The configuration: check it, print what Vigie runs with, write the JSON Schemas."""


@config.command("check")
def check() -> None:
    """Check the environment, every YAML file and every source's options; print the effective
    settings per file (secrets as ***). Exit 0, or 2 with the error."""
    settings = checked_settings()
    for name, data in effective(settings).items():
        click.echo(f"# {name}")
        click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False).rstrip())
        click.echo()
    click.echo(f"configuration ok: {settings.config_dir}")


@config.command("schema")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def schema(directory: Path | None) -> None:
    """Write each YAML file's JSON Schema into DIRECTORY (default: config/schema of this Vigie)."""
    target = directory or DEFAULT_CONFIG_DIR / "schema"
    target.mkdir(parents=True, exist_ok=True)
    for name, content in schemas().items():
        (target / name).write_text(schema_text(content), encoding="utf-8")
        click.echo(f"wrote {target / name}")
