"""Built-in losses, by registered name."""

from fer_models.losses.cross_entropy import cross_entropy

LOSSES = {"cross_entropy": cross_entropy}

__all__ = ["LOSSES", "cross_entropy"]
