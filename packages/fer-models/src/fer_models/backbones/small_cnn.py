"""A small plain CNN for 48x48 faces: conv-BN-ReLU blocks, global pooling, one linear head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fer_models.backbones._common import upsampler


class SmallCNN(nn.Module):
    """``len(widths)`` blocks of (3x3 conv, BN, ReLU) x2 + 2x2 max-pool, then pool and classify.

    ``stem_stride = 2`` makes the very first convolution stride 2: every later layer then runs
    at a quarter of the pixels (about 4x fewer MACs), for fast models. ``upsample = s`` first
    resizes the input by ``s`` (bilinear; a 40x40 crop at 1.5 runs at 60x60).
    """

    def __init__(
        self, num_classes: int = 7, in_chans: int = 1, widths: Sequence[int] = (32, 64, 128),
        dropout: float = 0.2, stem_stride: int = 1, upsample: float = 1.0,
    ):
        super().__init__()
        self.upsample = upsampler(upsample, "small_cnn")
        layers: list[nn.Module] = []
        prev = in_chans
        for width in widths:
            for _ in range(2):
                stride = stem_stride if not layers else 1
                layers += [nn.Conv2d(prev, width, 3, stride=stride, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                prev = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(prev, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.upsample(x)))


def small_cnn(num_classes: int = 7, in_chans: int = 1, widths: Sequence[int] = (32, 64, 128),
              dropout: float = 0.2, stem_stride: int = 1, upsample: float = 1.0) -> SmallCNN:
    """Small plain CNN for 48x48 gray faces (options: widths, dropout, stem_stride 1 or 2, upsample)."""
    if stem_stride not in (1, 2):
        from fer_core.errors import ConfigError

        raise ConfigError(f"small_cnn: stem_stride must be 1 or 2, got {stem_stride}")
    return SmallCNN(num_classes, in_chans, tuple(widths), dropout, stem_stride, upsample)
