"""Cross-entropy with optional label smoothing and class weights, for hard or soft targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from fer_core.classes import CLASSES
from fer_models.losses.functional import check_label_smoothing, is_soft, soft_cross_entropy
from fer_models.strategies.static import class_weight_vector

ClassWeightsOption = Mapping[str, float] | Sequence[float] | None


def weight_buffer(module: nn.Module, weights: ClassWeightsOption, what: str,
                  classes: Sequence[str] = CLASSES) -> None:
    """Store ``weights`` (by class name or one per class) as ``module.weight``, or ``None``."""
    weight = None if weights is None else class_weight_vector(weights, what, classes).float()
    module.register_buffer("weight", weight, persistent=False)


class CrossEntropy(nn.Module):
    """``loss(logits, targets)`` for class indices ``[N]`` or probability rows ``[N, 7]``.

    Class indices go through ``F.cross_entropy``; soft targets through
    :func:`~fer_models.losses.functional.soft_cross_entropy`, which gives the same value for a
    one-hot row as for its index, with or without smoothing and weights.
    """

    weight: Tensor | None

    def __init__(self, class_weights: ClassWeightsOption = None, label_smoothing: float = 0.0,
                 classes: Sequence[str] = CLASSES):
        super().__init__()
        self.label_smoothing = check_label_smoothing(label_smoothing, "cross_entropy loss")
        weight_buffer(self, class_weights, "cross_entropy class_weights", classes)

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        if is_soft(logits, targets):
            return soft_cross_entropy(logits, targets, weight=self.weight,
                                      label_smoothing=self.label_smoothing)
        weight = None if self.weight is None else self.weight.to(logits)
        return F.cross_entropy(logits, targets.long(), weight=weight, label_smoothing=self.label_smoothing)


def cross_entropy(class_weights: ClassWeightsOption = None, label_smoothing: float = 0.0,
                  classes: Sequence[str] = CLASSES) -> CrossEntropy:
    """Cross-entropy, hard or soft targets (options: label_smoothing, class_weights by name or list of 7)."""
    return CrossEntropy(class_weights, label_smoothing, classes)
