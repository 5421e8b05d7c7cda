"""PLD: cross-entropy to the FER+ vote distribution (Barsoum et al. 2016).

The FER+ paper's PLD scheme ("probabilistic label drawing") draws a label per epoch from each
face's vote distribution; its expectation is this loss, which is also the paper's
"cross-entropy" scheme.

The target of each face is the share of its ten crowd votes that went to each class, so a face
six raters called happy and four surprised is learnt as 0.6 happy, 0.4 surprise. It needs the
vote distributions in the data (``[data] labels = "ferplus-distribution"``); the factory says
so by its attribute ``soft_labels = True`` (:func:`fer_core.config_validation.needs_soft_labels`),
which config validation checks and the trainer follows, as ``[train] soft_labels = true`` does
for any other loss.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from fer_core.classes import CLASSES
from fer_core.errors import ConfigError
from fer_models.losses.cross_entropy import ClassWeightsOption, weight_buffer
from fer_models.losses.functional import check_label_smoothing, is_soft, soft_cross_entropy


class VoteCrossEntropy(nn.Module):
    """``mean_n sum_c -d_nc log_softmax(logits)_nc`` for vote distributions ``d`` ``[N, 7]``."""

    weight: Tensor | None

    def __init__(self, class_weights: ClassWeightsOption = None, label_smoothing: float = 0.0,
                 classes: Sequence[str] = CLASSES):
        super().__init__()
        self.label_smoothing = check_label_smoothing(label_smoothing, "pld loss")
        weight_buffer(self, class_weights, "pld class_weights", classes)

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        if not is_soft(logits, targets):
            raise ConfigError("pld loss: got class indices, not vote distributions; it needs "
                              "[data] labels = 'ferplus-distribution'")
        return soft_cross_entropy(logits, targets, weight=self.weight, label_smoothing=self.label_smoothing)


def pld(class_weights: ClassWeightsOption = None, label_smoothing: float = 0.0,
        classes: Sequence[str] = CLASSES) -> VoteCrossEntropy:
    """Cross-entropy to the FER+ vote distribution (FER+ paper's PLD); needs ferplus-distribution labels."""
    return VoteCrossEntropy(class_weights, label_smoothing, classes)


#: the trainer feeds this loss the vote distributions (fer_core.config_validation.needs_soft_labels)
pld.soft_labels = True  # type: ignore[attr-defined]
