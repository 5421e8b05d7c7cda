"""Integrity on load: recorded sha256s are checked (weights, ONNX files, ensemble members), NaN weights
are refused, and non-finite outputs are an error, never a label."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from _broken import flip_byte, save_tiny_model

import fer_models
from fer_core.errors import FerError, NonFiniteOutputError
from fer_core.training import (
    CheckpointError,
    load_trained_model,
    load_weights,
    model_weights_from,
    sha256_file,
)
from fer_models.ensemble import Ensemble

FACES = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)


def test_intact_weights_load_and_their_hash_is_the_recorded_one(tmp_path):
    folder = save_tiny_model(tmp_path / "m")
    recorded = json.loads((folder / "model.json").read_text())["weights_sha256"]
    assert recorded == sha256_file(folder / "model.safetensors")
    probs = fer_models.load(folder).predict_proba(FACES)
    assert probs.shape == (3, 7) and np.isfinite(probs).all()


@pytest.mark.parametrize("where", ["header", "tensor data", "last byte"])
def test_one_flipped_byte_is_caught_by_every_loader(tmp_path, where):
    folder = save_tiny_model(tmp_path / "m")
    weights = folder / "model.safetensors"
    recorded = json.loads((folder / "model.json").read_text())["weights_sha256"]
    size = weights.stat().st_size
    flip_byte(weights, {"header": 20, "tensor data": size * 3 // 4, "last byte": size - 1}[where])
    actual = sha256_file(weights)
    loaders = [lambda: load_weights(weights), lambda: load_trained_model(folder),
               lambda: model_weights_from(folder), lambda: fer_models.load(folder),
               lambda: fer_models.load(weights)]
    for load in loaders:
        with pytest.raises(CheckpointError) as info:
            load()
        message = str(info.value)
        assert str(weights) in message and "\n" not in message
        if "does not match" in message:  # a flipped header byte may already make it unreadable
            assert f"sha256 {actual} != recorded {recorded}" in message
        else:
            assert where == "header" and "not a readable safetensors file" in message


def test_a_weights_file_without_a_recorded_hash_still_loads(tmp_path):
    folder = save_tiny_model(tmp_path / "m")
    config = json.loads((folder / "model.json").read_text())
    del config["weights_sha256"]
    (folder / "model.json").write_text(json.dumps(config))
    assert fer_models.load(folder).predict_proba(FACES).shape == (3, 7)


def test_a_damaged_model_json_is_one_line(tmp_path):
    folder = save_tiny_model(tmp_path / "m")
    (folder / "model.json").write_text('{"backbone": "small_cnn", ')
    with pytest.raises(CheckpointError, match=r"model\.json: not a readable JSON config"):
        fer_models.load(folder)


def test_an_ensemble_member_that_changed_is_named_with_both_hashes(tmp_path):
    members = [save_tiny_model(tmp_path / f"m{i}", seed=i) for i in range(2)]
    path = Ensemble([fer_models.load(m) for m in members], refs=[str(m) for m in members]).save(
        tmp_path / "ensemble.json")
    recorded = json.loads(path.read_text())["members"][1]["sha256"]
    flip_byte(members[1] / "model.safetensors")
    with pytest.raises(FerError) as info:
        fer_models.load(path)
    message = str(info.value)
    assert str(members[1] / "model.safetensors") in message and f"!= recorded {recorded}" in message

    # a member recorded without a hash is still checked against its own model.json
    spec = json.loads(path.read_text())
    spec["members"][1]["sha256"] = None
    path.write_text(json.dumps(spec))
    with pytest.raises(CheckpointError, match=r"does not match its model\.json"):
        fer_models.load(path)


def test_an_onnx_file_is_checked_against_the_sha256_its_json_records(tmp_path):
    folder = save_tiny_model(tmp_path / "m")
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"pretend onnx bytes")
    config = json.loads((folder / "model.json").read_text())
    config["onnx"] = {"input": "input", "sha256": "0" * 64}
    (tmp_path / "m.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError) as info:
        fer_models.load(onnx)
    assert f"{onnx} does not match its m.json (sha256 {sha256_file(onnx)} != recorded {'0' * 64})" == str(
        info.value)


def test_the_shipped_onnx_copy_matches_its_recorded_hash():
    if "fast" not in fer_models.shipped_models():
        pytest.skip("no shipped fast model in this installation")
    pytest.importorskip("onnxruntime")
    clf = fer_models.load("fast", backend="onnx")
    assert clf.backend == "onnx" and np.isfinite(clf.predict_proba(FACES)).all()


def _poison(value: float, key: str):
    def edit(state):
        state[key].view(-1)[0] = value
    return edit


def test_nan_weights_are_refused_even_when_the_hash_matches(tmp_path):
    folder = save_tiny_model(tmp_path / "m", edit=_poison(float("nan"), "features.0.weight"))
    assert json.loads((folder / "model.json").read_text())["weights_sha256"] == sha256_file(
        folder / "model.safetensors")
    for load in (lambda: fer_models.load(folder), lambda: model_weights_from(folder)):
        with pytest.raises(CheckpointError, match=r"weights hold NaN \(tensor features\.0\.weight\)"):
            load()
    # in a checkpoint too (a warm start from a run that diverged)
    ckpt = tmp_path / "diverged.pt"
    state = {"model": {"w": torch.tensor([1.0, float("nan")])}, "ema": None}
    torch.save(state, ckpt)
    with pytest.raises(CheckpointError, match=r"diverged\.pt: weights hold NaN \(tensor w\)"):
        model_weights_from(ckpt)


@pytest.mark.parametrize("backend", ["torch", pytest.param("onnx", marks=pytest.mark.slow)])
def test_non_finite_outputs_are_an_error_never_a_label(tmp_path, backend):
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    folder = save_tiny_model(tmp_path / "m", edit=_poison(float("inf"), "head.3.bias"))
    clf = fer_models.load(folder, backend=backend)
    for call in (clf.predict_proba, clf.predict):
        with pytest.raises(NonFiniteOutputError, match="NaN or infinite probabilities, not a label") as info:
            call(FACES)
        assert info.value.rows == [0, 1, 2]
        assert "face 0 and 2 more" in str(info.value)
    ensemble = Ensemble([clf, fer_models.load(save_tiny_model(tmp_path / "ok"), backend=backend)])
    with pytest.raises(NonFiniteOutputError):
        ensemble.predict(FACES)


def test_only_some_faces_non_finite_names_the_first(tmp_path):
    from fer_models.inference._classifier import check_finite

    probs = np.full((4, 7), 1 / 7, np.float32)
    probs[2, 3] = np.nan
    with pytest.raises(NonFiniteOutputError, match=r"for c\.png$") as info:
        check_finite(probs, "m", ["a.png", "b.png", "c.png", "d.png"])
    assert info.value.rows == [2]
    check_finite(probs[:2], "m")  # finite rows: nothing raised


def test_a_shipped_name_comes_before_a_folder_of_that_name(tmp_path, monkeypatch):
    if "default" not in fer_models.shipped_models():
        pytest.skip("no shipped default model in this installation")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(save_tiny_model(tmp_path / "tiny"), tmp_path / "default")
    from pathlib import Path

    from fer_models.inference._load import SHIPPED_DIR

    assert Path(fer_models.load("default").source).resolve() == (SHIPPED_DIR / "default").resolve()
    assert Path(fer_models.load("./default").source).resolve() == (tmp_path / "default").resolve()
