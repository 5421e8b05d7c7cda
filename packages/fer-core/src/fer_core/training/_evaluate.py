"""Evaluation: probabilities over a split (with optional TTA) and the reports' metrics."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from fer_core.classes import CLASSES, FERPLUS_CLASSES, NUM_CLASSES
from fer_core.training._augment import eval_views
from fer_core.training._transforms import to_model_input


@torch.no_grad()
def predict_proba(
    model: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 256,
    device: torch.device | str = "cpu", crop_size: int | None = None, tta: str = "none",
    channels_last: bool = False,
) -> torch.Tensor:
    """Class probabilities ``[N, 7]`` (float32, on CPU) for uint8 images ``[N, 1, H, W]``.

    ``tta`` averages the probabilities over views: ``none``, ``flip`` or ``tencrop``.
    """
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = to_model_input(images[start:start + batch_size].to(device))
        probs = torch.zeros(())  # adding to exact zero: the first view's probabilities, bit for bit
        views = eval_views(x, crop_size, tta)
        for view in views:
            if channels_last:
                view = view.contiguous(memory_format=torch.channels_last)
            probs = probs + torch.softmax(model(view).float(), dim=1)
        out.append((probs / len(views)).cpu())
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, NUM_CLASSES)


def drop_contempt(probs: torch.Tensor) -> torch.Tensor:
    """An 8-class (:data:`~fer_core.classes.FERPLUS_CLASSES`) model's probabilities on the 7
    classes: contempt dropped, the rest renormalised (the FER+ 7-class mapping)."""
    seven = probs[:, :NUM_CLASSES]
    return seven / seven.sum(dim=1, keepdim=True).clamp_min(1e-12)


def match_classes(probs: torch.Tensor, classes: Sequence[str]) -> torch.Tensor:
    """``probs`` on ``classes``: as they are, or an 8-class model's mapped to the 7
    (:func:`drop_contempt`)."""
    if probs.shape[1] == len(classes):
        return probs
    if probs.shape[1] == len(FERPLUS_CLASSES) and tuple(classes) == CLASSES:
        return drop_contempt(probs)
    raise ValueError(f"the model gives {probs.shape[1]} class probabilities but the labels have "
                     f"{len(classes)} classes ({', '.join(classes)})")


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE with equal-width confidence bins: sum over bins of |accuracy - confidence| x share."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return float(ece)


def classification_metrics(labels: np.ndarray, probs: np.ndarray,
                           classes: Sequence[str] = CLASSES) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1 (``classes`` order: the canonical 7 by default),
    macro and weighted averages, confusion matrix (rows = true class) and expected calibration error."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    labels = np.asarray(labels)
    probs = np.asarray(probs)
    predictions = probs.argmax(axis=1) if probs.ndim == 2 else probs
    names = tuple(classes)
    index = list(range(len(names)))
    p, r, f, support = precision_recall_fscore_support(labels, predictions, labels=index, zero_division=0)
    averages = {}
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(
            labels, predictions, labels=index, average=avg, zero_division=0)
        averages[avg] = {"precision": float(ap), "recall": float(ar), "f1": float(af)}
    metrics = {
        "n": len(labels),
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": averages["macro"]["f1"],
        "weighted_f1": averages["weighted"]["f1"],
        "averages": averages,
        "per_class": {
            c: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]),
                "support": int(support[k])}
            for k, c in enumerate(names)
        },
        "per_class_f1": [float(v) for v in f],
        "confusion": confusion_matrix(labels, predictions, labels=index).tolist(),
    }
    if probs.ndim == 2:
        metrics["ece"] = expected_calibration_error(probs, labels)
    return metrics


def evaluate(
    model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
    batch_size: int = 256, device: torch.device | str = "cpu", crop_size: int | None = None,
    tta: str = "none", channels_last: bool = False, classes: Sequence[str] = CLASSES,
) -> dict[str, Any]:
    """Metrics of ``model`` on uint8 ``images`` with ``labels`` in ``classes`` order (canonical)."""
    probs = predict_proba(model, images, batch_size=batch_size, device=device, crop_size=crop_size,
                          tta=tta, channels_last=channels_last)
    metrics = classification_metrics(labels.numpy(), match_classes(probs, classes).numpy(), classes)
    metrics["tta"] = tta
    return metrics
