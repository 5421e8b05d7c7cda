"""ResEmoteNet (Roy et al. 2024, arXiv:2409.10545), adapted to 48x48 gray faces.

As in the authors' code: a CNN stem of three 3x3 conv-BN-ReLU layers (64, 128, 256 channels),
each followed by a 2x2 max-pool (dropout 0.2 after the first two), a squeeze-and-excitation
block on the 256 channels (reduction 16), three residual blocks (two 3x3 conv-BN, a 1x1
conv-BN projection shortcut) of 512, 1024 and 2048 channels at stride 2, adaptive average
pooling, and a head 2048 -> 1024 -> 512 -> 256 -> num_classes with ReLU and dropout 0.5.

Adaptation: the paper feeds 64x64 RGB; here ``in_chans`` is 1 by default and the input is
48x48 (the stem pools to 6x6, the residual blocks to 3x3, 2x2 and 1x1). That costs 0.24 GMACs,
the efficiency report's figure for its ResEmoteNet. The report trained it with Xavier init
(``init = "xavier"``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fer_models.backbones._common import apply_init, check_dropout


class SEBlock(nn.Module):
    """Squeeze-and-excitation: channel gates from the globally pooled features (bias-free FCs)."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction, bias=False), nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels, bias=False), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc(x.mean(dim=(2, 3)))
        return x * gate[:, :, None, None]


class ResidualBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus a (projection) shortcut, then ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride),
                                          nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResEmoteNet(nn.Module):
    """CNN stem + SE block + 3 residual blocks + adaptive pooling + 4-layer FC head."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1, stem_dropout: float = 0.2,
                 head_dropout: float = 0.5):
        super().__init__()
        stem: list[nn.Module] = []
        prev = in_chans
        for i, width in enumerate((64, 128, 256)):
            stem += [nn.Conv2d(prev, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                     nn.MaxPool2d(2)]
            if i < 2:
                stem.append(nn.Dropout(stem_dropout))
            prev = width
        self.stem = nn.Sequential(*stem)
        self.se = SEBlock(256)
        self.res_blocks = nn.Sequential(ResidualBlock(256, 512, 2), ResidualBlock(512, 1024, 2),
                                        ResidualBlock(1024, 2048, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        head: list[nn.Module] = [nn.Flatten()]
        prev = 2048
        for width in (1024, 512, 256):
            head += [nn.Linear(prev, width), nn.ReLU(inplace=True), nn.Dropout(head_dropout)]
            prev = width
        head.append(nn.Linear(prev, num_classes))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.res_blocks(self.se(self.stem(x)))))


def resemotenet(num_classes: int = 7, in_chans: int = 1, stem_dropout: float = 0.2,
                head_dropout: float = 0.5, init: str = "default") -> ResEmoteNet:
    """ResEmoteNet (Roy et al. 2024): CNN stem, SE block, residual blocks, FC head; for 48x48.

    Options: ``stem_dropout`` (0.2), ``head_dropout`` (0.5), ``init`` (``"default"`` or
    ``"xavier"``, the efficiency report's choice).
    """
    model = ResEmoteNet(num_classes, in_chans, check_dropout(stem_dropout, "resemotenet stem_dropout"),
                        check_dropout(head_dropout, "resemotenet head_dropout"))
    return apply_init(model, init, "resemotenet")
