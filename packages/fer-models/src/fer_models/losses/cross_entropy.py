"""Cross-entropy with optional label smoothing and class weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import nn

from fer_models.strategies.static import class_weight_vector


def cross_entropy(
    class_weights: Mapping[str, float] | Sequence[float] | None = None,
    label_smoothing: float = 0.0,
) -> nn.CrossEntropyLoss:
    """Cross-entropy (options: label_smoothing, class_weights by name or list of 7)."""
    weight = None
    if class_weights is not None:
        weight = class_weight_vector(class_weights, "cross_entropy class_weights").float()
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)
