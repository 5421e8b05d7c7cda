"""Strategies whose weights do not depend on the training history.

Every built-in strategy exposes, for the trainer's per-epoch log, ``focus`` (the class names it
favours, most favoured first) and ``class_weights`` (one multiplier per class, in the order of
the labels' classes, which the trainer passes as ``classes``: the 7, or FER+'s 8).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

from fer_core import CLASSES, EpochContext, class_index
from fer_core.errors import ConfigError


def class_weight_vector(weights: Mapping[str, float] | Sequence[float], what: str,
                        classes: Sequence[str] = CLASSES) -> torch.Tensor:
    """``{"disgust": 3, "fear": 2}`` (others 1) or one number per class -> a float64 tensor.

    ``classes``: the label's class names in output order (the 7, or FER+'s 8 with contempt).
    Raises :class:`ConfigError` starting with ``what`` on an unknown class name, a wrong length,
    a value that is not a number, or a negative or non-finite weight.
    """
    classes = tuple(classes)
    if isinstance(weights, Mapping):
        out = [1.0] * len(classes)
        for name, w in weights.items():
            try:
                out[class_index(str(name), classes)] = _number(w, what)
            except KeyError as exc:
                raise ConfigError(f"{what}: {exc.args[0]}") from None
    elif isinstance(weights, Sequence) and not isinstance(weights, str):
        if len(weights) != len(classes):
            raise ConfigError(f"{what}: expected {len(classes)} weights, got {len(weights)}")
        out = [_number(w, what) for w in weights]
    else:
        raise ConfigError(
            f"{what}: expected a table of class name = weight or a list of {len(classes)} numbers, "
            f"got {weights!r}"
        )
    if any(w < 0 or not math.isfinite(w) for w in out):
        raise ConfigError(f"{what}: weights must be finite and not negative")
    return torch.tensor(out, dtype=torch.float64)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{what}: weights must be numbers, got {value!r}")
    return float(value)


def inverse_frequency(class_counts: torch.Tensor) -> torch.Tensor:
    """``1 / count`` per class (0 for a class without training examples), float64."""
    counts = class_counts.double()
    return torch.where(counts > 0, 1.0 / counts.clamp(min=1), torch.zeros_like(counts))


def favoured(multipliers: Sequence[float], classes: Sequence[str] = CLASSES) -> list[str]:
    """Names of the classes with a multiplier above 1, largest first, ties by class index."""
    order = sorted(range(len(multipliers)), key=lambda c: (-multipliers[c], c))
    return [classes[c] for c in order if multipliers[c] > 1.0]


class Uniform:
    """Every training example equally likely (a plain shuffle)."""

    def __init__(self, classes: Sequence[str] = CLASSES) -> None:
        self.focus: list[str] = []
        self.class_weights: list[float] = [1.0] * len(classes)

    def weights(self, context: EpochContext) -> torch.Tensor:
        return torch.ones(len(context.class_counts), dtype=torch.float64)


class ClassWeights:
    """Fixed per-class sampling weights from the config, e.g. weights = {disgust = 3, fear = 2}."""

    def __init__(self, weights: Mapping[str, float] | Sequence[float] | None = None,
                 classes: Sequence[str] = CLASSES):
        self._weights = class_weight_vector(weights or {}, "class_weights strategy", classes)
        self.class_weights: list[float] = self._weights.tolist()
        self.focus: list[str] = favoured(self.class_weights, classes)

    def weights(self, context: EpochContext) -> torch.Tensor:
        return self._weights.clone()


class Balanced:
    """Inverse class frequency: every class drawn equally often in expectation."""

    def __init__(self, classes: Sequence[str] = CLASSES) -> None:
        self.focus: list[str] = []
        self.class_weights: list[float] = [1.0] * len(classes)

    def weights(self, context: EpochContext) -> torch.Tensor:
        w = inverse_frequency(context.class_counts)
        # As multipliers of a plain shuffle: how much more often each class is drawn than there.
        present = int((context.class_counts > 0).sum())
        self.class_weights = (w * len(context.labels) / max(present, 1)).tolist()
        return w
