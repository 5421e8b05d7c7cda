"""Strategies whose weights do not depend on the training history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from fer_core import NUM_CLASSES, EpochContext, class_index
from fer_core.errors import ConfigError


def class_weight_vector(weights: Mapping[str, float] | Sequence[float], what: str) -> torch.Tensor:
    """``{"disgust": 3, "fear": 2}`` (others 1) or a list of 7 -> a ``[7]`` tensor."""
    if isinstance(weights, Mapping):
        out = torch.ones(NUM_CLASSES, dtype=torch.float64)
        for name, w in weights.items():
            try:
                out[class_index(name)] = float(w)
            except KeyError as exc:
                raise ConfigError(f"{what}: {exc.args[0]}") from None
    else:
        if len(weights) != NUM_CLASSES:
            raise ConfigError(f"{what}: expected {NUM_CLASSES} weights, got {len(weights)}")
        out = torch.tensor([float(w) for w in weights], dtype=torch.float64)
    if (out < 0).any() or not torch.isfinite(out).all():
        raise ConfigError(f"{what}: weights must be finite and not negative")
    return out


class Uniform:
    """Every training example equally likely (a plain shuffle)."""

    def weights(self, context: EpochContext) -> torch.Tensor:
        return torch.ones(len(context.class_counts), dtype=torch.float64)


class ClassWeights:
    """Fixed per-class sampling weights from the config, e.g. weights = {disgust = 3, fear = 2}."""

    def __init__(self, weights: Mapping[str, float] | Sequence[float] | None = None):
        self.class_weights = class_weight_vector(weights or {}, "class_weights strategy")

    def weights(self, context: EpochContext) -> torch.Tensor:
        return self.class_weights


class Balanced:
    """Inverse class frequency: every class drawn equally often in expectation."""

    def weights(self, context: EpochContext) -> torch.Tensor:
        counts = context.class_counts.double()
        return torch.where(counts > 0, 1.0 / counts.clamp(min=1), torch.zeros_like(counts))
