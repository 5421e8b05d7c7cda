"""Install the toolkit the way a user does: wheels in a wheelhouse, a fresh venv, a folder outside the
checkout. Third-party dependencies come from the registry (or pip's cache), as for any user.

Slow (fresh venvs, two with torch, one without): ``pytest -m "not slow"`` leaves it out; CI runs it.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

DISTRIBUTIONS = ["fer-core", "fer-models", "fer-temporal", "fer-cli"]
PLUGIN = REPO / "examples" / "fer-plugin-example"


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    command = " ".join(map(str, cmd))
    assert out.returncode == 0, f"{command} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


def _user_env() -> dict[str, str]:
    """The environment of a user's shell: none of the test session's plugin limits or paths."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FER_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True, system_site_packages=False).create(path)
    return path / "bin"


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    """sdist + wheel of every distribution (the wheel built from the sdist, as `python -m build`
    does), the example plugin's wheel, and `twine check` over all of them."""
    pytest.importorskip("build", reason="the 'build' package is in requirements-test.txt")
    house = tmp_path_factory.mktemp("wheelhouse")
    env = _user_env()
    for dist in DISTRIBUTIONS:
        _run([sys.executable, "-m", "build", "--outdir", str(house), str(REPO / "packages" / dist)],
             cwd=house, env=env)
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(house), str(PLUGIN)], cwd=house, env=env)
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(house.iterdir()))],
         cwd=house, env=env)
    return house


def test_distributions_pin_their_siblings_by_version(wheelhouse):
    import zipfile

    import fer_core

    for dist in DISTRIBUTIONS:
        wheel = next(wheelhouse.glob(f"{dist.replace('-', '_')}-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            meta = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        assert f"Version: {fer_core.__version__}\n" in meta
        assert "License-Expression: MIT" in meta and "License-File: LICENSE" in meta
        requires = [line.split(": ", 1)[1] for line in meta.splitlines()
                    if line.startswith("Requires-Dist: ")]
        assert not [r for r in requires if "@" in r or "file:" in r], requires  # no path references
        siblings = [r for r in requires if r.split("=")[0].split("[")[0] in DISTRIBUTIONS]
        assert all(r.endswith(f"=={fer_core.__version__}") for r in siblings), siblings
        plain = [r for r in requires if "extra ==" not in r]
        if dist != "fer-cli":  # torch only as an extra: fer-temporal and fer-models install without it
            assert not [r for r in plain if r.startswith(("torch", "timm"))], plain
        else:  # fercli trains
            assert f"fer-models[torch]=={fer_core.__version__}" in plain, plain
    sdists = sorted(p.name for p in wheelhouse.glob("*.tar.gz"))
    assert sdists == sorted(f"{d.replace('-', '_')}-{fer_core.__version__}.tar.gz" for d in DISTRIBUTIONS)


def _outside_checkout(bin_dir: Path, cwd: Path, env: dict[str, str], module: str) -> None:
    where = _run([str(bin_dir / "python"), "-c", f"import {module}; print({module}.__file__)"], cwd, env)
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(REPO)


def test_fer_cli_from_the_wheelhouse(wheelhouse, tmp_path, media):
    clip, photo = media / "single_face.mp4", media / "single_face.jpg"
    env = _user_env()
    bin_dir = _fresh_venv(tmp_path / "venv")
    _run([str(bin_dir / "pip"), "install", "--no-compile", "--find-links", str(wheelhouse),
          "fer-cli", "fer-plugin-example"], tmp_path, env)
    _run([str(bin_dir / "pip"), "check"], tmp_path, env)
    work = tmp_path / "user"
    work.mkdir()
    shutil.copy(clip, work)
    shutil.copy(photo, work)
    for module in ("fer_core", "fer_models", "fer_temporal", "fer_cli"):
        _outside_checkout(bin_dir, work, env, module)
    fercli = str(bin_dir / "fercli")

    import fer_core

    assert _run([fercli, "--version"], work, env).stdout.strip().endswith(fer_core.__version__)
    listing = _run([fercli, "plugins"], work, env).stdout
    for plugin in ("fer_models", "fer_temporal", "fer_plugin_example"):
        assert plugin in listing, listing
    assert "retinaface" in listing and "haar" in listing and "small_cnn" in listing

    analyzed = _run([fercli, "analyze", "single_face.mp4"], work, env)  # every option at its default
    assert "Error" not in analyzed.stdout + analyzed.stderr
    with open(work / "timelines" / "single_face.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    faces = [r for r in rows if r["face_detected"] == "True"]
    assert len(rows) > 10 and len(faces) >= 0.9 * len(rows), (len(rows), len(faces))
    summary = json.loads((work / "timelines" / "single_face.json").read_text())
    assert summary["header"]["faces"] == len(faces)

    predicted = _run([fercli, "predict", "single_face.jpg"], work, env).stdout
    (row,) = [line for line in predicted.splitlines() if line.startswith("| single_face.jpg |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    label, probs = cells[1], [float(c) for c in cells[3:]]
    assert label in fer_core.CLASSES and len(probs) == len(fer_core.CLASSES)
    assert abs(sum(probs) - 1) < 0.01 and probs[fer_core.CLASSES.index(label)] == max(probs)


def _private_test_faces(csv_path: Path, n: int) -> list[tuple[int, list[int]]]:
    faces = []
    with gzip.open(csv_path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Usage"] == "PrivateTest":
                faces.append((int(row["emotion"]), [int(v) for v in row["pixels"].split()]))
                if len(faces) == n:
                    break
    return faces


def test_fer_models_alone_classifies_a_face(wheelhouse, tmp_path, fer2013_csv):
    env = _user_env()
    bin_dir = _fresh_venv(tmp_path / "venv")
    _run([str(bin_dir / "pip"), "install", "--no-compile", "--find-links", str(wheelhouse), "fer-models"],
         tmp_path, env)
    installed = _run([str(bin_dir / "pip"), "list", "--format=json"], tmp_path, env).stdout
    names = {p["name"] for p in json.loads(installed)}
    assert {"fer-models", "fer-core"} <= names and not {"fer-cli", "fer-temporal", "torch"} & names
    _outside_checkout(bin_dir, tmp_path, env, "fer_models")
    faces = _private_test_faces(fer2013_csv, 40)
    (tmp_path / "faces.json").write_text(json.dumps(faces))
    script = (
        "import json, numpy as np, fer_models\n"
        "faces = json.load(open('faces.json'))\n"
        "x = np.array([p for _, p in faces], dtype=np.uint8).reshape(-1, 48, 48)\n"
        "clf = fer_models.load('default')\n"
        "proba = clf.predict_proba(x)\n"
        "print(json.dumps({'proba': proba.tolist(), 'labels': [y for y, _ in faces]}))\n"
    )
    out = json.loads(_run([str(bin_dir / "python"), "-c", script], tmp_path, env).stdout)
    import numpy as np

    proba = np.array(out["proba"])
    assert proba.shape == (40, 7) and np.isfinite(proba).all()
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    # 40 real PrivateTest faces: a model at 73% gets at least half right (chance is 1/7).
    assert (proba.argmax(axis=1) == np.array(out["labels"])).mean() >= 0.5


def test_fer_temporal_without_torch_analyzes_a_clip(wheelhouse, tmp_path, media):
    """The torch-free install: fer-temporal and fer-models (no extras) bring no torch; the API and
    the shipped default model (its ONNX copy) analyze a real clip, and asking for PyTorch says
    what to install, in one line."""
    env = _user_env()
    bin_dir = _fresh_venv(tmp_path / "venv")
    _run([str(bin_dir / "pip"), "install", "--no-compile", "--find-links", str(wheelhouse),
          "fer-temporal", "fer-models"], tmp_path, env)
    _run([str(bin_dir / "pip"), "check"], tmp_path, env)
    names = {p["name"] for p in json.loads(_run([str(bin_dir / "pip"), "list", "--format=json"],
                                               tmp_path, env).stdout)}
    assert {"fer-temporal", "fer-models", "fer-core", "onnxruntime"} <= names
    assert not {"torch", "torchvision", "timm", "fer-cli"} & names, names
    _outside_checkout(bin_dir, tmp_path, env, "fer_temporal")
    script = (
        "import json, sys, fer_temporal\n"
        f"t = fer_temporal.analyze({str(media / 'single_face.mp4')!r}, 'default')\n"
        "t.to_csv('timeline.csv')\n"
        "print(json.dumps({'faces': t.header['faces'], 'rows': len(t.rows), 'model': t.header['model'],\n"
        "                  'torch': 'torch' in sys.modules}))\n"
    )
    out = json.loads(_run([str(bin_dir / "python"), "-c", script], tmp_path, env).stdout)
    assert out["faces"] >= 0.9 * out["rows"] > 10 and not out["torch"], out
    assert (tmp_path / "timeline.csv").is_file()
    asked = subprocess.run([str(bin_dir / "python"), "-c",
                            "import fer_models; fer_models.load('default', backend='torch')"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert asked.returncode != 0 and "needs PyTorch" in asked.stderr and "fer-models[torch]" in asked.stderr
