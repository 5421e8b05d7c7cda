"""examples/experiments/ship_model.py: a run becomes a named model with a measured card."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from fer_core.classes import CLASSES

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "experiments" / "ship_model.py"


def _script():
    spec = importlib.util.spec_from_file_location("ship_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shipped(tiny_runs, tiny_rerun, fer2013_slice, tmp_path_factory):
    out = tmp_path_factory.mktemp("ship")
    _script().main([str(tiny_runs[1]), "--name", "tiny", "--seed-runs", str(tiny_runs[0]),
                    "--rerun", str(tiny_rerun),
                    "--data", str(fer2013_slice), "--into", str(out / "weights"),
                    "--card", str(out / "MODEL_CARD.md"), "--speed-seconds", "0.05", "--int8"])
    return out


def test_the_weights_ship_unchanged_with_their_card_and_temperature(shipped, tiny_runs):
    import fer_models

    folder = shipped / "weights" / "tiny"
    assert (folder / "model.safetensors").read_bytes() == (tiny_runs[1] / "model.safetensors").read_bytes()
    config = json.loads((folder / "model.json").read_text())
    card = config["card"]
    assert config["name"] == "tiny" and card["tta"] == "flip" and card["temperature"] > 0
    assert set(card["PrivateTest_per_class_f1"]) == set(CLASSES)
    assert "ship_model.py" in card["command"] and card["gmacs"] > 0 and card["params"] > 0
    clf = fer_models.load(folder)
    assert clf.card == card and clf.temperature == pytest.approx(config["temperature"])
    # the temperature rescales, never reorders
    faces = np.random.default_rng(0).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    raw = fer_models.load(tiny_runs[1]).predict_proba(faces)
    scaled = clf.predict_proba(faces)
    assert (raw.argmax(1) == scaled.argmax(1)).all() and np.allclose(scaled.sum(1), 1, atol=1e-5)
    assert not np.allclose(raw, scaled)


def test_the_card_holds_what_was_measured(shipped):
    text = (shipped / "MODEL_CARD.md").read_text()
    config = json.loads((shipped / "weights" / "tiny" / "model.json").read_text())
    card = config["card"]
    assert f"**{card['PrivateTest_accuracy']:.2%}**" in text
    assert f"T = {card['temperature']:.3f}" in text and "| PublicTest |" in text
    assert "Same recipe, 2 seeds" in text and card["command"] in text
    assert f"{card['seeds_PrivateTest_accuracy'][1]:.2%}" in text
    assert (shipped / "docs" / "tiny-confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_a_rerun_of_the_same_seed_trains_the_same_weights_and_the_card_says_so(shipped):
    card = json.loads((shipped / "weights" / "tiny" / "model.json").read_text())["card"]
    assert card["rerun"] == {"PrivateTest_accuracy": card["PrivateTest_accuracy"], "identical_weights": True}
    text = (shipped / "MODEL_CARD.md").read_text()
    assert f"reaches {card['PrivateTest_accuracy']:.2%} on PrivateTest (+0.00 points)" in text
    assert "bitwise the same as this model's." in text


def test_int8_ships_a_checked_onnx_copy_with_its_own_accuracy(shipped):
    import fer_models
    from fer_core.training import sha256_file

    folder = shipped / "weights" / "tiny"
    config = json.loads((folder / "model.json").read_text())
    assert config["onnx"]["sha256"] == sha256_file(folder / "model.onnx")
    assert "Training faces" in config["onnx"]["quantization"]["calibration_source"]
    int8 = config["card"]["onnx_int8"]
    assert 0 < int8["PrivateTest_accuracy"] <= 1
    assert fer_models.load(folder, backend="onnx").model.path == folder / "model.onnx"
    text = (shipped / "MODEL_CARD.md").read_text()
    assert "| split (int8 ONNX) |" in text and f"{int8['PrivateTest_accuracy']:.2%}" in text
    assert "ONNX Runtime int8" in text


def test_temperature_fitting_lowers_the_nll_on_the_split_it_is_fitted_on():
    from fer_models.inference import apply_temperature, fit_temperature, negative_log_likelihood

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 500)
    logits = rng.normal(size=(500, 7))
    logits[np.arange(500), labels] += 1.0
    over = np.exp(4 * logits) / np.exp(4 * logits).sum(1, keepdims=True)  # overconfident
    t = fit_temperature(over, labels)
    assert t > 2  # softens it
    assert negative_log_likelihood(apply_temperature(over, t), labels) < negative_log_likelihood(over, labels)


def test_a_shipped_model_loads_by_its_name(shipped, monkeypatch):
    import fer_models
    from fer_models.inference import _load

    monkeypatch.setattr(_load, "SHIPPED_DIR", shipped / "weights")
    assert fer_models.shipped_models() == ["tiny"]
    clf = fer_models.load("tiny")
    assert clf.classes == CLASSES and clf.card["name"] == "tiny"
    assert clf.predict_proba(np.zeros((3, 60, 60, 4), np.uint8)).shape == (3, 7)  # RGBA crops, any size


def test_seed_runs_warm_started_from_the_same_weights_are_named_as_such(tmp_path):
    from fer_core.training import RunDir

    def run(name: str, parent: dict | None) -> Path:
        return RunDir.create(tmp_path, name, info={"parent": parent} if parent else {}).path

    same = [run(f"seed{k}", {"checkpoint": "stage1/best.pt", "sha256": "ab" * 32}) for k in range(3)]
    other = run("other", {"checkpoint": "elsewhere.safetensors", "sha256": "cd" * 32})
    scratch = run("scratch", None)
    common_start = _script().common_start
    assert common_start(same) == "ab" * 32
    assert common_start([*same, other]) is None
    assert common_start([scratch, run("scratch2", None)]) is None
    assert common_start([same[0], tmp_path / "a-model-folder"]) is None
