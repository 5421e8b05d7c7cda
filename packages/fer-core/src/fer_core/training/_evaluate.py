"""Evaluation: predictions over a split and the metrics of the reports (scikit-learn)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from fer_core.classes import CLASSES, NUM_CLASSES
from fer_core.training._transforms import to_model_input


@torch.no_grad()
def predict_proba(
    model: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Class probabilities ``[N, 7]`` (float32, on CPU) for uint8 images ``[N, 1, H, W]``."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = to_model_input(images[start:start + batch_size].to(device))
        out.append(torch.softmax(model(x).float(), dim=1).cpu())
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, NUM_CLASSES)


def classification_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1 (canonical order), macro and weighted F1."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    classes = list(range(NUM_CLASSES))
    p, r, f, support = precision_recall_fscore_support(
        labels, predictions, labels=classes, zero_division=0
    )
    return {
        "n": len(labels),
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(f1_score(labels, predictions, labels=classes, average="macro", zero_division=0)),
        "weighted_f1": float(
            f1_score(labels, predictions, labels=classes, average="weighted", zero_division=0)
        ),
        "per_class": {
            c: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]),
                "support": int(support[k])}
            for k, c in enumerate(CLASSES)
        },
        "per_class_f1": [float(v) for v in f],
    }


def evaluate(
    model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
    batch_size: int = 256, device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """Metrics of ``model`` on uint8 ``images`` with canonical ``labels``."""
    probs = predict_proba(model, images, batch_size=batch_size, device=device)
    return classification_metrics(labels.numpy(), probs.argmax(1).numpy())
