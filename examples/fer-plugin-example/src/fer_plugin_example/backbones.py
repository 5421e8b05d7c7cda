"""The ``tiny_mlp`` backbone (imported when a model is first built)."""

from torch import nn


def tiny_mlp(num_classes: int = 7, in_chans: int = 1, hidden: int = 64) -> nn.Module:
    """A toy backbone: flatten, one hidden layer."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_chans * 48 * 48, hidden), nn.ReLU(),
                         nn.Linear(hidden, num_classes))
