"""The VGG variant of Khaireddin & Chen 2021, "Facial Emotion Recognition: State of the Art
Performance on FER2013" (arXiv:2105.03588; 73.28 % single-model PrivateTest accuracy).

As in the paper and the authors' code (github.com/usef-kh/fer, ``models/vgg.py``):

* four stages of two 3x3 convolutions (padding 1, with bias) each followed by BatchNorm and
  ReLU, of 64, 128, 256 and 512 channels, each stage ending in a 2x2 max-pool;
* three fully connected layers, 512 * 2 * 2 -> 4096 -> 4096 -> num_classes, the first two
  followed by dropout (p = 0.2 in the code) and ReLU;
* trained on 40x40 crops (ten-crop at test time), where the four pools give 40 -> 20 -> 10 ->
  5 -> 2, hence the 2x2x512 flatten.

Choice made here: an adaptive average pool to 2x2 sits before the flatten. It is the identity
for 40x40 crops, so the network is exactly the paper's there, and it turns the 3x3 map of a
full 48x48 face into 2x2 so the same weights run on both sizes. Set
``[train.augment] crop_size = 40`` (and ``tta = "tencrop"``) to follow the paper's recipe.
Cost: 0.35 GMACs at 1x40x40, 0.49 GMACs at 1x48x48; 29.9 M parameters (25 M of them in the
4096-wide head).
"""

from __future__ import annotations

import torch
from torch import nn

from fer_models.backbones._common import apply_init, check_dropout

STAGES = (64, 128, 256, 512)


class KhaireddinVGG(nn.Module):
    """4 x (conv-BN-ReLU x2 + maxpool), adaptive pool to 2x2, FC 2048-4096-4096-num_classes."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1, dropout: float = 0.2, hidden: int = 4096):
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_chans
        for width in STAGES:
            for _ in range(2):
                layers += [nn.Conv2d(prev, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                prev = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(prev * 2 * 2, hidden), nn.Dropout(dropout), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.Dropout(dropout), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


def khaireddin_vgg(num_classes: int = 7, in_chans: int = 1, dropout: float = 0.2, hidden: int = 4096,
                   init: str = "default") -> KhaireddinVGG:
    """The VGG of Khaireddin & Chen 2021 (73.28 % on FER2013), for 40x40 crops or 48x48 faces.

    Options: ``dropout`` (0.2, the authors' code), ``hidden`` (FC width, 4096), ``init``
    (``"default"`` or ``"xavier"``).
    """
    model = KhaireddinVGG(num_classes, in_chans, check_dropout(dropout, "khaireddin_vgg dropout"),
                          int(hidden))
    return apply_init(model, init, "khaireddin_vgg")


khaireddin_vgg.default_crop = 40  # type: ignore[attr-defined]  # the paper's training crop
