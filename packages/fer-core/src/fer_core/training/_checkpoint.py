"""Checkpoints and weight files: atomic writes, ``weights_only=True`` loads, safetensors exports.

A checkpoint is a ``torch.save`` of plain containers and tensors only (no modules, no classes),
so it loads with ``weights_only=True`` and never runs code. Model weights alone are exported as
safetensors plus a JSON config naming the backbone, its options, the class order and the
preprocessing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from fer_core._integrity import CheckpointError, check_sha256, first_line, read_json_config, sha256_file
from fer_core._layout import WEIGHTS_CONFIG, WEIGHTS_NAME
from fer_core.files import atomic_write, atomic_write_text


def save_checkpoint(state: dict[str, Any], path: Path) -> str:
    """Atomically save a training state; returns its sha256."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    return sha256_file(path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``), with a clear error when it is damaged."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: not a loadable checkpoint (an empty file)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types; their text runs to many lines
        raise CheckpointError(f"{path}: not a loadable checkpoint (damaged, truncated, not made by "
                              f"torch.save, or holding code; {type(exc).__name__})") from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{path}: not a fer checkpoint (no model state)")
    return state


def check_finite_weights(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Raise a :class:`CheckpointError` naming the first tensor holding NaN (a model that can only
    output NaN; infinities may be meant, e.g. masks, and are caught on the outputs)."""
    for name, tensor in tensors.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and torch.isnan(tensor).any():
            raise CheckpointError(f"{path}: weights hold NaN (tensor {name})")


def export_weights(state_dict: dict[str, torch.Tensor], folder: Path, config: dict[str, Any]) -> Path:
    """Write ``model.safetensors`` and ``model.json`` into ``folder`` atomically; returns the weights path."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    weights = folder / WEIGHTS_NAME
    atomic_write(weights, lambda tmp: save_file(tensors, str(tmp)))
    config = {**config, "weights_sha256": sha256_file(weights)}
    atomic_write_text(folder / WEIGHTS_CONFIG, json.dumps(config, indent=2) + "\n")
    return weights


def load_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Model weights and their JSON config from a ``.safetensors`` file (config beside it)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such weights file")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:  # damaged or truncated
        raise CheckpointError(f"{path}: not a readable safetensors file ({first_line(exc)})") from None
    cfg_path = path.with_name(WEIGHTS_CONFIG) if path.name == WEIGHTS_NAME else path.with_suffix(".json")
    config = read_json_config(cfg_path) if cfg_path.is_file() else {}
    check_sha256(path, config.get("weights_sha256"), cfg_path)
    check_finite_weights(tensors, path)
    return tensors, config


def model_weights_from(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """Weights for a warm start from a checkpoint, a safetensors file or a run folder; with sha256.

    A run folder gives its best checkpoint's weights.
    """
    path = Path(path)
    if path.is_dir():
        candidates = [path / "checkpoints" / "best.pt", path / WEIGHTS_NAME]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise CheckpointError(f"{path}: a run folder without checkpoints/best.pt or {WEIGHTS_NAME}")
        path = found
    if path.suffix == ".safetensors":
        tensors, _ = load_weights(path)
        return tensors, sha256_file(path)
    state = load_checkpoint(path)
    weights = state.get("ema") or state["model"]
    check_finite_weights(weights, path)
    return weights, sha256_file(path)
