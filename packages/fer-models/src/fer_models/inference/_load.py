"""``fer_models.load``: a classifier from a shipped name, a run folder or a weights file."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from fer_core.errors import ConfigError
from fer_core.plugins import PluginSet
from fer_core.training import WEIGHTS_CONFIG, WEIGHTS_NAME, check_sha256, load_trained_model, read_json_config
from fer_models.ensemble import Ensemble
from fer_models.inference._classifier import Classifier

#: Models shipped inside the fer-models wheel: ``weights/<name>/model.safetensors`` + ``model.json``.
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "weights"
ENSEMBLE_FILE = "ensemble.json"
#: A folder's own ONNX model (e.g. the shipped ``fast`` model's int8 copy): ``backend="onnx"`` runs it.
ONNX_NAME = "model.onnx"


def shipped_models() -> list[str]:
    """Names of the models inside the installed package (``fer_models.load(name)`` takes them)."""
    if not SHIPPED_DIR.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_DIR.iterdir()
                  if (p / WEIGHTS_NAME).is_file() or (p / ENSEMBLE_FILE).is_file())


def _is_name(ref: str | Path) -> bool:
    """A bare name (a string without a path separator): a shipped model's name comes before a path."""
    return isinstance(ref, str) and not any(sep and sep in ref for sep in ("/", os.sep, os.altsep))


def _resolve(ref: str | Path) -> Path:
    """A shipped model's folder when ``ref`` is a bare shipped name (even if a folder of that name
    is in the working directory: pass ``./default`` for that), else ``ref`` as a path."""
    if _is_name(ref) and ref in shipped_models():
        return SHIPPED_DIR / str(ref)
    path = Path(ref).expanduser()
    if path.exists():
        return path
    available = ", ".join(shipped_models()) or "none in this installation"
    raise ConfigError(f"no model {str(ref)!r}: not a file or folder, nor a shipped model "
                      f"(shipped: {available})")


def load(ref: str | Path = "default", *, device: torch.device | str = "cpu", tta: str | None = None,
         backend: str = "torch", plugins: PluginSet | None = None) -> Classifier | Ensemble:
    """A ready classifier (or ensemble) from a shipped name, a run folder, or a model file.

    ``ref`` is a shipped model's name (:func:`shipped_models`; a bare name is looked up there
    first, so ``"./default"`` is the way to a folder called ``default``), a run folder, a
    ``model.safetensors`` (its ``model.json`` beside it), a checkpoint ``.pt``, an exported
    ``.onnx`` (run with ONNX Runtime), or an ensemble (``ensemble.json`` or its folder).
    ``backend = "onnx"`` runs the folder's own ``model.onnx`` (config in its ``model.json``)
    with ONNX Runtime, else exports the safetensors model to a temporary file and runs that.
    ``tta`` overrides the test-time augmentation the model was selected with.

    >>> import numpy as np, fer_models  # doctest: +SKIP
    >>> clf = fer_models.load("default")  # doctest: +SKIP
    >>> clf.predict_proba(np.zeros((2, 48, 48), np.uint8)).shape  # doctest: +SKIP
    (2, 7)
    """
    if backend not in ("torch", "onnx"):
        raise ConfigError(f"backend must be 'torch' or 'onnx', got {backend!r}")
    path = _resolve(ref)
    ensemble_file = path / ENSEMBLE_FILE if path.is_dir() else path
    if ensemble_file.is_file() and ensemble_file.suffix == ".json" and ensemble_file.name != WEIGHTS_CONFIG:
        def load_member(member: Path, member_tta: str | None) -> Classifier:
            loaded = load(member, device=device, tta=member_tta, backend=backend, plugins=plugins)
            if isinstance(loaded, Ensemble):
                raise ConfigError(f"{ensemble_file}: member {member} is itself an ensemble")
            return loaded

        return Ensemble.load(ensemble_file, load_member)
    if path.suffix == ".onnx":
        return _load_onnx(path, tta)
    if backend == "onnx" and path.is_dir() and (path / ONNX_NAME).is_file():
        return _load_onnx(path / ONNX_NAME, tta)
    model, config = load_trained_model(path, plugins)
    if backend == "onnx":
        import tempfile

        from fer_models.inference._onnx import export_onnx

        tmp = Path(tempfile.mkdtemp(prefix="fer-onnx-")) / "model.onnx"
        export_onnx(model, tmp, config)
        return _load_onnx(tmp, tta)
    return Classifier(model.to(device), config, source=str(path), device=device, tta=tta)


def _load_onnx(path: Path, tta: str | None) -> Classifier:
    from fer_models.inference._onnx import OnnxModel

    sidecar = path.with_suffix(".json")
    config = read_json_config(sidecar) if sidecar.is_file() else {}
    if not config:
        raise ConfigError(f"{path}: no {sidecar.name} beside it (fercli export writes both)")
    if not path.is_file():
        raise ConfigError(f"{path}: no such ONNX file")
    check_sha256(path, (config.get("onnx") or {}).get("sha256"), sidecar)
    return Classifier(OnnxModel(path), config, source=str(path), tta=tta, backend="onnx")


__all__ = ["ENSEMBLE_FILE", "ONNX_NAME", "SHIPPED_DIR", "WEIGHTS_CONFIG", "load", "shipped_models"]
