"""The torch-free classifier (ONNX Runtime + numpy) against the PyTorch one: preprocessing, TTA
views, the shipped default's ONNX copy on real PrivateTest faces, and which backend ``auto`` picks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import fer_models
from fer_core.training import sha256_file
from fer_models.inference import Classifier, OnnxClassifier, prepare_faces, prepare_faces_numpy
from fer_models.inference._load import SHIPPED_DIR, choose_backend
from fer_models.inference._runtime import MEAN, STD, eval_views, model_input

pytest.importorskip("onnxruntime")


def _rng_faces(shape, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.random(shape, dtype=np.float32)


@pytest.mark.parametrize("shape", [(5, 48, 48), (5, 1, 48, 48), (3, 64, 64, 3), (2, 97, 61, 4), (4, 30, 30),
                                   (2, 3, 100, 20), (1, 48, 200), (40, 40)])
def test_numpy_preprocessing_gives_torchs_uint8_faces(shape):
    faces = _rng_faces(shape, seed=len(shape))
    ours, theirs = prepare_faces_numpy(faces), prepare_faces(faces).numpy()
    assert ours.shape == theirs.shape and ours.dtype == np.uint8
    diff = np.abs(ours.astype(int) - theirs)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01  # a half-way rounding at most, rarely
    if tuple(shape[-2:]) == (48, 48) and len(shape) <= 4 and shape[-1] not in (3, 4):
        assert np.array_equal(ours, theirs)  # ready faces pass untouched


def test_numpy_preprocessing_takes_floats_lists_pil_and_tensors_and_refuses_what_torch_refuses():
    from PIL import Image

    from fer_core.errors import DataError

    gray = _rng_faces((3, 48, 48))
    floats = gray.astype(np.float32) / 255
    np.testing.assert_array_equal(prepare_faces_numpy(floats), prepare_faces(floats).numpy())
    items = [gray[0], Image.fromarray(gray[1]), torch.from_numpy(gray[2])]
    np.testing.assert_array_equal(prepare_faces_numpy(items), prepare_faces(items).numpy())
    for bad in (np.zeros((0, 48, 48), np.uint8), [], np.full((48, 48), np.nan, np.float32),
                np.zeros((5, 5, 5, 5), np.uint8), np.zeros((48, 48), bool), "face.png"):
        with pytest.raises(DataError):
            prepare_faces(bad)
        with pytest.raises(DataError):
            prepare_faces_numpy(bad)


def test_numpy_model_input_and_tta_views_are_fer_cores():
    from fer_core.training import eval_views as torch_views
    from fer_core.training import to_model_input
    from fer_core.training._transforms import MEAN as TORCH_MEAN
    from fer_core.training._transforms import STD as TORCH_STD

    assert (MEAN, STD) == (TORCH_MEAN, TORCH_STD)
    images = _rng_faces((4, 1, 48, 48))
    x, t = model_input(images), to_model_input(torch.from_numpy(images))
    np.testing.assert_allclose(x, t.numpy(), rtol=0, atol=1e-6)
    for tta, crop in (("none", None), ("none", 40), ("flip", 40), ("tencrop", 40)):
        ours, theirs = eval_views(x, crop, tta), torch_views(t, crop, tta)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-6)


def test_the_default_model_ships_its_float_onnx_copy_checked():
    folder = SHIPPED_DIR / "default"
    config = json.loads((folder / "model.json").read_text())
    assert config["onnx"]["sha256"] == sha256_file(folder / "model.onnx")
    assert "quantization" not in config["onnx"]
    assert config["onnx"]["side"] == config["preprocessing"]["crop_size"]
    assert (folder / "model.onnx").stat().st_size < 10 * 2**20


def test_auto_runs_a_float_onnx_copy_and_pytorch_otherwise(tiny_runs, tmp_path):
    default = fer_models.load("default")
    assert isinstance(default, OnnxClassifier) and default.path == SHIPPED_DIR / "default" / "model.onnx"
    assert default.tta == "flip" and default.temperature == pytest.approx(0.8659, abs=1e-4)
    assert isinstance(fer_models.load("default", backend="torch"), Classifier)
    assert choose_backend(SHIPPED_DIR / "fast", "auto") == "torch"  # its copy is int8: not PyTorch's outputs
    assert choose_backend(SHIPPED_DIR / "default", "auto", device="cuda") == "torch"
    assert isinstance(fer_models.load(tiny_runs[0]), Classifier)  # no ONNX copy
    # a run folder given its own float copy (fercli export RUN RUN/model.onnx) runs it
    import shutil

    run = shutil.copytree(tiny_runs[1], tmp_path / "run")
    fer_models.load(run, backend="torch").export_onnx(run / "model.onnx")
    assert isinstance(fer_models.load(run), OnnxClassifier)


def test_the_default_models_onnx_copy_gives_pytorchs_probabilities_on_real_faces(fer2013_slice):
    from fer_core.data import load_dataset

    faces = load_dataset(fer2013_slice).split("report").images[:, 0].numpy()  # real PrivateTest faces
    onnx, eager = fer_models.load("default"), fer_models.load("default", backend="torch")
    a, b = onnx.predict_proba(faces), eager.predict_proba(faces)
    assert a.dtype == np.float32 and a.shape == b.shape == (len(faces), 7)
    assert np.abs(a - b).max() < 1e-5  # measured 6e-7 over all 3,589 (BENCHMARKS.md)
    assert np.array_equal(a.argmax(1), b.argmax(1))
    np.testing.assert_allclose(onnx.predict_proba(faces, tta="none"), eager.predict_proba(faces, tta="none"),
                               atol=1e-5)
    rgb = np.repeat(faces[:8, :, :, None], 3, axis=-1)
    big = np.kron(rgb, np.ones((2, 2, 1), np.uint8))  # resized, antialiased: the same answers
    assert np.abs(onnx.predict_proba(big) - eager.predict_proba(big)).max() < 0.05


@pytest.mark.shared
@pytest.mark.slow
def test_the_default_models_onnx_copy_keeps_its_privatetest_accuracy(fer2013_csv):
    from fer_core.data import load_dataset
    from fer_core.training import classification_metrics

    split = load_dataset(fer2013_csv).split("report")
    faces, labels = split.images[:, 0].numpy(), split.labels.numpy()
    a = fer_models.load("default").predict_proba(faces)
    b = fer_models.load("default", backend="torch").predict_proba(faces)
    acc_onnx, acc_torch = (classification_metrics(labels, p)["accuracy"] for p in (a, b))
    assert len(faces) == 3589 and abs(acc_onnx - acc_torch) < 0.001  # the bound: 0.1 point
    assert np.abs(a - b).max() < 1e-5


def test_threads_reach_the_session(monkeypatch):
    import fer_core.threads
    from fer_core.errors import ConfigError
    from fer_core.threads import THREADS_ENV, default_threads

    # an in-process CLI test may have run apply_threads (--threads) earlier in this process
    monkeypatch.setattr(fer_core.threads, "_override", None)

    assert fer_models.load("default", threads=1).model.threads == 1
    monkeypatch.setenv(THREADS_ENV, "3")
    assert default_threads() == 3 and fer_models.load("default").model.threads == 3
    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(ConfigError, match=THREADS_ENV):
        default_threads()
