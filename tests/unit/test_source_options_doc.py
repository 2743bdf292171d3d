"""The README's per-source option tables (under "### `sources.yaml`") match the declarations:
every declared key (each source's `Options` model and its `credentials`) is documented with its
default, and no documented key is undeclared. Adding a field without documenting it fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from collectors.http import HttpOptions
from collectors.options import Credential, SourceOptions
from collectors.sources import REGISTRY

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
HTTP = "http client"  # the table of keys every source using the HTTP client takes


def option_tables(readme: str) -> dict[str, list[tuple[list[str], str]]]:
    """Each table of the `sources.yaml` section as (keys, default cell) rows, by the kind it documents:
    the one after "The `demo` kind takes", the HTTP client's, and the one after each "`<kind>` — …"."""
    section = readme.split("### `sources.yaml`", 1)[1].split("\n### ", 1)[0].split("\n#### Backfill", 1)[0]
    tables: dict[str, list[tuple[list[str], str]]] = {}
    for block in re.split(r"\n\s*\n", section):
        lines = block.strip().splitlines()
        if not lines or not lines[0].startswith("| key |"):
            continue
        before = section[: section.index(block)].rstrip().rsplit("\n\n", 1)[-1].strip()
        if "takes these keys on any source" in before:
            kind = HTTP
        elif (named := re.match(r"`([a-z]+)` —", before)) or (named := re.search(r"The `([a-z]+)` kind takes", before)):
            kind = named.group(1)
        else:
            raise AssertionError(f"a table in sources.yaml's section for no kind, after: {before[:80]!r}")
        rows = []
        for line in lines[2:]:  # past the header and the |---| line
            key_cell, default_cell = (cell.strip() for cell in line.strip().strip("|").split("|")[:2])
            rows.append((re.findall(r"`([a-z0-9_]+)`", key_cell), default_cell))
        tables[kind] = rows
    return tables


def _literal(cell: str) -> str | None:
    found = re.match(r"`([^`]*)`", cell)
    return found.group(1) if found else None


def _default_problem(key: str, field: Any, cell: str) -> str | None:
    default = field.default
    if field.is_required():
        return None if cell == "required" else f"{key}: documented default {cell!r}, declared required"
    if default is None or default == [] or default == {}:  # nothing by default: said in words
        return None if _literal(cell) is None and cell != "required" else f"{key}: documented {cell!r}, declared none"
    literal = _literal(cell)
    if isinstance(default, int | float) and not isinstance(default, bool):
        try:
            same = literal is not None and float(literal) == default
        except ValueError:
            same = False
    else:
        same = literal == str(default)
    return None if same else f"{key}: documented default {cell!r}, declared {default!r}"


def problems(tables: dict[str, list[tuple[list[str], str]]], kind: str, model: type[SourceOptions],
             credentials: tuple[Credential, ...]) -> list[str]:
    """What the README gets wrong about ``kind`` (empty when it matches the declarations)."""
    rows = list(tables.get(kind, []))
    if issubclass(model, HttpOptions):
        rows += tables.get(HTTP, [])
    documented: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for keys, default in rows:
        for key in keys:
            name, _, via = key.rpartition("_")
            if via in ("env", "file") and name:
                secrets[name] = default
            else:
                documented[key] = default
    found = [f"{key}: declared, not documented" for key in model.model_fields if key not in documented]
    found += [f"{key}: documented, not declared" for key in documented if key not in model.model_fields]
    found += [f"{key}: no description" for key, field in model.model_fields.items() if not field.description]
    for key, field in model.model_fields.items():
        if key in documented and (problem := _default_problem(key, field, documented[key])):
            found.append(problem)
    declared = {c.name: c for c in credentials}
    found += [f"{name}_env/_file: declared, not documented" for name in declared if name not in secrets]
    found += [f"{name}_env/_file: documented, not declared" for name in secrets if name not in declared]
    for name, cell in secrets.items():
        if name in declared and cell != ("required" if declared[name].required else "none"):
            found.append(f"{name}_env/_file: documented {cell!r}, declared required={declared[name].required}")
    return found


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_readme_table_matches_the_declared_options(kind: str) -> None:
    cls = REGISTRY[kind]
    tables = option_tables(README)
    assert kind in tables, f"README.md: no option table for `{kind}` under sources.yaml"
    assert problems(tables, kind, cls.Options, cls.Options.credentials) == []


def test_a_field_added_without_documenting_it_is_caught() -> None:
    cls = REGISTRY["webhook"]

    class Grown(cls.Options):  # type: ignore[name-defined,misc]
        colour: str = Field("blue", description="a key nobody documented")

    class Changed(cls.Options):  # type: ignore[name-defined,misc]
        max_body_mb: float = Field(7, gt=0, description="a default the README does not say")

    tables = option_tables(README)
    assert problems(tables, "webhook", Grown, cls.Options.credentials) == ["colour: declared, not documented"]
    assert problems(tables, "webhook", Changed, cls.Options.credentials) == [
        "max_body_mb: documented default '`5`', declared 7"]
    assert problems(tables, "webhook", cls.Options, (*cls.Options.credentials, Credential("token", "?"))) == [
        "token_env/_file: declared, not documented"]
    assert problems(tables, "rss", HttpOptions, ()) == [
        "url: documented, not declared", "network: documented, not declared",
        "username_env/_file: documented, not declared", "password_env/_file: documented, not declared"]
