"""CIFAR-style ResNet-18 for 48x48 faces or 40x40 crops.

He et al.'s ResNet-18 as commonly adapted to small images (e.g. the kuangliu/pytorch-cifar
layout): a 3x3 stride-1 stem convolution of 64 channels with BN and ReLU and **no** max-pool,
four stages of two BasicBlocks (3x3 conv-BN-ReLU-3x3 conv-BN plus shortcut, ReLU) of 64, 128,
256 and 512 channels, the last three starting at stride 2 with a 1x1 conv-BN projection
shortcut, then global average pooling and one linear layer. At 48x48 the stages run at
48, 24, 12 and 6 pixels (1.25 GMACs); at 40x40 at 40, 20, 10 and 5 (0.87 GMACs); 11.2 M
parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from fer_models.backbones._common import apply_init, check_dropout, int_widths, upsampler


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNetCIFAR(nn.Module):
    """3x3 stem (no max-pool), BasicBlock stages, global average pool, dropout, linear."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1, depths: Sequence[int] = (2, 2, 2, 2),
                 widths: Sequence[int] = (64, 128, 256, 512), dropout: float = 0.0, upsample: float = 1.0):
        super().__init__()
        self.upsample = upsampler(upsample, "resnet18_cifar")
        self.stem = nn.Sequential(nn.Conv2d(in_chans, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        blocks: list[nn.Module] = []
        prev = widths[0]
        for i, (depth, width) in enumerate(zip(depths, widths, strict=True)):
            for j in range(depth):
                blocks.append(BasicBlock(prev, width, stride=2 if i > 0 and j == 0 else 1))
                prev = width
        self.stages = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(prev, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(self.upsample(x))))


def resnet18_cifar(num_classes: int = 7, in_chans: int = 1, widths: Sequence[int] = (64, 128, 256, 512),
                   dropout: float = 0.0, init: str = "default", upsample: float = 1.0) -> ResNetCIFAR:
    """CIFAR-style ResNet-18 (3x3 stem, no max-pool, BasicBlocks [2,2,2,2]) for 48x48 or 40x40 input.

    Options: ``widths`` (4 stage widths, default [64, 128, 256, 512]), ``dropout`` before the
    classifier (0.0), ``init`` (``"default"`` or ``"xavier"``), ``upsample`` (resize the input by
    this factor first, bilinear; 1.0).
    """
    model = ResNetCIFAR(num_classes, in_chans, (2, 2, 2, 2), int_widths(widths, 4, "resnet18_cifar widths"),
                        check_dropout(dropout, "resnet18_cifar dropout"), upsample)
    return apply_init(model, init, "resnet18_cifar")


resnet18_cifar.default_crop = 40  # type: ignore[attr-defined]
