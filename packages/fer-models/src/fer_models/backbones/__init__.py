"""Built-in backbones, by registered name."""

from fer_models.backbones.small_cnn import SmallCNN, small_cnn

BACKBONES = {"small_cnn": small_cnn}

__all__ = ["BACKBONES", "SmallCNN", "small_cnn"]
