"""``fer_models.load``: a classifier from a shipped name, a run folder or a weights file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_core._integrity import check_sha256, read_json_config
from fer_core._layout import WEIGHTS_CONFIG, WEIGHTS_NAME
from fer_core.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from fer_core.plugins import PluginSet
    from fer_models.ensemble import Ensemble
    from fer_models.inference._classifier import Classifier
    from fer_models.inference._runtime import OnnxClassifier

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


BACKENDS = ("auto", "onnx", "torch")


def torch_installed() -> bool:
    """Whether torch can be imported here (checked without importing it)."""
    import importlib.util

    loaded = sys.modules.get("torch", False)
    if loaded is not False:
        return loaded is not None  # None: imports of torch are blocked here
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def need_torch(what: str) -> None:
    """A ConfigError saying how to get torch, when it is not installed."""
    if not torch_installed():
        raise ConfigError(f"{what} needs PyTorch, which is not installed here: "
                          "pip install 'fer-models[torch]' (or pip install torch)")


def float_onnx_copy(folder: Path) -> bool:
    """Whether ``folder`` holds its own float ONNX copy (``model.onnx``, its sha256 in ``model.json``,
    not quantized): the copy ``backend="auto"`` runs, as it gives PyTorch's outputs."""
    onnx = _recorded_onnx(folder)
    return onnx is not None and not onnx.get("quantization")


def _recorded_onnx(folder: Path) -> dict[str, Any] | None:
    if not (folder.is_dir() and (folder / ONNX_NAME).is_file() and (folder / WEIGHTS_CONFIG).is_file()):
        return None
    onnx = read_json_config(folder / WEIGHTS_CONFIG).get("onnx")
    return onnx if isinstance(onnx, dict) and onnx.get("sha256") else None


def choose_backend(path: Path, backend: str, device: Any = "cpu") -> str:
    """``onnx`` or ``torch`` for the model at ``path`` (see :func:`load`'s ``backend``)."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    if backend != "auto":
        return backend
    if path.suffix == ".onnx":
        return "onnx"
    folder = path.parent if path.name == WEIGHTS_NAME else path
    if str(device) == "cpu" and float_onnx_copy(folder):
        return "onnx"
    if not torch_installed() and _recorded_onnx(folder) is not None:
        return "onnx"  # an int8 copy (fast's) rather than nothing, where torch is not installed
    return "torch"


def load(ref: str | Path = "default", *, device: torch.device | str = "cpu", tta: str | None = None,
         backend: str = "auto", threads: int | None = None,
         plugins: PluginSet | None = None) -> Classifier | OnnxClassifier | Ensemble:
    """A ready classifier (or ensemble) from a shipped name, a run folder, or a model file.

    ``ref`` is a shipped model's name (:func:`shipped_models`; a bare name is looked up there
    first, so ``"./default"`` is the way to a folder called ``default``), a run folder, a
    ``model.safetensors`` (its ``model.json`` beside it), a checkpoint ``.pt``, an exported
    ``.onnx`` (run with ONNX Runtime), or an ensemble (``ensemble.json`` or its folder).
    ``backend``: ``"auto"`` (the default) runs the model's float ONNX copy with ONNX Runtime and
    numpy, torch never imported (:class:`~fer_models.inference.OnnxClassifier`), when it has
    one (an ``.onnx`` file, or a folder's ``model.onnx`` whose sha256 its ``model.json``
    records, as the shipped ``default``'s), else PyTorch; where torch is not installed, a
    folder's int8 copy (the shipped ``fast``'s) rather than none. ``"onnx"`` runs the folder's
    own ``model.onnx`` whatever it is, else exports the PyTorch model to a temporary file and
    runs that; ``"torch"`` the PyTorch model (for export, GMACs, training, a GPU ``device``).
    ``threads`` sets the ONNX Runtime session's intra-op threads (default
    :func:`fer_core.threads.resolve_threads`). ``tta`` overrides the test-time augmentation the
    model was selected with.

    >>> import numpy as np, fer_models  # doctest: +SKIP
    >>> clf = fer_models.load("default")  # doctest: +SKIP
    >>> clf.predict_proba(np.zeros((2, 48, 48), np.uint8)).shape  # doctest: +SKIP
    (2, 7)
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    path = _resolve(ref)
    ensemble_file = path / ENSEMBLE_FILE if path.is_dir() else path
    if ensemble_file.is_file() and ensemble_file.suffix == ".json" and ensemble_file.name != WEIGHTS_CONFIG:
        from fer_models.ensemble import Ensemble

        def load_member(member: Path, member_tta: str | None) -> Any:
            loaded = load(member, device=device, tta=member_tta, backend=backend, threads=threads,
                          plugins=plugins)
            if isinstance(loaded, Ensemble):
                raise ConfigError(f"{ensemble_file}: member {member} is itself an ensemble")
            return loaded

        return Ensemble.load(ensemble_file, load_member)
    chosen = choose_backend(path, backend, device)
    if path.suffix == ".onnx":
        return _load_onnx(path, tta, threads)
    if chosen == "onnx" and path.is_dir() and (path / ONNX_NAME).is_file():
        return _load_onnx(path / ONNX_NAME, tta, threads, source=path)
    need_torch(f"model {ref}" + (" (it has no ONNX copy)" if backend == "auto" else " with backend "
                                 f"{backend!r}"))
    from fer_core.training import load_trained_model
    from fer_models.inference._classifier import Classifier

    model, config = load_trained_model(path, plugins)
    if chosen == "onnx":
        import tempfile

        from fer_models.inference._onnx import export_onnx

        tmp = Path(tempfile.mkdtemp(prefix="fer-onnx-")) / "model.onnx"
        export_onnx(model, tmp, config)
        return _load_onnx(tmp, tta, threads)
    return Classifier(model.to(device), config, source=str(path), device=device, tta=tta)


def _load_onnx(path: Path, tta: str | None, threads: int | None = None,
               source: Path | None = None) -> OnnxClassifier:
    from fer_models.inference._runtime import OnnxClassifier

    sidecar = path.with_suffix(".json")
    config = read_json_config(sidecar) if sidecar.is_file() else {}
    if not config:
        raise ConfigError(f"{path}: no {sidecar.name} beside it (fercli export writes both)")
    if not path.is_file():
        raise ConfigError(f"{path}: no such ONNX file")
    check_sha256(path, (config.get("onnx") or {}).get("sha256"), sidecar)
    return OnnxClassifier(path, config, source=str(source or path), tta=tta, threads=threads)


__all__ = ["BACKENDS", "ENSEMBLE_FILE", "ONNX_NAME", "SHIPPED_DIR", "WEIGHTS_CONFIG", "choose_backend",
           "load", "shipped_models"]
