"""Inference without torch: a whole ``fercli analyze`` / ``predict`` and the fer_temporal API run
on ONNX Runtime and numpy alone with the shipped default model (its ONNX copy), and where torch
is not installed, what needs it says so in one line.

Each case runs in a fresh interpreter that reports, at exit, whether torch was imported. "Not
installed" is played by ``sys.modules["torch"] = None`` (every ``import torch`` then fails as it
would without the package).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")

_RUN = """
import json, sys
if sys.argv[1] == "blocked":
    sys.modules["torch"] = None
code = 0
try:
    if sys.argv[2] == "-c":
        exec(sys.argv[3])
    else:
        from fer_cli.main import main
        main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
print("@@" + json.dumps({"torch": sys.modules.get("torch") is not None, "code": code}))
"""


def _run(*args: str, blocked: bool = False, cwd: Path | None = None) -> tuple[dict, str, str]:
    proc = subprocess.run([sys.executable, "-c", _RUN, "blocked" if blocked else "free", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**__import__("os").environ, "FER_LOAD_PLUGINS": "fer_models,fer_temporal"})
    line = next(x for x in proc.stdout.splitlines() if x.startswith("@@"))
    return json.loads(line[2:]), proc.stdout, proc.stderr


def test_fercli_analyze_of_a_real_clip_never_imports_torch(media, tmp_path):
    status, _, err = _run("analyze", str(media / "single_face.mp4"), "--out", str(tmp_path),
                          "--no-progress")
    assert status == {"torch": False, "code": 0}, err
    header = json.loads((tmp_path / "single_face.json").read_text())["header"]
    assert header["faces"] > 0 and header["frames_processed"] == header["frames_read"]
    assert header["model"].endswith("default") and (tmp_path / "single_face.png").is_file()


def test_fercli_predict_of_real_images_never_imports_torch(media, tmp_path):
    out_csv = tmp_path / "p.csv"
    status, _, err = _run("predict", str(media / "single_face.jpg"), str(media / "no_face.jpg"),
                          "--out", str(out_csv), "--threads", "1")
    assert status == {"torch": False, "code": 0}, err
    rows = out_csv.read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("file,label,probability")


def test_the_fer_temporal_api_never_imports_torch(media):
    code = (
        "import fer_temporal, fer_models\n"
        f"t = fer_temporal.analyze({str(media / 'single_face.mp4')!r}, 'default', threads=1)\n"
        "assert t.rows and t.header['faces'] > 0, t.header\n"
        "clf = fer_models.load('default')\n"
        f"rows = list(fer_temporal.stream({str(media / 'single_face.mp4')!r}, clf, stride=8))\n"
        "assert rows and all(r['label'] in clf.classes for r in rows if r['face_detected'])\n"
        "assert type(clf).__name__ == 'OnnxClassifier'\n")
    status, _, err = _run("-c", code)
    assert status == {"torch": False, "code": 0}, err


def test_without_torch_installed_analysis_runs_and_torch_is_asked_for_in_one_line(media, tmp_path):
    status, _, err = _run("analyze", str(media / "single_face.jpg"), "--out", str(tmp_path), "--no-progress",
                          blocked=True)
    assert status["code"] == 0, err
    # fast's ONNX copy is int8: auto runs it here, where PyTorch cannot run the safetensors
    status, out, err = _run("predict", str(media / "single_face.jpg"), "--model", "fast", blocked=True)
    assert status["code"] == 0 and "single_face.jpg" in out, err
    status, _, err = _run("predict", str(media / "single_face.jpg"), "--backend", "torch", blocked=True)
    lines = err.strip().splitlines()
    assert status["code"] == 1 and len(lines) == 1, err
    assert lines[0].startswith("Error: model default with backend 'torch' needs PyTorch")
    assert "pip install" in lines[0]
    status, _, err = _run("run", str(Path(__file__).resolve().parents[2] / "examples" / "quickstart.toml"),
                          "--smoke", "--out", str(tmp_path / "runs"), blocked=True, cwd=tmp_path)
    lines = err.strip().splitlines()
    assert status["code"] == 1 and len(lines) == 1 and "needs PyTorch" in lines[0], err
