"""The entry point of fer-models' built-ins (``[project.entry-points.fer]`` in pyproject.toml).

Loading it imports no torch: each name is registered with a :func:`fer_core.lazy` factory that
imports its module when a model, strategy or loss is first built (or its options are checked),
and with its description here (the first line of the factory's docstring;
``tests/cli/test_lazy_imports.py`` checks that the two agree and that every entry of
:data:`fer_models.backbones.BACKBONES`, ``STRATEGIES`` and ``LOSSES`` is registered).
"""

from __future__ import annotations

from fer_core import Register, hookimpl, lazy

_B = "fer_models.backbones."
_TIMM = "fer_models.backbones.timm_models:"
_TIMM_OPTIONS = "options: init, pretrained, timm's"

#: name -> (``module:factory``, description), for each registry hook
BACKBONES: dict[str, tuple[str, str]] = {
    "small_cnn": (_B + "small_cnn:small_cnn",
                  "Small plain CNN for 48x48 gray faces (options: widths, dropout, stem_stride 1 or 2, "
                  "upsample)."),
    "baseline_cnn": (_B + "baseline_cnn:baseline_cnn",
                     "The efficiency report's baseline CNN: 3 conv-ReLU-maxpool blocks and 5 linear "
                     "layers."),
    "resemotenet": (_B + "resemotenet:resemotenet",
                    "ResEmoteNet (Roy et al. 2024): CNN stem, SE block, residual blocks, FC head; for "
                    "48x48."),
    "vgg19_fer": (_B + "vgg19_fer:vgg19_fer",
                  "VGG19 with BatchNorm and a small FC head, for 48x48 gray faces (the report's modified "
                  "VGG19)."),
    "khaireddin_vgg": (_B + "khaireddin_vgg:khaireddin_vgg",
                       "The VGG of Khaireddin & Chen 2021 (73.28 % on FER2013), for 40x40 crops or 48x48 "
                       "faces."),
    "resnet18_cifar": (_B + "resnet18_cifar:resnet18_cifar",
                       "CIFAR-style ResNet-18 (3x3 stem, no max-pool, BasicBlocks [2,2,2,2]) for 48x48 or "
                       "40x40 input."),
    "lean_cnn": (_B + "lean_cnn:lean_cnn",
                 "Compute-lean inverted-residual CNN with SE and a wide final stage (0.04 GMACs at 48x48)."),
    "efficientnet_b0": (_TIMM + "efficientnet_b0",
                        f"EfficientNet-B0 (timm efficientnet_b0; {_TIMM_OPTIONS})."),
    "efficientnet_b1": (_TIMM + "efficientnet_b1",
                        f"EfficientNet-B1 (timm efficientnet_b1; {_TIMM_OPTIONS})."),
    "efficientnetv2_s": (_TIMM + "efficientnetv2_s",
                         f"EfficientNetV2-S (timm tf_efficientnetv2_s; {_TIMM_OPTIONS})."),
    "mobilenetv3_large": (_TIMM + "mobilenetv3_large",
                          f"MobileNetV3-Large 1.0 (timm mobilenetv3_large_100; {_TIMM_OPTIONS})."),
    "timm": (_TIMM + "timm_backbone",
             "Any timm model, named by the option model_name, built without downloading (init, pretrained, "
             "timm's)."),
    "hf_vit": (_B + "hf_vit:hf_vit",
               "A Hugging Face image classifier (e.g. a ViT) from a hub id or local dir, option model."),
}

STRATEGIES: dict[str, tuple[str, str]] = {
    "uniform": ("fer_models.strategies.static:Uniform",
                "Every training example equally likely (a plain shuffle)."),
    "class_weights": ("fer_models.strategies.static:ClassWeights",
                      "Fixed per-class sampling weights from the config, e.g. weights = {disgust = 3, "
                      "fear = 2}."),
    "balanced": ("fer_models.strategies.static:Balanced",
                 "Inverse class frequency: every class drawn equally often in expectation."),
    "adaptive": ("fer_models.strategies.adaptive:Adaptive",
                 "Boost the k weakest classes by last epoch's select F1 (options: k, boost, rule, base)."),
}

LOSSES: dict[str, tuple[str, str]] = {
    "cross_entropy": ("fer_models.losses.cross_entropy:cross_entropy",
                      "Cross-entropy, hard or soft targets (options: label_smoothing, class_weights by name "
                      "or list of 7)."),
    "focal": ("fer_models.losses.focal:focal",
              "Focal loss, hard or soft targets (options: gamma=2, alpha by class name or list of 7, "
              "label_smoothing)."),
    "soft_target_cross_entropy": ("fer_models.losses.soft_target:soft_target_cross_entropy",
                                  "Soft-target cross-entropy for MixUp/CutMix mixes (as timm's); accepts "
                                  "class indices too."),
    "pld": ("fer_models.losses.vote:pld",
            "Cross-entropy to the FER+ vote distribution (FER+ paper's PLD); needs "
            "ferplus-distribution labels."),
}


def _register_all(register: Register, table: dict[str, tuple[str, str]]) -> None:
    for name, (target, description) in table.items():
        register(name, lazy(target), description)


@hookimpl
def register_backbones(register: Register) -> None:
    _register_all(register, BACKBONES)


@hookimpl
def register_sampler_strategies(register: Register) -> None:
    _register_all(register, STRATEGIES)


@hookimpl
def register_losses(register: Register) -> None:
    _register_all(register, LOSSES)
