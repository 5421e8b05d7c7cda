"""Helpers shared by the built-in backbones: weight init and option checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from torch import nn

from fer_core.errors import ConfigError

INITS = ("default", "xavier")


def check_init(init: str, backbone: str) -> str:
    """``init`` if it is one of :data:`INITS`, else a :class:`ConfigError` naming the backbone."""
    if init not in INITS:
        raise ConfigError(f"backbone {backbone!r}: init must be one of {list(INITS)}, got {init!r}")
    return init


def xavier_init(model: nn.Module) -> nn.Module:
    """Xavier-uniform weights and zero biases for every conv and linear layer (norm layers untouched).

    The efficiency report initialised its from-scratch models this way.
    """
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


ModuleT = TypeVar("ModuleT", bound=nn.Module)


def apply_init(model: ModuleT, init: str, backbone: str) -> ModuleT:
    """Apply the ``init`` option: ``"default"`` keeps the layers' own init, ``"xavier"`` re-inits."""
    if check_init(init, backbone) == "xavier":
        xavier_init(model)
    return model


def int_widths(widths: Sequence[int], n: int | None, what: str) -> tuple[int, ...]:
    """``widths`` as a tuple of positive ints (exactly ``n`` of them when ``n`` is given)."""
    try:
        out = tuple(int(w) for w in widths)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: expected a list of integers, got {widths!r}") from None
    if (n is not None and len(out) != n) or any(w < 1 for w in out):
        count = f"{n} " if n is not None else ""
        raise ConfigError(f"{what}: expected {count}positive integers, got {list(widths)!r}")
    return out


def check_dropout(p: float, what: str) -> float:
    if not 0.0 <= float(p) < 1.0:
        raise ConfigError(f"{what}: dropout must be in [0, 1), got {p!r}")
    return float(p)


def upsampler(scale: float, what: str) -> nn.Module:
    """Bilinear upsampling of the input by ``scale`` (>= 1; 1 = none), a layer without weights.

    Kept outside the backbone's ``nn.Sequential`` parts, so the state dict's keys are the same
    with or without it. Upsampled input is one way an ensemble member differs from the others:
    every later layer sees the face at ``scale`` times the pixels (and costs ``scale**2`` the MACs).
    """
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: upsample must be a number >= 1, got {scale!r}") from None
    if not 1.0 <= s <= 8.0:
        raise ConfigError(f"{what}: upsample must be between 1 and 8, got {scale!r}")
    if s == 1.0:
        return nn.Identity()
    return nn.Upsample(scale_factor=s, mode="bilinear", align_corners=False)
