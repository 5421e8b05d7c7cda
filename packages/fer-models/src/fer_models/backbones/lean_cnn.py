"""A compute-lean CNN for 48x48 faces, aimed at the best accuracy per multiply-add.

Design (defaults; 0.043 GMACs and 1.16 M parameters at 1x48x48, 0.030 GMACs at 1x40x40):

* **Stem at full resolution, then a full conv to downsample.** A 3x3 conv (16 ch) at 48x48
  and a 3x3 stride-2 conv (16 -> 32) to 24x24. Ordinary convolutions are cheap when the channel
  counts are this small (3 M multiply-adds together) and learn edges far better than
  depthwise ones do from one gray channel.
* **Inverted-residual blocks** (MobileNetV2: 1x1 expand, 3x3 depthwise, 1x1 project, identity
  shortcut when the shape allows) in three stages at 24x24 (32 ch, 1 block, expansion 3),
  12x12 (64 ch, 3 blocks, expansion 4) and 6x6 (128 ch, 4 blocks, expansion 4); the first
  block of the last two stages has stride 2. The compute is spread roughly evenly over the
  three resolutions instead of piling up at 24x24, where a face is mostly texture.
* **Squeeze-and-excitation** (reduction 4 of the expanded width) in the 12x12 and 6x6 stages:
  nearly free in multiply-adds, and it lets the network weight face regions/channels globally.
* **Wide final stage**: the 6x6 stage expands to 512 channels inside each block, and a 1x1
  conv lifts the 128-channel output to 640 before global average pooling, dropout (0.2) and
  the linear classifier. Most parameters sit here, where the feature map is 36 pixels, so
  they cost few multiply-adds (the SE layers of the 6x6 stage hold 0.5 M of the 1.16 M).
* BatchNorm after every conv (the last BN of each residual block starts at zero, so each block
  starts as the identity), SiLU activations (``act = "relu"`` or ``"hardswish"`` also work),
  He-normal init by default.

It runs at 40x40 crops too (stages at 20, 10 and 5 pixels). Its accuracy has not been
measured yet; train it with the same recipe as the backbones it is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fer_core.errors import ConfigError
from fer_models.backbones._common import apply_init, check_dropout, int_widths

ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU, "hardswish": nn.Hardswish}


def _conv_bn(in_ch: int, out_ch: int, k: int, stride: int = 1, groups: int = 1,
             act: type[nn.Module] | None = None) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, k, stride, k // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(out_ch)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int, act: type[nn.Module]):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.act = act()
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean(dim=(2, 3), keepdim=True)
        return x * torch.sigmoid(self.expand(self.act(self.reduce(s))))


class InvertedResidual(nn.Module):
    """1x1 expand - 3x3 depthwise (stride) - [SE] - 1x1 project, plus identity when shapes match."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, expand: int, se: bool, act: type[nn.Module]):
        super().__init__()
        hidden = in_ch * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn(in_ch, hidden, 1, act=act))
        layers.append(_conv_bn(hidden, hidden, 3, stride, groups=hidden, act=act))
        if se:
            layers.append(SqueezeExcite(hidden, max(8, hidden // 4), act))
        layers.append(_conv_bn(hidden, out_ch, 1))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return x + out if self.residual else out


class LeanCNN(nn.Module):
    def __init__(self, num_classes: int = 7, in_chans: int = 1, stem_width: int = 16,
                 widths: Sequence[int] = (32, 64, 128), depths: Sequence[int] = (1, 3, 4),
                 expand: Sequence[int] = (3, 4, 4), se: Sequence[bool] = (False, True, True),
                 head_width: int = 640, dropout: float = 0.2, act: str = "silu"):
        super().__init__()
        if act not in ACTIVATIONS:
            raise ConfigError(f"lean_cnn act must be one of {sorted(ACTIVATIONS)}, got {act!r}")
        if not len(widths) == len(depths) == len(expand) == len(se):
            raise ConfigError("lean_cnn: widths, depths, expand and se need one entry per stage, got "
                              f"{list(widths)}, {list(depths)}, {list(expand)}, {list(se)}")
        a = ACTIVATIONS[act]
        self.stem = nn.Sequential(_conv_bn(in_chans, stem_width, 3, act=a),
                                  _conv_bn(stem_width, widths[0], 3, 2, act=a))
        blocks: list[nn.Module] = []
        prev = widths[0]
        for i, (width, depth, e, s) in enumerate(zip(widths, depths, expand, se, strict=True)):
            for j in range(depth):
                blocks.append(InvertedResidual(prev, width, 2 if i > 0 and j == 0 else 1, e, bool(s), a))
                prev = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(_conv_bn(prev, head_width, 1, act=a), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Dropout(dropout), nn.Linear(head_width, num_classes))
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)
        for m in self.modules():
            if isinstance(m, InvertedResidual) and m.residual:
                project = m.block[-1]  # _conv_bn(hidden, out_ch, 1): conv, BN
                assert isinstance(project, nn.Sequential) and isinstance(project[1], nn.BatchNorm2d)
                nn.init.zeros_(project[1].weight)  # the projection's BN: start as the identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


def lean_cnn(num_classes: int = 7, in_chans: int = 1, stem_width: int = 16,
             widths: Sequence[int] = (32, 64, 128), depths: Sequence[int] = (1, 3, 4),
             expand: Sequence[int] = (3, 4, 4), se: Sequence[bool] = (False, True, True),
             head_width: int = 640, dropout: float = 0.2, act: str = "silu",
             init: str = "default") -> LeanCNN:
    """Compute-lean inverted-residual CNN with SE and a wide final stage (0.04 GMACs at 48x48).

    Options (one entry per stage for the lists): ``stem_width`` (16), ``widths`` ([32, 64,
    128]), ``depths`` ([1, 3, 4]), ``expand`` ([3, 4, 4]), ``se`` ([false, true, true]),
    ``head_width`` (640), ``dropout`` (0.2), ``act`` (``"silu"``, ``"relu"``, ``"hardswish"``),
    ``init`` (``"default"`` = He-normal, or ``"xavier"``).
    """
    model = LeanCNN(num_classes, in_chans, int(stem_width), int_widths(widths, None, "lean_cnn widths"),
                    int_widths(depths, None, "lean_cnn depths"), int_widths(expand, None, "lean_cnn expand"),
                    tuple(bool(s) for s in se), int(head_width), check_dropout(dropout, "lean_cnn dropout"),
                    act)
    return apply_init(model, init, "lean_cnn")
