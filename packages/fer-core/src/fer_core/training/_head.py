"""Warm starts across class sets: a 7-class model's weights as the start of an 8-class one.

When ``--init`` weights were trained on other classes than the new run's labels (FER2013's 7 and
FER+'s 8, say), every tensor fits but the head's: its rows are one per class. The rows of the
classes both sets share are copied by name; a class new to the model keeps the fresh rows the
backbone was built with, and a class the new labels lack is dropped. Any other mismatch is left
for ``load_state_dict`` to report.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def fit_head(
    weights: dict[str, torch.Tensor],
    model_state: dict[str, torch.Tensor],
    old_classes: Sequence[str],
    new_classes: Sequence[str],
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """``weights`` with their class rows re-mapped to ``new_classes``; and the keys re-mapped.

    Only tensors whose shape differs from the model's and whose first dimension is the old class
    count (the model's being the new count, the rest of the shape equal) are re-mapped.

    >>> import torch
    >>> old = {"head.weight": torch.ones(2, 3), "head.bias": torch.ones(2)}
    >>> new = {"head.weight": torch.zeros(3, 3), "head.bias": torch.zeros(3)}
    >>> fitted, keys = fit_head(old, new, ["a", "b"], ["a", "b", "c"])
    >>> fitted["head.bias"].tolist(), keys
    ([1.0, 1.0, 0.0], ['head.weight', 'head.bias'])
    """
    if list(old_classes) == list(new_classes):
        return weights, []
    fitted = dict(weights)
    remapped: list[str] = []
    for key, tensor in weights.items():
        target = model_state.get(key)
        if (target is None or tensor.shape == target.shape or tensor.ndim == 0
                or tensor.shape[0] != len(old_classes) or target.shape[0] != len(new_classes)
                or tensor.shape[1:] != target.shape[1:]):
            continue
        rows = target.detach().clone()
        for i, name in enumerate(new_classes):
            if name in old_classes:
                rows[i] = tensor[list(old_classes).index(name)]
        fitted[key] = rows
        remapped.append(key)
    return fitted, remapped
