"""The loss formulas, for hard targets (class indices ``[N]``) and soft targets (``[N, C]``).

Soft targets are probability rows (MixUp/CutMix mixes, FER+ vote distributions); hard targets
are turned into one-hot rows, so a class index and its one-hot row give the same loss.
Class weights follow torch's ``F.cross_entropy(weight=...)`` convention: the batch sum is
divided by the total weight of the targets, ``sum_n sum_c w_c t_nc``, instead of by ``N``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from fer_core.errors import ConfigError


def is_soft(logits: Tensor, targets: Tensor) -> bool:
    """Whether ``targets`` are probability rows (same shape as ``logits``) rather than indices."""
    return targets.dim() == logits.dim()


def as_soft_targets(logits: Tensor, targets: Tensor) -> Tensor:
    """Targets as probability rows ``[N, C]`` in the dtype and device of ``logits``."""
    if not is_soft(logits, targets):
        return F.one_hot(targets.long(), logits.shape[-1]).to(logits)
    if targets.shape != logits.shape:
        raise ValueError(f"soft targets must have the shape of the logits {tuple(logits.shape)}, "
                         f"got {tuple(targets.shape)}")
    return targets.to(logits)


def check_label_smoothing(value: object, what: str) -> float:
    """``value`` as a float in ``[0, 1]``, or a ConfigError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{what}: option label_smoothing = {value!r} is not allowed; "
                          "expected a number from 0 to 1")
    return float(value)


def focal_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    gamma: float = 2.0,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Multi-class focal loss (Lin et al. 2017), generalised to soft targets.

    Per example ``sum_c w_c t'_c (1 - p_c)^gamma (-log p_c)`` where ``p = softmax(logits)`` and
    ``t' = (1 - label_smoothing) t + label_smoothing / C``; averaged over the batch (weighted
    by ``sum_c w_c t_c`` when ``weight`` is given). ``gamma = 0`` is cross-entropy.
    """
    t = as_soft_targets(logits, targets)
    log_p = F.log_softmax(logits, dim=-1)
    smoothed = t * (1.0 - label_smoothing) + label_smoothing / logits.shape[-1]
    terms = -log_p * smoothed
    if gamma:
        # 1 - p computed as -expm1(log p) stays accurate near p = 1; the clamp keeps the
        # gradient of (1 - p)^gamma finite for gamma < 1 when p rounds to exactly 1.
        terms = terms * (-torch.expm1(log_p)).clamp(min=1e-12).pow(gamma)
    if weight is None:
        return terms.sum(dim=-1).mean()
    w = weight.to(logits)
    return (terms * w).sum() / (t * w).sum()


def soft_cross_entropy(
    logits: Tensor, targets: Tensor, *, weight: Tensor | None = None, label_smoothing: float = 0.0
) -> Tensor:
    """Cross-entropy for hard or soft targets: ``focal_loss`` with ``gamma = 0``.

    Without weight and smoothing this is timm's ``SoftTargetCrossEntropy``:
    ``mean_n sum_c -t_nc log_softmax(logits)_nc``.
    """
    return focal_loss(logits, targets, gamma=0.0, weight=weight, label_smoothing=label_smoothing)
