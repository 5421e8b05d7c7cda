"""VGG19 with BatchNorm for 48x48 gray faces, as the efficiency report's "VGG19 (modified)".

The sixteen 3x3 convolutions of VGG19 (64x2, 128x2, 256x4, 512x4, 512x4), each followed by
BatchNorm and ReLU, with a 2x2 max-pool after each of the five stages (48 -> 24 -> 12 -> 6 ->
3 -> 1), then an adaptive average pool to 1x1 and a head far smaller than ImageNet VGG's
(which flattens 512 * 7 * 7 = 25088 features): 512 -> 4096 -> 4096 -> num_classes with ReLU
and dropout. With the default ``hidden = [4096, 4096]`` it costs 0.912 GMACs at 1x48x48, the
report's 0.913 "GFLOPs" (fvcore multiply-adds); ``hidden = []`` gives the single
``Linear(512, num_classes)`` head common in FER2013 VGG code (0.893 GMACs, 20 M parameters).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fer_models.backbones._common import apply_init, check_dropout, int_widths

VGG19_STAGES = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


class VGG19FER(nn.Module):
    """VGG19-BN features, adaptive pool, MLP head (``hidden`` widths, ``dropout``)."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1, hidden: Sequence[int] = (4096, 4096),
                 dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_chans
        for width, repeats in VGG19_STAGES:
            for _ in range(repeats):
                layers += [nn.Conv2d(prev, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                prev = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        head: list[nn.Module] = [nn.Flatten()]
        for width in hidden:
            head += [nn.Linear(prev, width), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            prev = width
        if not hidden:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(prev, num_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


def vgg19_fer(num_classes: int = 7, in_chans: int = 1, hidden: Sequence[int] = (4096, 4096),
              dropout: float = 0.5, init: str = "default") -> VGG19FER:
    """VGG19 with BatchNorm and a small FC head, for 48x48 gray faces (the report's modified VGG19).

    Options: ``hidden`` (head widths, default [4096, 4096]; [] for one linear layer),
    ``dropout`` (0.5), ``init`` (``"default"`` or ``"xavier"``, the efficiency report's choice).
    """
    model = VGG19FER(num_classes, in_chans, int_widths(hidden, None, "vgg19_fer hidden"),
                     check_dropout(dropout, "vgg19_fer dropout"))
    return apply_init(model, init, "vgg19_fer")
