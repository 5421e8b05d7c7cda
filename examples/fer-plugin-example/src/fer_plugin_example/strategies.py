"""The ``sqrt_inverse`` sampling strategy (imported when a config first uses it)."""

import torch

from fer_core import EpochContext


class SqrtInverse:
    """Class weights 1/sqrt(count): between uniform and fully balanced sampling."""

    def __init__(self, power: float = 0.5):
        self.power = power

    def weights(self, context: EpochContext) -> torch.Tensor:
        counts = context.class_counts.double().clamp(min=1)
        return counts ** -self.power
