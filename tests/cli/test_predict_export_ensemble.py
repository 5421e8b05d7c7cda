"""``fercli predict``, ``fercli export`` and ``fercli ensemble`` on tiny real runs."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import fer_models
from fer_cli.main import cli
from fer_core import CLASSES

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def face_files(tmp_path):
    """Three face crops as files: gray 48x48 PNG, color 100x80 JPEG, and one inside a folder."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "faces"
    (folder / "more").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 256, (100, 80, 3), dtype=np.uint8)).save(folder / "b.jpg")
    Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)).save(folder / "more" / "c.png")
    return folder


def test_predict_prints_a_table_and_writes_csv_and_json(tiny_runs, face_files, tmp_path):
    run = str(tiny_runs[0])
    result = CliRunner().invoke(cli, ["predict", str(face_files), "--model", run])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("| ") and "faces" in line]
    assert len(lines) == 3 and "| file | label | p | " + " | ".join(CLASSES) + " |" in result.output

    out_csv = tmp_path / "p.csv"
    assert CliRunner().invoke(cli, ["predict", str(face_files / "a.png"), str(face_files / "b.jpg"),
                                    "--model", run, "--out", str(out_csv)]).exit_code == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["file"].rsplit("/", 1)[1] for r in rows] == ["a.png", "b.jpg"]
    clf = fer_models.load(run)
    faces = [np.asarray(Image.open(face_files / "a.png"))]
    assert float(rows[0][CLASSES[0]]) == pytest.approx(float(clf.predict_proba(faces)[0, 0]), abs=1e-6)
    assert rows[0]["label"] in CLASSES

    out_json = tmp_path / "p.json"
    args = ["predict", str(face_files), "--model", run, "--out", str(out_json)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    data = json.loads(out_json.read_text())
    assert data["classes"] == list(CLASSES) and len(data["rows"]) == 3


def test_predict_errors_name_the_input(tiny_runs, tmp_path):
    run = str(tiny_runs[0])
    result = CliRunner().invoke(cli, ["predict", str(tmp_path / "missing.png"), "--model", run])
    assert result.exit_code != 0 and "missing.png: no such file or folder" in result.output
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    result = CliRunner().invoke(cli, ["predict", str(bad), "--model", run])
    assert result.exit_code != 0 and "broken.png: cannot read image" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["predict", str(bad), "--model", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "nor a shipped model" in result.output


def test_export_writes_onnx_that_agrees(tiny_runs, tmp_path):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(cli, ["export", str(tiny_runs[0]), str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".json").is_file()
    diff = float(re.search(r"largest probability difference (\S+),", result.output).group(1))
    assert diff < 1e-4 and "same top class on 16 of 16" in result.output
    bad = CliRunner().invoke(cli, ["export", str(tiny_runs[0]), str(tmp_path / "m.pt")])
    assert bad.exit_code != 0 and "must end in .onnx" in bad.output


def test_export_int8_calibrates_on_the_datas_training_split(tiny_runs, fer2013_slice, tmp_path):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "m8.onnx"
    result = CliRunner().invoke(cli, ["export", str(tiny_runs[0]), str(out), "--int8", str(fer2013_slice)])
    assert result.exit_code == 0, result.output
    q = json.loads(out.with_suffix(".json").read_text())["onnx"]["quantization"]
    assert "Training split" in q["calibration_source"] and fer2013_slice.name in q["calibration_source"]
    faces = np.random.default_rng(1).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    assert fer_models.load(out).predict_proba(faces).shape == (8, 7)
    missing = CliRunner().invoke(cli, ["export", str(tiny_runs[0]), str(out),
                                       "--int8", str(tmp_path / "no.csv")])
    assert missing.exit_code != 0 and "no.csv" in missing.output and "Traceback" not in missing.output


def test_ensemble_command_writes_weights_and_report(tiny_runs, tmp_path):
    out = tmp_path / "ens"
    result = CliRunner().invoke(cli, ["ensemble", *map(str, tiny_runs), "--out", str(out), "--step", "0.5"])
    assert result.exit_code == 0, result.output
    assert "Protocol:" in result.output and "PrivateTest (report)" in result.output
    report = json.loads((out / "report.json").read_text())
    assert len(report["rows"]) == 6 and {"select", "report", "both"} <= set(report["rows"][0])
    ens = fer_models.load(out / "ensemble.json")
    assert ens.method == "weighted" and sum(ens.weights) == pytest.approx(1.0)
    assert fer_models.load(out / "ensemble-rrf.json").method == "rrf"
    # and it classifies through fercli predict
    face = tmp_path / "f.png"
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(face)
    assert CliRunner().invoke(cli, ["predict", str(face), "--model", str(out)]).exit_code == 0
    one = CliRunner().invoke(cli, ["ensemble", str(tiny_runs[0]), "--out", str(out)])
    assert one.exit_code != 0 and "at least two members" in one.output


def test_ensemble_tta_option_overrides_every_members(tiny_runs, tmp_path):
    out = tmp_path / "ens-flip"
    result = CliRunner().invoke(cli, ["ensemble", *map(str, tiny_runs), "--out", str(out), "--step", "0.5",
                                      "--tta", "flip"])
    assert result.exit_code == 0, result.output
    members = json.loads((out / "ensemble.json").read_text())["members"]
    assert [m["tta"] for m in members] == ["flip"] * len(tiny_runs)
    assert result.output.count("(tta flip)") == len(tiny_runs)


def test_teacher_file_then_a_distilled_student(tiny_runs, fer2013_slice, tmp_path):
    """`fercli teacher` on an ensemble, then `fercli train` of a student on its soft targets."""
    ens = tmp_path / "ens"
    assert CliRunner().invoke(cli, ["ensemble", *map(str, tiny_runs), "--out", str(ens),
                                    "--step", "0.5"]).exit_code == 0
    teacher = tmp_path / "teacher.npz"
    result = CliRunner().invoke(cli, ["teacher", str(ens / "ensemble.json"), "--data", str(fer2013_slice),
                                      "--out", str(teacher), "--temperature", "2"])
    assert result.exit_code == 0, result.output
    assert re.search(r"wrote .*teacher\.npz: 700 Training rows .* agrees with the label on [\d.]+%",
                     result.output)
    from fer_core.data import read_teacher

    targets = read_teacher(teacher)
    assert targets.probs.shape == (700, 7) and targets.temperature == 2.0
    config = tmp_path / "student.toml"
    config.write_text(f"""name = "student"
[data]
path = "{fer2013_slice}"
teacher = "{teacher}"
teacher_weight = 0.7
cache = false
[model]
options = {{ widths = [8, 16] }}
[train]
epochs = 1
max_steps = 2
batch_size = 32
soft_labels = true
""")
    trained = CliRunner().invoke(cli, ["train", str(config), "--out", str(tmp_path / "runs"),
                                       "--no-progress"])
    assert trained.exit_code == 0, trained.output
    run_config = tmp_path / "runs" / "student" / "config.json"
    assert json.loads(run_config.read_text())["data"]["teacher"] == str(teacher)
    missing = CliRunner().invoke(cli, ["teacher", str(ens), "--data", str(tmp_path / "nope.csv"),
                                       "--out", str(teacher)])
    assert missing.exit_code != 0 and "nope.csv: no such file" in missing.output
