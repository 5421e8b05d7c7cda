"""The adaptive strategy of the adaptive-training report: each epoch, boost the weakest classes.

Before epoch ``e > 0`` it reads the per-class F1 on the selection split from the last finished
epoch (``context.history[-1]["select"]["per_class_f1"]``), picks the ``k`` classes with the
lowest F1 (ties: lower class index first; classes without training examples are never picked)
and multiplies their sampling weight by a boost in ``[min, max]`` chosen by ``rule``:

- ``"rank"``: the weakest gets ``max``, the k-th weakest ``min``, linear in rank between;
- ``"fixed"``: every focus class gets ``max``;
- ``"gap"``: proportional to how far below the mean F1 the class is, scaled so the weakest gets
  ``max``, clipped to ``[min, max]`` (all ``min`` when no focus class is below the mean).

Epoch 0 (no history) uses the base weights alone. The strategy keeps no state between epochs:
its weights are a pure function of the context, so a checkpoint needs nothing from it.

>>> import torch
>>> from fer_core import EpochContext
>>> f1 = [0.5, 0.1, 0.3, 0.9, 0.5, 0.8, 0.6]
>>> ctx = EpochContext(1, torch.full((7,), 10), torch.arange(70) // 10, [{"select": {"per_class_f1": f1}}])
>>> s = Adaptive()
>>> s.weights(ctx).tolist(), s.focus
([1.0, 5.0, 3.0, 1.0, 1.0, 1.0, 1.0], ['disgust', 'fear'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from fer_core import CLASSES, EpochContext
from fer_core.errors import ConfigError, PluginError
from fer_models.strategies.static import inverse_frequency

RULES = ("rank", "fixed", "gap")
BASES = ("uniform", "balanced")


def _option_error(option: str, value: object, allowed: str) -> ConfigError:
    return ConfigError(f"adaptive strategy: option {option} = {value!r} is not allowed; {allowed}")


def _check_k(k: object, num_classes: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= num_classes:
        raise _option_error("k", k, f"expected an integer from 1 to {num_classes}")
    return k


def _check_boost(boost: object) -> tuple[float, float]:
    allowed = "expected two numbers [min, max] with 1 <= min <= max"
    if (
        not isinstance(boost, Sequence) or isinstance(boost, str) or len(boost) != 2
        or any(isinstance(b, bool) or not isinstance(b, int | float) for b in boost)
    ):
        raise _option_error("boost", boost, allowed)
    lo, hi = float(boost[0]), float(boost[1])
    if not (math.isfinite(hi) and 1.0 <= lo <= hi):
        raise _option_error("boost", boost, allowed)
    return lo, hi


def _check_choice(option: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _option_error(option, value, "allowed values: " + ", ".join(choices))
    return str(value)


def last_select_f1(history: Sequence[dict[str, Any]], num_classes: int) -> list[float] | None:
    """Per-class select F1 of the last finished epoch, or ``None`` before the first one."""
    if not history:
        return None
    try:
        f1 = [float(v) for v in history[-1]["select"]["per_class_f1"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise PluginError(
            "adaptive strategy needs history[-1]['select']['per_class_f1'] (a list of per-class F1); "
            f"could not read it: {type(exc).__name__}: {exc}"
        ) from None
    if len(f1) != num_classes or not all(math.isfinite(v) for v in f1):
        raise PluginError(
            f"adaptive strategy: per_class_f1 must be {num_classes} finite numbers, got {f1}"
        )
    return f1


def weakest(f1: Sequence[float], k: int, candidates: Sequence[int]) -> list[int]:
    """The ``k`` candidate classes with the lowest F1, weakest first; ties by class index."""
    return sorted(candidates, key=lambda c: (f1[c], c))[:k]


def boosts(
    f1: Sequence[float], focus: Sequence[int], lo: float, hi: float, rule: str, mean: float
) -> list[float]:
    """The boost of each focus class (same order as ``focus``) under ``rule``."""
    if rule == "fixed" or (rule == "rank" and len(focus) == 1):
        return [hi] * len(focus)
    if rule == "rank":
        step = (hi - lo) / (len(focus) - 1)
        return [hi - i * step for i in range(len(focus))]
    top_gap = mean - f1[focus[0]]  # the weakest class's gap, the largest
    if top_gap <= 0:
        return [lo] * len(focus)
    return [min(hi, max(lo, hi * (mean - f1[c]) / top_gap)) for c in focus]


class Adaptive:
    """Boost the k weakest classes by last epoch's select F1 (options: k, boost, rule, base)."""

    def __init__(
        self,
        k: int = 2,
        boost: Sequence[float] = (3.0, 5.0),
        rule: str = "rank",
        base: str = "uniform",
        classes: Sequence[str] = CLASSES,
    ):
        self.k = _check_k(k, len(classes))
        self.boost = _check_boost(boost)
        self.rule = _check_choice("rule", rule, RULES)
        self.base = _check_choice("base", base, BASES)
        # What the last weights() call chose, for the trainer's per-epoch log.
        self.focus: list[str] = []
        self.classes = tuple(classes)
        self.class_weights: list[float] = [1.0] * len(self.classes)

    def multipliers(self, context: EpochContext) -> tuple[list[int], list[float]]:
        """Focus class indices (weakest first) and the per-class multipliers for ``context``."""
        num_classes = len(context.class_counts)
        out = [1.0] * num_classes
        f1 = last_select_f1(context.history, num_classes)
        if f1 is None:
            return [], out
        candidates = [c for c in range(num_classes) if context.class_counts[c] > 0]
        if not candidates:
            return [], out
        focus = weakest(f1, self.k, candidates)
        mean = sum(f1[c] for c in candidates) / len(candidates)
        for c, b in zip(focus, boosts(f1, focus, *self.boost, self.rule, mean), strict=True):
            out[c] = b
        return focus, out

    def weights(self, context: EpochContext) -> torch.Tensor:
        focus, multipliers = self.multipliers(context)
        self.focus = [self.classes[c] for c in focus]
        self.class_weights = multipliers
        w = torch.tensor(multipliers, dtype=torch.float64)
        if self.base == "balanced":
            w = w * inverse_frequency(context.class_counts)
        return w
