"""Soft-target cross-entropy for MixUp/CutMix targets (timm's ``SoftTargetCrossEntropy``)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from fer_core.classes import CLASSES
from fer_models.losses.cross_entropy import ClassWeightsOption, weight_buffer
from fer_models.losses.functional import soft_cross_entropy


class SoftTargetCrossEntropy(nn.Module):
    """``mean_n sum_c -t_nc log_softmax(logits)_nc``; class indices are taken as one-hot rows."""

    weight: Tensor | None

    def __init__(self, class_weights: ClassWeightsOption = None, classes: Sequence[str] = CLASSES):
        super().__init__()
        weight_buffer(self, class_weights, "soft_target_cross_entropy class_weights", classes)

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        return soft_cross_entropy(logits, targets, weight=self.weight)


def soft_target_cross_entropy(class_weights: ClassWeightsOption = None,
                              classes: Sequence[str] = CLASSES) -> SoftTargetCrossEntropy:
    """Soft-target cross-entropy for MixUp/CutMix mixes (as timm's); accepts class indices too."""
    return SoftTargetCrossEntropy(class_weights, classes)
