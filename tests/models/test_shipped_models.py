"""The models shipped inside the fer-models wheel: they load by name offline, take faces in every
form a user has, and reproduce the numbers their model card states on the real PrivateTest."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fer_models
from fer_core.classes import CLASSES
from fer_core.training import sha256_file
from fer_models.inference._load import SHIPPED_DIR

SHIPPED = ("default", "fast")


def test_the_installed_wheel_ships_the_default_and_fast_models():
    assert set(SHIPPED) <= set(fer_models.shipped_models())


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_model_is_small_unpickled_and_checked(name):
    folder = SHIPPED_DIR / name
    weights = folder / "model.safetensors"
    assert weights.stat().st_size < 10 * 2**20  # the bound for a single model
    assert not list(folder.glob("*.pt")) and not list(folder.glob("*.pkl"))
    config = json.loads((folder / "model.json").read_text())
    assert config["weights_sha256"] == sha256_file(weights)
    assert config["classes"] == list(CLASSES)


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_model_takes_faces_in_any_form(name, fer2013_slice):
    from fer_core.data import load_dataset

    clf = fer_models.load(name)
    assert clf.classes == CLASSES and clf.card["name"] == name
    gray = load_dataset(fer2013_slice).split("report").images[:40, 0].numpy()  # real faces
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    same_faces = {  # the same pixels in other forms: the same probabilities
        "[N,1,48,48] uint8": gray[:, None],
        "RGB 48x48": rgb,
        "RGBA 48x48": np.concatenate([rgb, np.full_like(gray[..., None], 255)], axis=-1),
        "float gray in [0, 1]": gray.astype(np.float32) / 255,
    }
    base = clf.predict_proba(gray)
    assert base.shape == (40, 7)
    np.testing.assert_allclose(base.sum(1), 1.0, atol=1e-5)
    for form, faces in same_faces.items():
        np.testing.assert_allclose(clf.predict_proba(faces), base, atol=1e-4, err_msg=form)
    # crops of another size are resized (antialiased, which blurs a little): mostly the same answers
    up = np.kron(rgb, np.ones((2, 2, 1), np.uint8))  # [40, 96, 96, 3]
    p = clf.predict_proba(up)
    assert p.shape == (40, 7) and (p.argmax(1) == base.argmax(1)).mean() >= 0.7


@pytest.fixture(scope="module")
def private_test(fer2013_csv):
    from fer_core.data import load_dataset

    split = load_dataset(fer2013_csv).split("report")
    return split.images[:, 0].numpy(), split.labels.numpy()


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_model_reproduces_its_cards_privatetest_numbers(name, private_test):
    from fer_core.training import classification_metrics

    faces, labels = private_test
    clf = fer_models.load(name, backend="torch")  # the card's numbers are PyTorch's
    m = classification_metrics(labels, clf.predict_proba(faces))
    card = clf.card
    assert m["n"] == 3589
    assert m["accuracy"] == pytest.approx(card["PrivateTest_accuracy"], abs=1e-4)
    assert m["macro_f1"] == pytest.approx(card["PrivateTest_macro_f1"], abs=1e-4)
    assert clf.gmacs() == pytest.approx(card["gmacs"], abs=1e-4)


def test_the_fast_model_ships_its_int8_onnx_copy_checked():
    folder = SHIPPED_DIR / "fast"
    config = json.loads((folder / "model.json").read_text())
    assert config["onnx"]["sha256"] == sha256_file(folder / "model.onnx")
    assert config["onnx"]["quantization"]["format"] == "QDQ"
    assert (folder / "model.onnx").stat().st_size < 2 * 2**20


@pytest.mark.shared
@pytest.mark.slow
def test_the_fast_models_int8_copy_reproduces_its_cards_numbers(private_test):
    """Integer kernels differ between CPU instruction sets (VNNI or not): a few faces may flip
    elsewhere, so the bound is 0.3 points rather than the float models' 1e-4."""
    pytest.importorskip("onnxruntime")
    from fer_core.training import classification_metrics

    faces, labels = private_test
    clf = fer_models.load("fast", backend="onnx")
    assert clf.model.path == SHIPPED_DIR / "fast" / "model.onnx"
    m = classification_metrics(labels, clf.predict_proba(faces))
    assert m["accuracy"] == pytest.approx(clf.card["onnx_int8"]["PrivateTest_accuracy"], abs=3e-3)
    assert m["accuracy"] > 0.6578  # the peer's best PrivateTest accuracy (BENCHMARKS.md)


def test_the_readme_example_of_the_shipped_models_runs(capsys):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "packages" / "fer-models" / "README.md").read_text()
    section = readme.split("### Shipped models and their cards", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "fer-models README", "exec"), {})
    out = capsys.readouterr().out
    assert str(CLASSES) in out and "(2, 7)" in out


@pytest.mark.parametrize("name", SHIPPED)
def test_the_root_readme_gives_each_models_card_numbers(name):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}` |"))
    card = fer_models.load(name).card
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:4] == [f"{card['PrivateTest_accuracy']:.2%}", f"{card['PrivateTest_macro_f1']:.3f}",
                          f"{card['Public+Private_accuracy']:.2%}"]
    assert cells[4].startswith(f"{card['gmacs']:.3f}")
