"""The JSON Schemas in config/schema/ are the ones the models generate (`vigie config schema`
rewrites them), the shipped files satisfy them, and an editor using them flags a misspelt key."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from config.effective import FILE_MODELS
from vigie.cli_config import schema_text, schemas

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "config" / "schema"


def _as_json(data: Any) -> Any:
    """YAML data as an editor's language server sees it (a date is its ISO text)."""
    return json.loads(json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, date) else str(v)))


def _shipped(file: str) -> Any:
    return _as_json(yaml.safe_load((REPO / "config" / file).read_text(encoding="utf-8")))


def _validator(file: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / f"{file.removesuffix('.yaml')}.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_committed_schemas_are_the_generated_ones() -> None:
    generated = schemas()
    assert sorted(generated) == sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json"))
    stale = [name for name, schema in generated.items()
             if (SCHEMA_DIR / name).read_text(encoding="utf-8") != schema_text(schema)]
    assert stale == [], f"run `vigie config schema` and commit: {stale}"


@pytest.mark.parametrize("file", sorted(FILE_MODELS))
def test_shipped_file_satisfies_its_schema(file: str) -> None:
    errors = [e.message for e in _validator(file).iter_errors(_shipped(file) or {})]
    assert errors == []


@pytest.mark.parametrize(("file", "typo"), [
    ("teams.yaml", lambda d: d["teams"]["legal"].update(buisness_hours={"hours": "09:00-18:00"})),
    ("routing.yaml", lambda d: d["rules"][0].update(descripton="x")),
    ("brands.yaml", lambda d: d["brands"][0].update(handels=["@x"])),
    ("lexicons.yaml", lambda d: d["flags"]["fraud"].update(severty="high")),
    ("sources.yaml", lambda d: d["sources"][0].update(rate_per_minut=5)),
    ("sources.yaml", lambda d: d["sources"].append({"name": "news", "kind": "rss", "interval_seconds": 300,
                                                    "url": "https://news.example/feed", "timout_seconds": 5})),
    ("reporting.yaml", lambda d: d["wall"].update(reload_minute=5)),
    ("outbound.yaml", lambda d: d["approval"].update(expire_hour=5)),
    ("archive.yaml", lambda d: d["supervision"].update(due_hour=5)),
    ("notifications.yaml", lambda d: d.update(chanels=[])),
])
def test_a_misspelt_key_breaks_the_schema(file: str, typo: Any) -> None:
    data = _shipped(file)
    typo(data)
    errors = [e.message for e in _validator(file).iter_errors(data)]
    assert any("Additional properties are not allowed" in e or "was unexpected" in e for e in errors), errors
