"""Evaluation: the reports' metrics against hand-computed numbers, ECE, and TTA averaging."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_core.classes import CLASSES
from fer_core.training import classification_metrics, expected_calibration_error, predict_proba
from fer_core.training._transforms import to_model_input

# every class present; three mistakes: an angry called disgust, a disgust called fear, the neutral
# called angry
LABELS = np.array([0, 0, 0, 1, 1, 2, 3, 4, 5, 6])
PREDS = np.array([0, 0, 1, 1, 2, 2, 3, 4, 5, 0])


def _probs(preds: np.ndarray, conf: np.ndarray | float) -> np.ndarray:
    """Rows with ``conf`` on the predicted class and the rest spread evenly."""
    conf = np.broadcast_to(np.asarray(conf, dtype=np.float64), preds.shape)
    probs = np.repeat(((1 - conf) / 6)[:, None], 7, axis=1)
    probs[np.arange(len(preds)), preds] = conf
    return probs


def test_metrics_match_hand_computed_numbers():
    m = classification_metrics(LABELS, _probs(PREDS, 0.7))
    assert m["n"] == 10
    assert m["accuracy"] == pytest.approx(0.7)
    per = m["per_class"]
    assert list(per) == list(CLASSES)
    expected = {  # precision, recall, F1, support
        "angry": (2 / 3, 2 / 3, 2 / 3, 3),  # predicted angry 3 times (2 right); 3 true angry
        "disgust": (1 / 2, 1 / 2, 1 / 2, 2),
        "fear": (1 / 2, 1, 2 / 3, 1),
        "happy": (1, 1, 1, 1),
        "sad": (1, 1, 1, 1),
        "surprise": (1, 1, 1, 1),
        "neutral": (0, 0, 0, 1),  # never predicted: precision 0 (zero_division), recall 0
    }
    for name, (p, r, f, s) in expected.items():
        got = (per[name]["precision"], per[name]["recall"], per[name]["f1"])
        assert got == pytest.approx((p, r, f)), name
        assert per[name]["support"] == s
    assert m["per_class_f1"] == pytest.approx([v[2] for v in expected.values()])
    assert m["averages"]["macro"] == pytest.approx({"precision": 2 / 3, "recall": 31 / 42, "f1": 29 / 42})
    assert m["macro_f1"] == pytest.approx(29 / 42)
    assert m["averages"]["weighted"] == pytest.approx({"precision": 0.65, "recall": 0.7, "f1": 2 / 3})
    assert m["weighted_f1"] == pytest.approx(2 / 3)


def test_confusion_rows_are_the_true_class():
    m = classification_metrics(LABELS, _probs(PREDS, 0.7))
    c = np.array(m["confusion"])
    assert c.shape == (7, 7) and c.sum() == 10
    assert c[0].tolist() == [2, 1, 0, 0, 0, 0, 0]  # true angry: 2 right, 1 called disgust
    assert c[1].tolist() == [0, 1, 1, 0, 0, 0, 0]
    assert c[6].tolist() == [1, 0, 0, 0, 0, 0, 0]  # true neutral called angry
    assert c.sum(axis=1).tolist() == [3, 2, 1, 1, 1, 1, 1]  # row sums = supports


def test_hard_predictions_give_no_ece():
    m = classification_metrics(LABELS, PREDS)
    assert m["accuracy"] == pytest.approx(0.7) and "ece" not in m


def test_ece_is_zero_when_calibrated():
    # confidence 0.8 everywhere and 8 of 10 right
    labels = np.array([0] * 8 + [1] * 2)
    probs = _probs(np.zeros(10, dtype=int), 0.8)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)
    assert classification_metrics(labels, probs)["ece"] == pytest.approx(0.0, abs=1e-12)


def test_ece_hand_computed():
    # two at confidence 0.9, both right: gap 0.1; two at 0.55, one right: gap 0.05; weights 1/2
    labels = np.array([0, 1, 2, 3])
    probs = _probs(np.array([0, 1, 2, 0]), np.array([0.9, 0.9, 0.55, 0.55]))
    assert expected_calibration_error(probs, labels) == pytest.approx(0.5 * 0.1 + 0.5 * 0.05)
    # always sure, half right
    sure = np.eye(7)[[0, 1, 2, 3]]
    assert expected_calibration_error(sure, np.array([0, 1, 5, 6])) == pytest.approx(0.5)


@pytest.fixture
def model_and_images():
    from fer_models.backbones import small_cnn

    torch.manual_seed(0)
    model = small_cnn(widths=(8, 16), dropout=0.5)
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        model.train()
        model(torch.randn(32, 1, 48, 48))
    model.train()  # predict_proba must switch to eval and back
    images = torch.randint(0, 256, (5, 1, 48, 48), dtype=torch.uint8)
    return model, images


def _softmax(model, x) -> torch.Tensor:
    with torch.no_grad():
        return torch.softmax(model(x), dim=1)


def test_predict_proba_flip_is_the_mean_over_image_and_mirror(model_and_images):
    model, images = model_and_images
    probs = predict_proba(model, images, batch_size=2, tta="flip")
    assert model.training  # mode restored
    model.eval()
    x = to_model_input(images)
    expected = (_softmax(model, x) + _softmax(model, x.flip(-1))) / 2
    assert probs.shape == (5, 7) and probs.dtype == torch.float32
    assert torch.allclose(probs, expected, atol=1e-6)
    plain = predict_proba(model, images, tta="none")
    assert torch.allclose(plain, _softmax(model, x), atol=1e-6)
    assert not torch.allclose(plain, probs, atol=1e-4)  # the mirror does change the answer


def test_predict_proba_tencrop_averages_ten_views(model_and_images):
    model, images = model_and_images
    probs = predict_proba(model, images, batch_size=3, crop_size=40, tta="tencrop")
    model.eval()
    x = to_model_input(images)
    crops = [x[..., :40, :40], x[..., :40, 8:], x[..., 8:, :40], x[..., 8:, 8:], x[..., 4:44, 4:44]]
    views = crops + [c.flip(-1) for c in crops]
    expected = sum(_softmax(model, v) for v in views) / 10
    assert torch.allclose(probs, expected, atol=1e-6)
    center = predict_proba(model, images, crop_size=40, tta="none")
    assert torch.allclose(center, _softmax(model, crops[4]), atol=1e-6)
    assert predict_proba(model, images[:0]).shape == (0, 7)
