"""Tensor-side preprocessing and augmentation, applied to whole batches."""

from __future__ import annotations

import torch

#: uint8 pixels are scaled to [0, 1] and normalised with these (FER2013 training-set statistics,
#: rounded).
MEAN, STD = 0.5077, 0.2550


def to_model_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``[N, C, H, W]`` -> normalised float32."""
    return (images.float() / 255.0 - MEAN) / STD


def random_hflip(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Flip a random half of the batch left-right (one tensor op for the whole batch)."""
    flip = torch.rand(len(x), generator=generator) < 0.5
    flip = flip.to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)
