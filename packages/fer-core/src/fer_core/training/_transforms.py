"""Tensor-side preprocessing: uint8 pixels to the normalised float input of every model."""

from __future__ import annotations

import torch

#: uint8 pixels are scaled to [0, 1] and normalised with these (FER2013 training-set statistics,
#: rounded).
MEAN, STD = 0.5077, 0.2550


def to_model_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``[N, C, H, W]`` -> normalised float32."""
    return (images.float() / 255.0 - MEAN) / STD

