"""Sampler strategies: each epoch, the sampling weight of each class or training example."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch

from fer_core.errors import PluginError


@dataclass(frozen=True)
class EpochContext:
    """What a strategy may look at before an epoch.

    ``history`` holds one dict per finished epoch, with at least ``select`` metrics
    (``accuracy``, ``per_class_f1``: a list in canonical class order).
    """

    epoch: int
    class_counts: torch.Tensor  # [num_classes], training examples per class
    labels: torch.Tensor  # [num_train], training labels
    history: Sequence[dict[str, Any]] = field(default_factory=tuple)


@runtime_checkable
class SamplerStrategy(Protocol):
    """Answers one question each epoch: how likely each class (or example) is to be drawn."""

    def weights(self, context: EpochContext) -> torch.Tensor:
        """Per-class weights ``[num_classes]`` or per-example weights ``[num_train]``."""
        ...


def example_weights(strategy: SamplerStrategy, context: EpochContext, name: str) -> torch.Tensor:
    """Ask ``strategy`` for this epoch's weights and expand them to one weight per example."""
    w = torch.as_tensor(strategy.weights(context), dtype=torch.float64).flatten()
    num_classes, num_train = len(context.class_counts), len(context.labels)
    if len(w) == num_classes and num_classes != num_train:
        w = w[context.labels]
    elif len(w) != num_train:
        raise PluginError(
            f"sampler strategy {name!r} returned {len(w)} weights; expected {num_classes} "
            f"(one per class) or {num_train} (one per training example)"
        )
    if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise PluginError(f"sampler strategy {name!r} returned negative, non-finite or all-zero weights")
    return w


def draw_epoch(weights: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices of one epoch: ``len(weights)`` draws, with replacement, proportional to weights.

    Uniform weights give a plain permutation (every example once), as a shuffled DataLoader does.
    """
    n = len(weights)
    if bool((weights == weights[0]).all()):
        return torch.randperm(n, generator=generator)
    return torch.multinomial(weights, n, replacement=True, generator=generator)
