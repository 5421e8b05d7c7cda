"""Checks shared by both inference backends (PyTorch and ONNX Runtime), without torch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fer_core.errors import ConfigError, NonFiniteOutputError

TTA_MODES = ("none", "flip", "tencrop")
#: Views each TTA mode averages over (the model's cost per face is multiplied by this).
TTA_VIEWS = {"none": 1, "flip": 2, "tencrop": 10}


def check_tta(tta: str, crop_size: int | None) -> str:
    """``tta`` when it is a mode this model can use, else a ConfigError."""
    if tta not in TTA_MODES:
        raise ConfigError(f"tta must be one of {list(TTA_MODES)}, got {tta!r}")
    if tta == "tencrop" and not crop_size:
        raise ConfigError("tta 'tencrop' needs a model trained on crops (its crop_size is not set)")
    return tta


def check_finite(probs: np.ndarray, source: str, names: Sequence[str] | None = None) -> None:
    """Raise :class:`~fer_core.errors.NonFiniteOutputError` when any row of ``probs`` holds NaN or
    infinity, naming the first such face (``names[i]``, e.g. its file, else its index) and ``source``."""
    if probs.size == 0 or np.isfinite(probs).all():
        return
    bad = np.flatnonzero(~np.isfinite(probs.reshape(len(probs), -1)).all(axis=1))
    first = names[bad[0]] if names is not None else f"face {bad[0]}"
    more = f" and {len(bad) - 1} more face(s)" if len(bad) > 1 else ""
    raise NonFiniteOutputError(f"model {source} gave NaN or infinite probabilities, not a label, "
                               f"for {first}{more}", [int(i) for i in bad])
