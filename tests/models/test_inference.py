"""fer_models.load and the Classifier: faces in every common form, TTA, ONNX export and backend."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import fer_models
from fer_core import CLASSES, ConfigError, DataError
from fer_core.training import load_trained_model, predict_proba
from fer_models.inference import Classifier, prepare_faces

pytestmark = pytest.mark.usefixtures("one_thread")
RNG = np.random.default_rng(0)


def _faces(*shape, dtype=np.uint8):
    return RNG.integers(0, 256, shape).astype(dtype)


# --- prepare_faces ----------------------------------------------------------------------------

@pytest.mark.parametrize(("faces", "n"), [
    (_faces(48, 48), 1),                      # one gray face
    (_faces(5, 48, 48), 5),                   # a batch of gray faces (even 3 or 4 of them)
    (_faces(3, 48, 48), 3),
    (_faces(4, 1, 48, 48), 4),                # [N, 1, H, W]
    (_faces(2, 3, 64, 64), 2),                # [N, C, H, W] RGB
    (_faces(2, 90, 70, 3), 2),                # [N, H, W, C] RGB, not square
    (_faces(120, 100, 4), 1),                 # one RGBA face
    (_faces(30, 30, 3), 1),                   # smaller than 48: upsampled
    (torch.from_numpy(_faces(6, 48, 48)), 6),  # torch tensors too
])
def test_every_face_form_becomes_uint8_n_1_48_48(faces, n):
    out = prepare_faces(faces)
    assert out.dtype == torch.uint8 and out.shape == (n, 1, 48, 48)


def test_uint8_gray_faces_at_size_pass_through_unchanged():
    gray = _faces(5, 48, 48)
    out = prepare_faces(gray)
    assert torch.equal(out[:, 0], torch.from_numpy(gray))
    assert torch.equal(prepare_faces(gray[:, None]), out)
    assert torch.equal(prepare_faces(list(gray)), out)  # the general path agrees


def test_color_to_gray_matches_pil_and_floats_are_scaled():
    rgb = _faces(48, 48, 3)
    ours = prepare_faces(rgb)[0, 0].numpy().astype(int)
    pil = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert np.abs(ours - pil).max() <= 1
    gray = _faces(48, 48)
    expected = prepare_faces(gray)
    assert torch.equal(prepare_faces(gray / 255.0), expected)            # floats in [0, 1]
    assert torch.equal(prepare_faces(gray.astype(np.float32)), expected)  # floats in [0, 255]
    assert torch.equal(prepare_faces(Image.fromarray(gray)), expected)    # PIL


def test_a_list_mixes_sizes_and_forms():
    out = prepare_faces([_faces(48, 48), _faces(100, 80, 3), Image.fromarray(_faces(20, 20))])
    assert out.shape == (3, 1, 48, 48)


@pytest.mark.parametrize(("faces", "message"), [
    ([], "no faces"),
    (np.zeros((0, 48, 48), np.uint8), "no faces"),
    (np.zeros((1, 2, 3, 48, 48), np.uint8), "got shape"),
    (np.zeros((2, 5, 48, 48), np.uint8), "got shape"),
    (np.full((48, 48), np.nan, np.float32), "NaN"),
    (np.full((48, 48), -3.0), "pixel values must be"),
    (np.full((48, 48), 300.0), "pixel values must be"),
    ([np.zeros((48, 48)), "face.png"], "face 1: expected a numpy array"),
    ([np.zeros((2, 48, 48))], "face 0: a list holds one face per item"),
    (np.zeros((1, 48), np.uint8), "got shape"),
])
def test_bad_faces_are_data_errors_naming_the_face(faces, message):
    with pytest.raises(DataError, match=message):
        prepare_faces(faces)


# --- load and Classifier ----------------------------------------------------------------------

def test_load_a_run_and_classify(tiny_runs):
    clf = fer_models.load(tiny_runs[0])
    assert isinstance(clf, Classifier) and clf.classes == CLASSES and clf.tta == "none"
    faces = _faces(9, 48, 48)
    probs = clf.predict_proba(faces)
    assert probs.shape == (9, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    model, _ = load_trained_model(tiny_runs[0])
    expected = predict_proba(model, torch.from_numpy(faces)[:, None]).numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert clf.predict(faces) == [CLASSES[i] for i in expected.argmax(1)]
    # one face in, one row out; any size
    assert clf.predict_proba(_faces(96, 96, 3)).shape == (1, 7)


def test_the_same_model_from_a_folder_weights_file_or_checkpoint(tiny_runs):
    faces = _faces(4, 48, 48)
    run = tiny_runs[0]
    by_folder = fer_models.load(run).predict_proba(faces)
    by_file = fer_models.load(run / "model.safetensors").predict_proba(faces)
    by_checkpoint = fer_models.load(run / "checkpoints" / "best.pt").predict_proba(faces)
    np.testing.assert_allclose(by_file, by_folder, atol=1e-6)
    np.testing.assert_allclose(by_checkpoint, by_folder, atol=1e-6)


def test_tta_is_the_models_own_unless_overridden_and_counted_in_gmacs(tiny_runs):
    clf = fer_models.load(tiny_runs[1])
    assert clf.tta == "flip"
    faces = _faces(3, 48, 48)
    flipped = faces[:, :, ::-1].copy()
    plain = clf.predict_proba(faces, tta="none")
    mirrored = clf.predict_proba(flipped, tta="none")
    np.testing.assert_allclose(clf.predict_proba(faces), (plain + mirrored) / 2, atol=1e-6)
    assert clf.gmacs() == pytest.approx(2 * clf.gmacs("none"))
    with pytest.raises(ConfigError, match="tencrop"):
        clf.predict_proba(faces, tta="tencrop")  # trained without crops
    with pytest.raises(ConfigError, match="tta must be one of"):
        fer_models.load(tiny_runs[0], tta="sideways")


def test_an_unknown_model_name_says_what_exists(tmp_path):
    with pytest.raises(ConfigError, match="not a file or folder, nor a shipped model"):
        fer_models.load("no-such-model")
    with pytest.raises(ConfigError, match="backend must be"):
        fer_models.load(tmp_path, backend="tensorrt")


# --- ONNX -------------------------------------------------------------------------------------

def test_onnx_export_agrees_with_pytorch(tiny_runs, tmp_path):
    pytest.importorskip("onnxruntime")
    clf = fer_models.load(tiny_runs[1])
    path = clf.export_onnx(tmp_path / "tiny.onnx")
    assert path.is_file() and path.with_suffix(".json").is_file()
    onnx_clf = fer_models.load(path)
    assert onnx_clf.backend == "onnx" and onnx_clf.tta == "flip"
    faces = _faces(17, 48, 48)  # a batch size the export never saw
    np.testing.assert_allclose(onnx_clf.predict_proba(faces), clf.predict_proba(faces), atol=1e-4)
    x = torch.randn(5, 1, 48, 48)
    with torch.no_grad():
        assert np.abs(onnx_clf.model(x.numpy()) - clf.model(x).numpy()).max() < 1e-4  # numpy in, numpy out
    # the onnx backend straight from the run folder
    direct = fer_models.load(tiny_runs[1], backend="onnx")
    np.testing.assert_allclose(direct.predict_proba(faces), clf.predict_proba(faces), atol=1e-4)


def test_onnx_without_its_config_or_damaged_is_a_clear_error(tmp_path):
    pytest.importorskip("onnxruntime")
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(b"not onnx at all")
    with pytest.raises(ConfigError, match=r"bare\.json"):
        fer_models.load(bare)
    bare.with_suffix(".json").write_text('{"preprocessing": {"size": 48}}')
    with pytest.raises(ConfigError, match="not a loadable ONNX model"):
        fer_models.load(bare)
