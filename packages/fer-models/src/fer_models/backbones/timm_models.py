"""Backbones from timm, built by name, with optional Xavier init and local pretrained weights.

Every factory calls ``timm.create_model(name, pretrained=False, in_chans=in_chans,
num_classes=num_classes, **options)``: the remaining options (``drop_rate``,
``drop_path_rate``, ...) go to timm. Two options are handled here:

* ``init = "xavier"``: Xavier-uniform weights and zero biases for every conv and linear layer,
  as the efficiency report did for its from-scratch EfficientNet/MobileNet runs; the default
  ``"default"`` keeps timm's init.
* ``pretrained = "PATH"``: load a **local** state dict (``.safetensors`` or ``.pth``) over the
  fresh model; the stem is adapted to ``in_chans`` and a mismatched classifier dropped, the way
  timm adapts its own pretrained weights (see :mod:`fer_models.backbones.pretrained`).
  ``pretrained_strict = false`` turns "keys that do not fit" from an error into a warning.
  Nothing is ever downloaded: ``pretrained = true`` is an error.

A note on the run folder: the options are saved with the run, and rebuilding the model to load
its trained weights (``fercli evaluate``) reads the ``pretrained`` file again before the
trained weights replace it, so keep the file where it was (or drop the option when
evaluating elsewhere).

These ImageNet models downsample by 32: a 48x48 face (or a 40x40 crop) ends as a 2x2 map
before their global pooling.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from fer_core.errors import ConfigError
from fer_models.backbones._common import apply_init, check_init


def create_timm_backbone(model_name: str, num_classes: int = 7, in_chans: int = 1, *,
                         init: str = "default", pretrained: str | Path | None = None,
                         pretrained_strict: bool = True, backbone: str = "timm", **options: Any) -> nn.Module:
    """``timm.create_model(model_name, pretrained=False, ...)`` plus the ``init`` and local ``pretrained``."""
    import timm

    check_init(init, backbone)
    if isinstance(pretrained, bool) or (pretrained is not None and not isinstance(pretrained, (str, Path))):
        raise ConfigError(f"backbone {backbone!r}: pretrained must be the path of a local .safetensors or "
                          f".pth file (weights are never downloaded), got {pretrained!r}")
    if not isinstance(model_name, str) or not timm.is_model(model_name):
        raise ConfigError(f"backbone {backbone!r}: timm has no model named {model_name!r} "
                          f"(see timm.list_models())")
    model = timm.create_model(model_name, pretrained=False, in_chans=in_chans, num_classes=num_classes,
                              **options)
    apply_init(model, init, backbone)
    if pretrained:
        from fer_models.backbones.pretrained import load_pretrained_file

        load_pretrained_file(model, pretrained, in_chans, strict=bool(pretrained_strict))
    return model


def timm_backbone(num_classes: int = 7, in_chans: int = 1, model_name: str | None = None,
                  **options: Any) -> nn.Module:
    """Any timm model, named by the option model_name, built without downloading (init, pretrained, timm's).

    ``model_name`` is required (``timm.list_models()``); ``init`` (``"default"`` or
    ``"xavier"``), ``pretrained`` (a local file), ``pretrained_strict`` and timm's own keyword
    arguments (``drop_rate``, ``drop_path_rate``, ...) are passed on.
    """
    if not model_name:
        raise ConfigError("backbone 'timm' needs the option model_name (a timm model, e.g. 'resnet18')")
    return create_timm_backbone(model_name, num_classes, in_chans, backbone="timm", **options)


def _named(registered: str, timm_name: str, description: str) -> Callable[..., nn.Module]:
    def factory(num_classes: int = 7, in_chans: int = 1, **options: Any) -> nn.Module:
        if "model_name" in options:
            raise ConfigError(f"backbone {registered!r} is timm's {timm_name!r}; use backbone 'timm' "
                              f"with model_name for another timm model")
        return create_timm_backbone(timm_name, num_classes, in_chans, backbone=registered, **options)

    factory.__name__ = factory.__qualname__ = registered
    factory.__doc__ = (f"{description} (timm {timm_name}; options: init, pretrained, timm's).\n\n"
                       f"``timm.create_model({timm_name!r}, pretrained=False, ...)``; ``init`` "
                       f"(``\"default\"`` or ``\"xavier\"``), ``pretrained`` (a local file) and\n"
                       f"``pretrained_strict`` as described in :mod:`fer_models.backbones.timm_models`.\n")
    factory.timm_name = timm_name  # type: ignore[attr-defined]
    return factory


efficientnet_b0 = _named("efficientnet_b0", "efficientnet_b0", "EfficientNet-B0")
efficientnet_b1 = _named("efficientnet_b1", "efficientnet_b1", "EfficientNet-B1")
# timm's own "efficientnetv2_s" has no published weights; "tf_efficientnetv2_s" (the Google
# port, TF "same" padding) is the S variant with ImageNet-1k/21k weights to start from.
efficientnetv2_s = _named("efficientnetv2_s", "tf_efficientnetv2_s", "EfficientNetV2-S")
mobilenetv3_large = _named("mobilenetv3_large", "mobilenetv3_large_100", "MobileNetV3-Large 1.0")

TIMM_BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "efficientnet_b0": efficientnet_b0,
    "efficientnet_b1": efficientnet_b1,
    "efficientnetv2_s": efficientnetv2_s,
    "mobilenetv3_large": mobilenetv3_large,
    "timm": timm_backbone,
}
