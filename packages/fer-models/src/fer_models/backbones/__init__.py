"""Built-in backbones, by registered name.

Every factory is ``name(num_classes=7, in_chans=1, **options) -> nn.Module``; the first line of
its docstring is the description ``fercli models`` shows. A factory may carry a
``default_crop`` attribute: the crop size (``[train.augment] crop_size``) it is meant to be
trained with, which ``fercli models`` also costs.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from fer_core._lazy import lazy_exports

if TYPE_CHECKING:  # what __getattr__ hands out, as type checkers and IDEs should see it
    from fer_models.backbones._registry import BACKBONES
    from fer_models.backbones.baseline_cnn import BaselineCNN, baseline_cnn
    from fer_models.backbones.hf_vit import HFImageClassifier, hf_vit
    from fer_models.backbones.khaireddin_vgg import KhaireddinVGG, khaireddin_vgg
    from fer_models.backbones.lean_cnn import LeanCNN, lean_cnn
    from fer_models.backbones.resemotenet import ResEmoteNet, resemotenet
    from fer_models.backbones.resnet18_cifar import ResNetCIFAR, resnet18_cifar
    from fer_models.backbones.small_cnn import SmallCNN, small_cnn
    from fer_models.backbones.timm_models import (
        TIMM_BACKBONES,
        create_timm_backbone,
        efficientnet_b0,
        efficientnet_b1,
        efficientnetv2_s,
        mobilenetv3_large,
        timm_backbone,
    )
    from fer_models.backbones.vgg19_fer import VGG19FER, vgg19_fer

# Each name imports only its own module on first use: loading a small_cnn model imports
# small_cnn.py, not every backbone (nor timm, nor transformers).
_MODULES: dict[str, tuple[str, ...]] = {
    "_registry": ("BACKBONES",),
    "baseline_cnn": ("BaselineCNN", "baseline_cnn"),
    "hf_vit": ("HFImageClassifier", "hf_vit"),
    "khaireddin_vgg": ("KhaireddinVGG", "khaireddin_vgg"),
    "lean_cnn": ("LeanCNN", "lean_cnn"),
    "resemotenet": ("ResEmoteNet", "resemotenet"),
    "resnet18_cifar": ("ResNetCIFAR", "resnet18_cifar"),
    "small_cnn": ("SmallCNN", "small_cnn"),
    "timm_models": ("TIMM_BACKBONES", "create_timm_backbone", "efficientnet_b0", "efficientnet_b1",
                    "efficientnetv2_s", "mobilenetv3_large", "timm_backbone"),
    "vgg19_fer": ("VGG19FER", "vgg19_fer"),
}
_LAZY = {name: f"fer_models.backbones.{module}" for module, names in _MODULES.items() for name in names}

__all__ = [
    "BACKBONES",
    "TIMM_BACKBONES",
    "VGG19FER",
    "BaselineCNN",
    "HFImageClassifier",
    "KhaireddinVGG",
    "LeanCNN",
    "ResEmoteNet",
    "ResNetCIFAR",
    "SmallCNN",
    "baseline_cnn",
    "create_timm_backbone",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnetv2_s",
    "hf_vit",
    "khaireddin_vgg",
    "lean_cnn",
    "mobilenetv3_large",
    "resemotenet",
    "resnet18_cifar",
    "small_cnn",
    "timm_backbone",
    "vgg19_fer",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)


class _Backbones(types.ModuleType):
    """Importing ``fer_models.backbones.small_cnn`` binds the submodule on this package; the
    factory of that name keeps the name (``fer_models.backbones.small_cnn`` is the function, as
    when this package imported every backbone)."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == value.__name__ and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Backbones
