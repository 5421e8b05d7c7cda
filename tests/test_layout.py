"""The monorepo's shape: four distributions with src layout, py.typed, README, lockstep versions."""

from __future__ import annotations

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


def test_versions_move_in_lockstep():
    import fer_core

    versions = {d: tomllib.loads((REPO / "packages" / d / "pyproject.toml").read_text())["project"]["version"]
                for d in DISTRIBUTIONS}
    assert set(versions.values()) == {fer_core.__version__}, versions
    installed = {d: metadata.version(d) for d in DISTRIBUTIONS}
    assert set(installed.values()) == {fer_core.__version__}, installed


def test_dependencies_point_one_way():
    def deps(dist: str) -> set[str]:
        project = tomllib.loads((REPO / "packages" / dist / "pyproject.toml").read_text())["project"]
        return {d.split("@")[0].split("=")[0].split(">")[0].strip() for d in project["dependencies"]}

    assert not deps("fer-core") & set(DISTRIBUTIONS)
    assert deps("fer-models") & set(DISTRIBUTIONS) == {"fer-core"}
    assert deps("fer-temporal") & set(DISTRIBUTIONS) == {"fer-core"}
    assert deps("fer-cli") & set(DISTRIBUTIONS) == {"fer-core", "fer-models", "fer-temporal"}
    assert "timm" not in deps("fer-core") and "transformers" not in deps("fer-core")
