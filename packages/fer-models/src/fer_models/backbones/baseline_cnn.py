"""The efficiency report's baseline: three conv-ReLU-maxpool blocks, then five linear layers.

The report gives the shape (three ``Conv -> ReLU -> MaxPool`` blocks, flatten, five linear
layers with ReLU between them, the last one ``Linear(144, 7)``) and the cost (0.3275 "GFLOPs"
by fvcore, which counts a multiply-add as one flop: 0.3275 GMACs), not the widths. The
defaults here are chosen to land on that cost: 3x3 convolutions (padding 1) of 128, 256 and
384 channels, 2x2 max-pools (48 -> 24 -> 12 -> 6), a 384 * 6 * 6 = 13824 feature vector, then
linear layers 13824 -> 2048 -> 512 -> 256 -> 144 -> 7: 0.3295 GMACs (0.659 GFLOPs at 2 FLOPs
per multiply-add) and 30.7 M parameters at 1x48x48, within 1 % of the report's figure.

An adaptive average pool to 6x6 sits before the flatten: the identity at 48x48, and it lets
other input sizes (a 40x40 crop) through.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fer_models.backbones._common import apply_init, int_widths


class BaselineCNN(nn.Module):
    """Conv-ReLU-MaxPool x3, flatten, (Linear-ReLU) x len(hidden), Linear(hidden[-1], num_classes)."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1,
                 conv_widths: Sequence[int] = (128, 256, 384),
                 hidden: Sequence[int] = (2048, 512, 256, 144)):
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_chans
        for width in conv_widths:
            layers += [nn.Conv2d(prev, width, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            prev = width
        layers.append(nn.AdaptiveAvgPool2d(6))
        self.features = nn.Sequential(*layers)
        head: list[nn.Module] = [nn.Flatten()]
        prev = prev * 6 * 6
        for width in hidden:
            head += [nn.Linear(prev, width), nn.ReLU(inplace=True)]
            prev = width
        head.append(nn.Linear(prev, num_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def baseline_cnn(num_classes: int = 7, in_chans: int = 1, conv_widths: Sequence[int] = (128, 256, 384),
                 hidden: Sequence[int] = (2048, 512, 256, 144), init: str = "default") -> BaselineCNN:
    """The efficiency report's baseline CNN: 3 conv-ReLU-maxpool blocks and 5 linear layers.

    Options: ``conv_widths`` (3 ints), ``hidden`` (the widths of the linear layers before the
    classifier; default 4 of them, the last 144), ``init`` (``"default"`` or ``"xavier"``).
    """
    return apply_init(
        BaselineCNN(num_classes, in_chans, int_widths(conv_widths, 3, "baseline_cnn conv_widths"),
                    int_widths(hidden, None, "baseline_cnn hidden")),
        init, "baseline_cnn")
