"""The Hugging Face path: ``AutoModelForImageClassification`` from a hub id or a local directory.

The adaptive-training report fine-tuned ``dima806/facial_emotions_image_detection`` (a ViT-B/16
trained on faces). ``backbone = "hf_vit"`` with ``model = "HUB_ID_OR_DIR"`` builds any
``AutoModelForImageClassification`` the same way::

    [model]
    backbone = "hf_vit"
    model = "dima806/facial_emotions_image_detection"   # or a save_pretrained() directory

The wrapped model takes the toolkit's usual input (``[N, 1 or 3, H, W]`` floats normalised by
:func:`fer_core.training.to_model_input`) and does what its ``AutoImageProcessor`` says, as
tensor ops on the whole batch: gray to RGB, resize to the processor's size, rescale and
normalise with the processor's mean and std. Its logits come out in the toolkit's class order:

* ``head = "auto"`` (default): when the model's ``id2label`` names the seven emotions (in any
  order, with the usual spellings: "anger", "happiness", ...), its head is kept and its outputs
  are permuted into :data:`fer_core.CLASSES` order; otherwise (``LABEL_0``..., FER+'s
  "contempt", another count) the head is relabelled in the toolkit's order and, when its size
  is not 7, replaced by a fresh one.
* ``head = "keep"``: keep the head, and fail if its labels do not map; ``head = "new"``: ignore
  the model's labels (as for unmapped ones).

Loading never hangs: a local directory is read directly; a hub id is looked up in the local
Hugging Face cache first, and only then on the hub, after a single short reachability check, so
with no network the error comes in seconds and says which of the three it was.
``pretrained = false`` builds the architecture from the config only (random weights); a trained
run rebuilds its model that way before loading its own weights, so only the config is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from fer_core.classes import CLASSES, NUM_CLASSES, class_index
from fer_core.errors import ConfigError
from fer_core.training import to_model_input

HEADS = ("auto", "keep", "new")
#: The toolkit's input normalisation, undone before the processor's own is applied.
_IN_ZERO = float(to_model_input(torch.zeros(1)))
_IN_ONE = float(to_model_input(torch.full((1,), 255, dtype=torch.uint8)))


def label_permutation(id2label: dict[Any, str]) -> list[int] | None:
    """For each class of :data:`CLASSES`, the index of the model's output with that label.

    ``None`` when the labels are not exactly the seven emotions (by name, any order).

    >>> label_permutation({0: "sad", 1: "disgust", 2: "angry", 3: "neutral", 4: "fear",
    ...                    5: "surprise", 6: "happy"})
    [2, 1, 4, 6, 0, 5, 3]
    """
    if len(id2label) != NUM_CLASSES:
        return None
    by_class: dict[int, int] = {}
    for idx, name in id2label.items():
        try:
            by_class[class_index(str(name))] = int(idx)
        except KeyError:
            return None
    if sorted(by_class) != list(range(NUM_CLASSES)) or sorted(by_class.values()) != list(range(NUM_CLASSES)):
        return None
    return [by_class[c] for c in range(NUM_CLASSES)]


def _hub_error(ref: str, cache_error: Exception) -> ConfigError:
    """Why a hub id could not be loaded: unreachable hub, unknown repository, or the original error."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        HfApi().model_info(ref, timeout=10)
    except RepositoryNotFoundError:
        return ConfigError(f"hf_vit: {ref!r} is not a local directory and the Hugging Face hub has no "
                           f"model of that name (or it is private)")
    except Exception as exc:  # the probe's only job is to say why; any failure means unreachable
        return ConfigError(f"hf_vit: {ref!r} is not a local directory, is not in the local Hugging Face "
                           f"cache, and the hub could not be reached ({type(exc).__name__}: {exc}); "
                           f"give a save_pretrained() directory or run once with network access")
    return ConfigError(f"hf_vit: could not load {ref!r}: {type(cache_error).__name__}: {cache_error}")


def _from_source(loader: Any, ref: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained(ref)``: local dir, else HF cache, else hub (after a fast probe)."""
    path = Path(ref).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"hf_vit: {ref!r} is a file; give a save_pretrained() directory or a hub id")
        try:
            return loader.from_pretrained(str(path), **kwargs)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"hf_vit: cannot load {loader.__name__} from {str(path)!r}: {exc}") from None
    try:
        return loader.from_pretrained(ref, local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        cache_error = exc
    reason = _hub_error(ref, cache_error)
    if "could not load" in str(reason):  # the hub answers: download through the normal path
        try:
            return loader.from_pretrained(ref, **kwargs)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"hf_vit: could not load {ref!r} from the hub: {exc}") from None
    raise reason


class HFImageClassifier(nn.Module):
    """A Hugging Face image classifier behind the toolkit's input and class order."""

    mean: torch.Tensor  # buffers, registered in __init__
    std: torch.Tensor
    permutation: torch.Tensor

    def __init__(self, model: nn.Module, size: tuple[int, int], mean: list[float], std: list[float],
                 scale: float = 1.0, permutation: list[int] | None = None) -> None:
        super().__init__()
        self.model = model
        self.size = (int(size[0]), int(size[1]))
        self.scale = float(scale)
        for name, values in (("mean", mean), ("std", std)):
            self.register_buffer(name, torch.tensor(values, dtype=torch.float32).view(1, -1, 1, 1),
                                 persistent=False)
        perm = torch.tensor(permutation if permutation is not None else range(NUM_CLASSES), dtype=torch.long)
        self.register_buffer("permutation", perm, persistent=False)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """Toolkit-normalised ``[N, 1|3, H, W]`` -> the model's ``pixel_values``."""
        x = (x - _IN_ZERO) / (_IN_ONE - _IN_ZERO)  # back to [0, 1]
        channels = self.mean.shape[1]
        if x.shape[1] == 1 and channels == 3:
            x = x.expand(-1, 3, -1, -1)
        if tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > self.size[1])
        return (x * self.scale - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(pixel_values=self.preprocess(x)).logits
        return logits.index_select(1, self.permutation)


def _processor_geometry(
    processor: Any, config: Any
) -> tuple[tuple[int, int], list[float], list[float], float]:
    """(height, width), mean, std and the [0, 1] -> rescaled-input factor the processor applies."""
    size = getattr(processor, "size", None) or {}
    if "height" in size and "width" in size:
        hw = (size["height"], size["width"])
    elif "shortest_edge" in size:
        hw = (size["shortest_edge"], size["shortest_edge"])
    else:
        side = int(getattr(config, "image_size", 224))
        hw = (side, side)
    channels = int(getattr(config, "num_channels", 3))
    do_normalize = getattr(processor, "do_normalize", True)
    mean = list(processor.image_mean) if do_normalize else [0.0] * channels
    std = list(processor.image_std) if do_normalize else [1.0] * channels
    scale = 1.0 if getattr(processor, "do_rescale", True) else 255.0
    return hw, [float(m) for m in mean], [float(s) for s in std], scale


def hf_vit(num_classes: int = 7, in_chans: int = 1, model: str | None = None, head: str = "auto",
           pretrained: bool = True, **options: Any) -> nn.Module:
    """A Hugging Face image classifier (e.g. a ViT) from a hub id or local dir, option model.

    ``model`` is required: a hub id (``"dima806/facial_emotions_image_detection"``) or a
    ``save_pretrained()`` directory holding the model and its image processor. ``head`` is
    ``"auto"``, ``"keep"`` or ``"new"``; ``pretrained = false`` reads only the config. Other
    options are passed to ``from_pretrained`` (e.g. ``revision``). See
    :mod:`fer_models.backbones.hf_vit`.
    """
    try:
        from transformers import AutoConfig, AutoImageProcessor, AutoModelForImageClassification
    except ImportError:
        raise ConfigError("backbone 'hf_vit' needs transformers: pip install 'fer-models[hf]'") from None
    if not model or not isinstance(model, str):
        raise ConfigError("backbone 'hf_vit' needs the option model: a Hugging Face hub id or a local "
                          "save_pretrained() directory")
    if head not in HEADS:
        raise ConfigError(f"backbone 'hf_vit': head must be one of {list(HEADS)}, got {head!r}")
    if num_classes != NUM_CLASSES:
        raise ConfigError(f"backbone 'hf_vit' maps outputs onto the toolkit's {NUM_CLASSES} classes; "
                          f"num_classes={num_classes} is not supported")
    if in_chans not in (1, 3):
        raise ConfigError(f"backbone 'hf_vit' takes gray (in_chans=1) or RGB (in_chans=3), got {in_chans}")

    config = _from_source(AutoConfig, model, **options)
    processor = _from_source(AutoImageProcessor, model, **options)
    permutation = label_permutation(config.id2label) if head != "new" else None
    if head == "keep" and permutation is None:
        raise ConfigError(f"hf_vit: {model!r} has labels {sorted(config.id2label.values())}, which are not "
                          f"the seven emotions {list(CLASSES)}; use head = 'new' or 'auto'")
    if permutation is None:  # a fresh head, labelled in the toolkit's order
        config.num_labels = NUM_CLASSES
        config.id2label = dict(enumerate(CLASSES))
        config.label2id = {name: i for i, name in enumerate(CLASSES)}
    if pretrained:
        net = _from_source(AutoModelForImageClassification, model, config=config,
                           ignore_mismatched_sizes=permutation is None, **options)
    else:
        net = AutoModelForImageClassification.from_config(config)
    size, mean, std, scale = _processor_geometry(processor, config)
    return HFImageClassifier(net, size, mean, std, scale, permutation)


def _trained_options(options: dict[str, Any]) -> dict[str, Any]:
    """Rebuild for trained weights: the architecture from the config only, the same head."""
    return {**options, "pretrained": False}


hf_vit.trained_options = _trained_options  # type: ignore[attr-defined]
