"""Built-in losses, by registered name."""

from collections.abc import Callable
from typing import Any

from fer_models.losses.cross_entropy import cross_entropy
from fer_models.losses.focal import focal
from fer_models.losses.soft_target import soft_target_cross_entropy
from fer_models.losses.vote import pld

LOSSES: dict[str, Callable[..., Any]] = {
    "cross_entropy": cross_entropy,
    "focal": focal,
    "soft_target_cross_entropy": soft_target_cross_entropy,
    "pld": pld,
}

__all__ = ["LOSSES", "cross_entropy", "focal", "pld", "soft_target_cross_entropy"]
