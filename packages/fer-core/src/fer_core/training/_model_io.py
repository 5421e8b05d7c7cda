"""Rebuilding a trained model from a run folder, a checkpoint or a safetensors file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from fer_core.classes import CLASSES, NUM_CLASSES
from fer_core.data._labels import label_classes
from fer_core.plugins import PluginSet, get_plugins
from fer_core.training._checkpoint import (
    WEIGHTS_CONFIG,
    WEIGHTS_NAME,
    CheckpointError,
    check_finite_weights,
    first_line,
    load_checkpoint,
    load_weights,
)


def load_trained_model(
    ref: str | Path, plugins: PluginSet | None = None
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model (in eval mode) and its weights config from a run folder, ``.pt`` or ``.safetensors``."""
    plugins = plugins if plugins is not None else get_plugins()
    path = Path(ref)
    if path.is_dir():
        path = path / WEIGHTS_NAME
    if not path.is_file():
        raise CheckpointError(f"{ref}: no model there (a run folder, .safetensors or checkpoint .pt)")
    if path.suffix == ".pt":
        state = load_checkpoint(path)
        cfg = state.get("config")
        if not isinstance(cfg, dict) or not isinstance(cfg.get("model"), dict):
            raise CheckpointError(f"{path}: a checkpoint without its run config (not written by fercli)")
        weights = state["ema"] if state.get("ema") is not None else state["model"]
        check_finite_weights(weights, path)
        try:
            classes = label_classes(str((cfg.get("data") or {}).get("labels", "fer2013")))
            wcfg = {"backbone": cfg["model"]["backbone"], "options": cfg["model"].get("options", {}),
                    "num_classes": len(classes), "classes": list(classes),
                    "preprocessing": _preprocessing(cfg, state.get("stage"))}
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"{path}: its run config lacks {first_line(exc)}") from None
    else:
        weights, wcfg = load_weights(path)
        if not wcfg:
            raise CheckpointError(f"{path}: no {WEIGHTS_CONFIG} (or same-named .json) beside it")
        if not isinstance(wcfg.get("backbone"), str):
            raise CheckpointError(f"{path}: its config names no backbone (key 'backbone')")
    backbone = plugins.get("backbone", wcfg["backbone"])
    model = backbone.build(
        num_classes=wcfg.get("num_classes", NUM_CLASSES), in_chans=wcfg.get("in_chans", 1),
        **trained_options(wcfg.get("options", {}), backbone.factory))
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: weights do not fit {wcfg['backbone']}: {first_line(exc)}") from None
    return model.eval(), wcfg


def weights_classes(ref: str | Path) -> tuple[str, ...]:
    """The class names, in output order, of the weights a warm start reads (as ``model_weights_from``
    finds them: a run folder's best checkpoint, else its safetensors)."""
    path = Path(ref)
    if path.is_dir():
        best = path / "checkpoints" / "best.pt"
        path = best if best.is_file() else path / WEIGHTS_NAME
    if path.suffix == ".pt":
        cfg = load_checkpoint(path).get("config") or {}
        return label_classes(str((cfg.get("data") or {}).get("labels", "fer2013")))
    classes = load_weights(path)[1].get("classes")
    return tuple(classes) if isinstance(classes, list) else CLASSES


def _preprocessing(cfg: dict[str, Any], stage: str | None) -> dict[str, Any]:
    """The center crop and TTA a checkpoint's stage was trained and selected with."""
    from fer_core.config import ExperimentConfig

    stages = ExperimentConfig.from_dict(cfg).resolved_stages()
    train = next((s.train for s in stages if s.name == stage), stages[0].train)
    return {"crop_size": train.augment.crop_size, "tta": train.tta}


#: Options that only say where the *initial* weights came from; a trained model does not need them.
INIT_ONLY_OPTIONS = ("pretrained", "pretrained_strict")


def trained_options(options: dict[str, Any], factory: Any = None) -> dict[str, Any]:
    """Backbone options for rebuilding a model whose trained weights are loaded next.

    A backbone factory may say how itself, with a ``trained_options(options)`` attribute (the
    Hugging Face path reads only the config then); otherwise :data:`INIT_ONLY_OPTIONS` are dropped.
    """
    own = getattr(factory, "trained_options", None)
    if callable(own):
        return dict(own(dict(options)))
    return {k: v for k, v in options.items() if k not in INIT_ONLY_OPTIONS}


def run_config(run_path: Path) -> dict[str, Any] | None:
    """A run folder's resolved config, if it has one."""
    cfg = Path(run_path) / "config.json"
    if not cfg.is_file():
        return None
    try:
        return dict(json.loads(cfg.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{cfg}: not a readable run config ({first_line(exc)})") from None
