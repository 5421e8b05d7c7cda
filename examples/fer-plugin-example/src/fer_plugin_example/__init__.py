"""An example fer plugin: the ``sqrt_inverse`` sampling strategy and the ``tiny_mlp`` backbone."""

import torch
from torch import nn

from fer_core import EpochContext, Register, hookimpl


class SqrtInverse:
    """Class weights 1/sqrt(count): between uniform and fully balanced sampling."""

    def __init__(self, power: float = 0.5):
        self.power = power

    def weights(self, context: EpochContext) -> torch.Tensor:
        counts = context.class_counts.double().clamp(min=1)
        return counts ** -self.power


@hookimpl
def register_sampler_strategies(register: Register) -> None:
    register("sqrt_inverse", SqrtInverse, "class weights 1/count**power (default power 0.5)")


@hookimpl
def register_backbones(register: Register) -> None:
    def tiny_mlp(num_classes=7, in_chans=1, hidden=64):
        """A toy backbone: flatten, one hidden layer."""
        return nn.Sequential(nn.Flatten(), nn.Linear(in_chans * 48 * 48, hidden), nn.ReLU(),
                             nn.Linear(hidden, num_classes))

    register("tiny_mlp", tiny_mlp, "toy two-layer perceptron")
