"""int8 ONNX export: calibration inputs, the quantized file, and folders whose own model.onnx
``backend="onnx"`` runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import fer_models
from fer_core.errors import ConfigError
from fer_models.inference import ONNX_NAME, calibration_inputs

pytestmark = pytest.mark.usefixtures("one_thread")


def test_calibration_inputs_are_seeded_normalised_eval_crops():
    images = torch.randint(0, 256, (300, 1, 48, 48), dtype=torch.uint8)
    a = calibration_inputs(images, count=100)
    assert a.shape == (100, 1, 48, 48) and a.dtype == np.float32
    assert np.array_equal(a, calibration_inputs(images, count=100))  # seed 0 both times
    assert not np.array_equal(a, calibration_inputs(images, count=100, seed=1))
    assert a.min() < -1 and a.max() > 1  # normalised like evaluation, not raw 0-255 or 0-1
    assert calibration_inputs(images, 40, count=500).shape == (300, 1, 40, 40)  # centre crops, all faces


@pytest.mark.parametrize("bad, message", [
    (torch.zeros(4, 48, 48, dtype=torch.uint8), "uint8 \\[N, 1, H, W\\], got torch.uint8 \\[4, 48, 48\\]"),
    (torch.zeros(4, 1, 48, 48), "got torch.float32"),
    (torch.zeros(0, 1, 48, 48, dtype=torch.uint8), "no calibration faces"),
])
def test_calibration_inputs_refuse_what_they_cannot_use(bad, message):
    with pytest.raises(ConfigError, match=message):
        calibration_inputs(bad)


@pytest.fixture(scope="module")
def int8_run(tiny_runs, fer2013_slice, tmp_path_factory):
    """A copy of a tiny run folder with its int8 model.onnx, calibrated on the slice's Training faces."""
    pytest.importorskip("onnxruntime")
    from fer_core.data import load_dataset

    folder = tmp_path_factory.mktemp("int8") / "run"
    shutil.copytree(tiny_runs[0], folder)
    train = load_dataset(fer2013_slice).split("train")
    fer_models.load(folder).export_onnx(folder / ONNX_NAME, int8_calibration=train.images,
                                        calibration_note={"calibration_source": "the slice"})
    return folder


def test_the_int8_file_is_quantized_and_says_how(int8_run, tmp_path):
    import onnx

    graph = onnx.load(str(int8_run / ONNX_NAME)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert any(init.data_type == onnx.TensorProto.INT8 for init in graph.initializer)  # int8 weights
    config = json.loads((int8_run / "model.json").read_text())
    q = config["onnx"]["quantization"]
    assert q["format"] == "QDQ" and q["calibration_source"] == "the slice"
    assert 0 < q["calibration_faces"] <= 1024
    assert config["backbone"] == "small_cnn"  # the run's config is kept beside it
    fp = fer_models.load(int8_run).export_onnx(tmp_path / "float.onnx")
    assert (int8_run / ONNX_NAME).stat().st_size < fp.stat().st_size


def test_a_folders_own_model_onnx_runs_with_backend_onnx(int8_run, fer2013_slice):
    from fer_core.data import load_dataset

    clf = fer_models.load(int8_run, backend="onnx")
    assert clf.backend == "onnx" and clf.model.path == int8_run / ONNX_NAME
    faces = load_dataset(fer2013_slice).split("report").images[:64, 0].numpy()  # real faces
    p8, p32 = clf.predict_proba(faces), fer_models.load(int8_run).predict_proba(faces)
    assert p8.shape == (64, 7) and np.allclose(p8.sum(1), 1, atol=1e-5)
    assert np.abs(p8 - p32).max() < 0.05  # int8 rounding, not another model
    assert not np.allclose(p8, p32, atol=1e-6)  # and really the int8 file, not the float export


def test_quantizing_a_broken_onnx_file_says_which(tmp_path):
    from fer_models.inference import quantize_onnx

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(ConfigError, match=r"bad\.onnx"):
        quantize_onnx(bad, tmp_path / "out.onnx", np.zeros((4, 1, 48, 48), np.float32))
    assert not (tmp_path / "out.onnx").exists()
