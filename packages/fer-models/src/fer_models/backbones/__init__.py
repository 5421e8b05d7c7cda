"""Built-in backbones, by registered name.

Every factory is ``name(num_classes=7, in_chans=1, **options) -> nn.Module``; the first line of
its docstring is the description ``fercli models`` shows. A factory may carry a
``default_crop`` attribute: the crop size (``[train.augment] crop_size``) it is meant to be
trained with, which ``fercli models`` also costs.
"""

from collections.abc import Callable

from torch import nn

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

BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "small_cnn": small_cnn,
    "baseline_cnn": baseline_cnn,
    "resemotenet": resemotenet,
    "vgg19_fer": vgg19_fer,
    "khaireddin_vgg": khaireddin_vgg,
    "resnet18_cifar": resnet18_cifar,
    "lean_cnn": lean_cnn,
    **TIMM_BACKBONES,
    "hf_vit": hf_vit,
}

__all__ = [
    "BACKBONES",
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
