"""The monorepo's shape: four distributions with src layout, py.typed, README, lockstep versions."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

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
        for req in metadata.requires(dist) or []:
            name = re.split(r"[<>=!~;\[ @]", req, maxsplit=1)[0]
            if name in DISTRIBUTIONS:
                assert req == f"{name}=={fer_core.__version__}", (dist, req)


def test_dependencies_point_one_way():
    assert not deps("fer-core") & set(DISTRIBUTIONS)
    assert deps("fer-models") & set(DISTRIBUTIONS) == {"fer-core"}
    assert deps("fer-temporal") & set(DISTRIBUTIONS) == {"fer-core"}
    assert deps("fer-cli") & set(DISTRIBUTIONS) == {"fer-core", "fer-models", "fer-temporal"}
    assert "timm" not in deps("fer-core") and "transformers" not in deps("fer-core")
