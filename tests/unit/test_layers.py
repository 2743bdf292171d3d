"""The layers import downward only (DESIGN.md, Layout): vigie → dashboard → collectors → models →
config, and the dashboard talks to models/ only, so no module under dashboard/ imports SQLAlchemy.

Every module of each package is parsed with `ast` (imports inside functions and under
``TYPE_CHECKING`` count too); ruff's TID251 (pyproject.toml) checks the SQLAlchemy ban as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Bottom first: each imports only those before it.
LAYERS = ("i18n", "config", "models", "collectors", "dashboard", "vigie")


def imported_packages(source: str) -> set[str]:
    """The top-level packages a module's source imports (relative imports stay in its own package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def forbidden(package: str) -> set[str]:
    """What a module of ``package`` may not import: the layers above it (and SQLAlchemy in the dashboard)."""
    above = set(LAYERS[LAYERS.index(package) + 1:])
    return above | {"sqlalchemy"} if package == "dashboard" else above


def violations(package: str) -> list[str]:
    found = []
    for path in modules(package):
        name = path.relative_to(ROOT).as_posix()
        for imported in sorted(imported_packages(path.read_text(encoding="utf-8")) & forbidden(package)):
            found.append(f"{name} imports {imported}")
    return found


def test_the_checker_sees_every_form_of_import() -> None:
    source = ("import sqlalchemy.orm\nfrom dashboard.app import create_app\nfrom . import sibling\n"
              "def f():\n    from vigie import cli\n    import collectors as c\n")
    assert imported_packages(source) == {"sqlalchemy", "dashboard", "vigie", "collectors"}
    assert forbidden("config") == {"models", "collectors", "dashboard", "vigie"}
    assert forbidden("dashboard") == {"vigie", "sqlalchemy"}
    assert forbidden("vigie") == set()


@pytest.mark.parametrize("package", LAYERS)
def test_imports_point_down_only(package: str) -> None:
    assert modules(package), f"no modules found under {package}/"
    assert violations(package) == []

