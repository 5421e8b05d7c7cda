"""Focal loss (Lin et al. 2017, multi-class), for hard or soft targets."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from fer_core.classes import CLASSES
from fer_core.errors import ConfigError
from fer_models.losses.cross_entropy import ClassWeightsOption, weight_buffer
from fer_models.losses.functional import check_label_smoothing, focal_loss


class FocalLoss(nn.Module):
    """``loss(logits, targets)``: cross-entropy with each term scaled by ``(1 - p_c)^gamma``.

    Confident, correct examples contribute little, so training concentrates on hard ones.
    ``gamma = 0`` without ``alpha`` is plain cross-entropy; ``alpha`` weights classes exactly as
    cross-entropy's ``class_weights`` do (weighted mean over the batch).
    """

    weight: Tensor | None

    def __init__(self, gamma: float = 2.0, alpha: ClassWeightsOption = None, label_smoothing: float = 0.0,
                 classes: Sequence[str] = CLASSES):
        super().__init__()
        if isinstance(gamma, bool) or not isinstance(gamma, int | float) or not (
            math.isfinite(gamma) and gamma >= 0
        ):
            raise ConfigError(f"focal loss: option gamma = {gamma!r} is not allowed; "
                              "expected a number >= 0")
        self.gamma = float(gamma)
        self.label_smoothing = check_label_smoothing(label_smoothing, "focal loss")
        weight_buffer(self, alpha, "focal alpha", classes)

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        return focal_loss(logits, targets, gamma=self.gamma, weight=self.weight,
                          label_smoothing=self.label_smoothing)


def focal(
    class_weights: ClassWeightsOption = None,
    gamma: float = 2.0,
    alpha: ClassWeightsOption = None,
    label_smoothing: float = 0.0,
    classes: Sequence[str] = CLASSES,
) -> FocalLoss:
    """Focal loss, hard or soft targets (options: gamma=2, alpha by class name or list of 7, label_smoothing).

    ``class_weights`` (the name every loss accepts) is a synonym of ``alpha``; give one of them.
    """
    if class_weights is not None and alpha is not None:
        raise ConfigError("focal loss: options alpha and class_weights mean the same; give only one")
    return FocalLoss(gamma, alpha if alpha is not None else class_weights, label_smoothing, classes)
