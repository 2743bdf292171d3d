"""The command-line modules import one another without a cycle, and none imports the entry point
(`vigie.cli`): what they share lives in `vigie.common`. Imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def vigie_imports(source: str, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that ``source`` imports, anywhere in it (top level or in a function)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    files = {f"{package.name}.{path.stem}": path for path in sorted(package.glob("*.py")) if path.stem != "__init__"}
    return {name: vigie_imports(path.read_text(encoding="utf-8"), set(files)) - {name} for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once every import is explored

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":  # on the current path: back to where it started
                return path[path.index(target):] + [node, target]
            if target not in state and (cycle := visit(target, path + [node])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [])):
            return cycle
    return None


def test_the_cli_modules_import_without_a_cycle() -> None:
    graph = import_graph(REPO / "vigie")
    assert {"vigie.cli", "vigie.common", "vigie.cli_users"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])
    assert [name for name, imported in graph.items() if "vigie.cli" in imported] == []


def test_the_cycle_finder_finds_one() -> None:
    graph = {"vigie.cli": {"vigie.cli_audit", "vigie.common"}, "vigie.common": set(),
             "vigie.cli_audit": {"vigie.common", "vigie.cli"}}
    assert find_cycle(graph) == ["vigie.cli", "vigie.cli_audit", "vigie.cli"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    source = "def f():\n    from vigie.cli import _open\nimport vigie.common\nfrom vigie import cli_users\n"
    assert vigie_imports(source, {"vigie.cli", "vigie.common", "vigie.cli_users"}) == {
        "vigie.cli", "vigie.common", "vigie.cli_users"}
