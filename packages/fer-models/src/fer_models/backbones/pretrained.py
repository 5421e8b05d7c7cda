"""Loading pretrained weights from a local file into a timm model. Nothing is ever downloaded.

The file is a state dict saved as ``.safetensors`` or with ``torch.save`` (``.pth``/``.pt``/
``.bin``, read with ``weights_only=True``); a checkpoint dict holding it under
``state_dict_ema``, ``model_ema``, ``state_dict`` or ``model`` works too (timm's
``load_state_dict`` unwraps it, and strips a ``module.`` prefix). Before loading:

* the first convolution (``pretrained_cfg["first_conv"]``) is adapted to the model's input
  channels with ``timm.models.adapt_input_conv``, as timm does for its own hub weights: 3 -> 1
  sums the RGB filters; 1 -> 3 repeats them, scaled;
* a classifier (``pretrained_cfg["classifier"]``) whose shape differs from the model's (an
  ImageNet head for 7 emotions) is dropped, keeping the model's fresh head; a file without a
  classifier (a headless feature extractor) is fine too.

Any other key that is missing, unexpected or of the wrong shape raises a :class:`ConfigError`
listing them (the backbone option ``pretrained_strict = false`` makes missing and unexpected
keys a warning), so a checkpoint of another architecture cannot load silently as a few stray
tensors.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fer_core.errors import ConfigError

SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")


def _as_tuple(names: Any) -> tuple[str, ...]:
    if not names:
        return ()
    return (names,) if isinstance(names, str) else tuple(names)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in ``path`` (see the module docstring), or a ConfigError naming the path."""
    from timm.models import load_state_dict

    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"pretrained weights not found: {str(path)!r} (give a local .safetensors or "
                          f".pth state dict; nothing is downloaded)")
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"pretrained weights {str(path)!r}: expected one of {', '.join(SUFFIXES)}")
    try:
        state = load_state_dict(str(path), use_ema=True, device="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"pretrained weights {str(path)!r} could not be read: "
                          f"{type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"pretrained weights {str(path)!r}: not a state dict of tensors")
    return dict(state)


def load_pretrained_file(model: nn.Module, path: str | Path, in_chans: int,
                         strict: bool = True) -> dict[str, list[str]]:
    """Load the local state dict ``path`` into the timm ``model`` (built for ``in_chans``).

    Returns ``{"adapted": [...], "dropped_head": [...], "missing": [...], "unexpected": [...]}``
    (key names). Raises :class:`ConfigError` for a missing or unreadable file and, when
    ``strict``, for keys other than the head that do not fit.
    """
    from timm.models import adapt_input_conv

    state = read_state_dict(path)
    cfg = dict(getattr(model, "pretrained_cfg", None) or {})
    own = model.state_dict()
    report: dict[str, list[str]] = {"adapted": [], "dropped_head": [], "missing": [], "unexpected": []}

    for conv_name in _as_tuple(cfg.get("first_conv")):
        key = f"{conv_name}.weight"
        if key not in state or key not in own or state[key].shape == own[key].shape:
            continue
        src, dst = state[key], own[key]
        if src.ndim != 4 or src.shape[0] != dst.shape[0] or src.shape[2:] != dst.shape[2:]:
            continue  # not a channel mismatch: reported with the other shape mismatches below
        # The image channels the checkpoint was trained on: the weight's input dimension for an
        # ordinary stem, a fraction of it for a space-to-depth stem (timm's own rule).
        base, rest = divmod(src.shape[1] * in_chans, dst.shape[1])
        try:
            if rest:
                raise ValueError("channel counts are not multiples of each other")
            state[key] = adapt_input_conv(in_chans, src, base_chans=base).to(src.dtype)
        except (NotImplementedError, ValueError, AssertionError) as exc:
            raise ConfigError(f"pretrained weights {str(path)!r}: cannot adapt {key} from shape "
                              f"{tuple(src.shape)} to {tuple(dst.shape)}: {exc}") from None
        report["adapted"].append(key)

    head_keys = {f"{name}.{suffix}" for name in _as_tuple(cfg.get("classifier"))
                 for suffix in ("weight", "bias")}
    for key in sorted(head_keys):
        if key in state and (key not in own or state[key].shape != own[key].shape):
            del state[key]
            report["dropped_head"].append(key)

    mismatched = [f"{k}: {tuple(v.shape)} in the file, {tuple(own[k].shape)} in the model"
                  for k, v in state.items() if k in own and v.shape != own[k].shape]
    if mismatched:
        more = f" (and {len(mismatched) - 8} more)" if len(mismatched) > 8 else ""
        raise ConfigError(f"pretrained weights {str(path)!r} do not fit the model: "
                          + "; ".join(mismatched[:8]) + more)

    result = model.load_state_dict(state, strict=False)
    report["missing"] = [k for k in result.missing_keys
                         if k not in head_keys and not k.endswith("num_batches_tracked")]
    report["unexpected"] = list(result.unexpected_keys)
    if report["missing"] or report["unexpected"]:
        message = (f"pretrained weights {str(path)!r}: {len(report['missing'])} missing key(s) "
                   f"{report['missing'][:8]}, {len(report['unexpected'])} unexpected key(s) "
                   f"{report['unexpected'][:8]} (is it a checkpoint of this architecture?)")
        if strict:
            raise ConfigError(message + "; set pretrained_strict = false to load it anyway")
        warnings.warn(message, stacklevel=2)
    return report

