"""The monorepo's shape: four distributions with src layout, py.typed, README, lockstep versions."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = {"fer-core": "fer_core", "fer-models": "fer_models",
                 "fer-temporal": "fer_temporal", "fer-cli": "fer_cli"}


@pytest.mark.parametrize("dist,module", DISTRIBUTIONS.items())
def test_distribution_layout(dist, module):
    root = REPO / "packages" / dist
    for path in ("pyproject.toml", "README.md", f"src/{module}/__init__.py", f"src/{module}/py.typed"):
        assert (root / path).is_file(), f"{dist} lacks {path}"
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] == dist


def _pyproject(dist: str) -> dict:
    return tomllib.loads((REPO / "packages" / dist / "pyproject.toml").read_text())


def deps(dist: str) -> set[str]:
    """Names of a distribution's dependencies: static, or the lockstep hook's siblings + third party."""
    doc = _pyproject(dist)
    hook = doc.get("tool", {}).get("hatch", {}).get("metadata", {}).get("hooks", {}).get("custom", {})
    listed = doc["project"].get("dependencies", []) + hook.get("siblings", []) + hook.get("dependencies", [])
    return {re.split(r"[<>=!~;\[ @]", d, maxsplit=1)[0].strip() for d in listed}


def test_versions_move_in_lockstep():
    """One version source (fer-core's _version.py); the siblings read it and pin each other ==."""
    import fer_core

    assert _pyproject("fer-core")["tool"]["hatch"]["version"]["path"] == "src/fer_core/_version.py"
    for dist in DISTRIBUTIONS:
        project = _pyproject(dist)["project"]
        assert "version" not in project and "version" in project["dynamic"], dist
    installed = {d: metadata.version(d) for d in DISTRIBUTIONS}
    assert set(installed.values()) == {fer_core.__version__}, installed
    for dist in DISTRIBUTIONS:
        for line in metadata.requires(dist) or []:
            req = Requirement(line)  # extras (fer-models[torch]) and markers may vary
            if req.name in DISTRIBUTIONS:
                assert str(req.specifier) == f"=={fer_core.__version__}" and not req.url, (dist, line)


def test_dependencies_point_one_way():
    assert not deps("fer-core") & set(DISTRIBUTIONS)
    assert deps("fer-models") & set(DISTRIBUTIONS) == {"fer-core"}
    assert deps("fer-temporal") & set(DISTRIBUTIONS) == {"fer-core"}
    assert deps("fer-cli") & set(DISTRIBUTIONS) == {"fer-core", "fer-models", "fer-temporal"}
    assert "timm" not in deps("fer-core") and "transformers" not in deps("fer-core")


def _is_type_checking_guard(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every module ``module`` imports, at any depth (functions too), except under ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking_guard(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> the modules of packages/*/src that importing it runs (``from pkg import sub``: both)."""
    files: dict[str, Path] = {}
    for src in sorted((REPO / "packages").glob("*/src")):
        for path in src.rglob("*.py"):
            rel = path.relative_to(src).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            files[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {m for m in _imports(tree, module, path.name == "__init__.py") if m in files}
        # importing a.b.c first runs a/__init__ and a/b/__init__: those count, except the
        # importer's own packages (a package's __init__ imports its own modules by design)
        own = {module.rsplit(".", n)[0] for n in range(module.count(".") + 1)}
        graph[module] = {pkg for m in imported for pkg in _packages_of(m) if pkg in files} - own
    return graph


def _packages_of(module: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b", "a.b.c"]``: everything that importing it runs."""
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_cycle_finder_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    """Modules are layered: no module imports (directly or around a loop) one that imports it back.

    Imports inside functions count too (a local import does not break a cycle, it hides it);
    imports under ``if TYPE_CHECKING:`` do not (they never run).
    """
    graph = _import_graph()
    assert "fer_core.training._trainer" in graph and "fer_models.inference._load" in graph
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)
