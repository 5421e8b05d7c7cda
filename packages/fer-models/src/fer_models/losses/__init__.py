"""Built-in losses, by registered name."""

from fer_models.losses.cross_entropy import cross_entropy
from fer_models.losses.focal import focal
from fer_models.losses.soft_target import soft_target_cross_entropy

LOSSES = {
    "cross_entropy": cross_entropy,
    "focal": focal,
    "soft_target_cross_entropy": soft_target_cross_entropy,
}

__all__ = ["LOSSES", "cross_entropy", "focal", "soft_target_cross_entropy"]
