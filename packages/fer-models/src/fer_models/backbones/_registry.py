"""Every built-in backbone factory by its registered name (imports them all, and torch).

:mod:`fer_models.plugin` registers each lazily (its module imported when first built); this table
is for code that wants them all (the tests, ``fercli models``).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from fer_models.backbones.baseline_cnn import baseline_cnn
from fer_models.backbones.hf_vit import hf_vit
from fer_models.backbones.khaireddin_vgg import khaireddin_vgg
from fer_models.backbones.lean_cnn import lean_cnn
from fer_models.backbones.resemotenet import resemotenet
from fer_models.backbones.resnet18_cifar import resnet18_cifar
from fer_models.backbones.small_cnn import small_cnn
from fer_models.backbones.timm_models import TIMM_BACKBONES
from fer_models.backbones.vgg19_fer import vgg19_fer

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

__all__ = ["BACKBONES"]
