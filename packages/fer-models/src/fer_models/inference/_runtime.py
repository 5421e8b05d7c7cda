"""The torch-free classifier: an ONNX model run by ONNX Runtime, with numpy around it.

:class:`OnnxClassifier` does what :class:`~fer_models.inference.Classifier` does on PyTorch,
step for step: faces to uint8 ``[N, 1, S, S]`` (:func:`prepare_faces_numpy`), ``/ 255``, the
FER2013 mean and std, the centre crop, the TTA views (flip: the mirror too), a softmax per view,
the views' mean, then the model's temperature. Only numpy and onnxruntime are imported, so a
whole ``fercli analyze`` or ``fercli predict`` runs without torch in memory (about 500 MB less).
On the real PrivateTest the shipped ``default`` model's ONNX copy gives the same labels as
PyTorch on all 3,589 faces (BENCHMARKS.md, ``benchmarks/onnx_parity.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fer_core.errors import ConfigError
from fer_models.inference._base import ClassifierBase
from fer_models.inference._calibration import apply_temperature
from fer_models.inference._checks import TTA_VIEWS, check_finite, check_tta
from fer_models.inference._faces_numpy import prepare_faces_numpy

#: uint8 pixels are scaled to [0, 1] and normalised with these: fer_core.training's MEAN and STD
#: (the FER2013 training-set statistics every model is trained with; a test checks they agree).
MEAN, STD = 0.5077, 0.2550


def need_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or a ConfigError saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError("onnxruntime is needed for the ONNX backend: pip install onnxruntime "
                          "(or 'fer-models[onnx]')") from None
    return onnxruntime


class OnnxSession:
    """An ONNX Runtime session on the CPU: float32 ``[N, 1, S, S]`` in, logits out.

    ``threads`` intra-op threads (default :func:`fer_core.threads.resolve_threads`: the one
    inference setting, ``--threads`` / ``FER_THREADS``), one inter-op thread, no spinning.
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        from fer_core.threads import ort_session_options

        ort = need_onnxruntime()
        self.path = Path(path)
        options = ort_session_options(threads)
        self.threads = options.intra_op_num_threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConfigError(f"{path}: not a loadable ONNX model ({type(exc).__name__}: {exc})") from None
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input_name: np.ascontiguousarray(x, np.float32)})[0])


def model_input(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, C, H, W]`` -> normalised float32, as ``fer_core.training.to_model_input``."""
    return (images.astype(np.float32) / np.float32(255.0) - np.float32(MEAN)) / np.float32(STD)


def eval_views(x: np.ndarray, crop_size: int | None, tta: str) -> list[np.ndarray]:
    """The views evaluation averages over, as ``fer_core.training.eval_views`` makes them."""
    h = x.shape[-1]
    c = crop_size or h
    off = (h - c) // 2
    center = x[..., off:off + c, off:off + c]
    if tta == "none":
        return [center]
    if tta == "flip":
        return [center, center[..., ::-1]]
    if c == h:
        raise ValueError("tta = 'tencrop' needs [train.augment] crop_size smaller than the image")
    crops = [x[..., :c, :c], x[..., :c, h - c:], x[..., h - c:, :c], x[..., h - c:, h - c:], center]
    return crops + [v[..., ::-1] for v in crops]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32."""
    z = logits.astype(np.float32) - logits.max(axis=1, keepdims=True).astype(np.float32)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class OnnxClassifier(ClassifierBase):
    """A model's ONNX file behind numpy preprocessing, its TTA and temperature (no torch).

    Takes faces in every form :func:`~fer_models.inference.prepare_faces` takes and returns
    float32 probabilities ``[N, 7]`` in :attr:`classes` order, as the PyTorch
    :class:`~fer_models.inference.Classifier` does. The TTA views of a batch go through the
    session in one call.
    """

    backend = "onnx"

    def __init__(self, path: str | Path, config: dict[str, Any], *, source: str = "",
                 tta: str | None = None, threads: int | None = None) -> None:
        super().__init__(config, source=source, tta=tta)
        self.model = OnnxSession(path, threads)

    @property
    def path(self) -> Path:
        """The ONNX file."""
        return self.model.path

    def prepare(self, faces: Any) -> np.ndarray:
        """uint8 ``[N, 1, S, S]`` for this model (see :func:`prepare_faces_numpy`)."""
        return prepare_faces_numpy(faces, self.size)

    def predict_proba(self, faces: Any, *, tta: str | None = None, batch_size: int = 256) -> np.ndarray:
        """Probabilities ``[N, 7]`` (float32, rows sum to 1) in :attr:`classes` order, averaged
        over the TTA views, then scaled by :attr:`temperature`."""
        images = self.prepare(faces)
        mode = check_tta(tta or self.tta, self.crop_size)
        out = []
        for start in range(0, len(images), batch_size):
            views = eval_views(model_input(images[start:start + batch_size]), self.crop_size, mode)
            n = len(views[0])
            logits = self.model(np.concatenate(views))
            probs = np.zeros((), dtype=np.float32)
            for k in range(len(views)):
                probs = probs + softmax(logits[k * n:(k + 1) * n])
            out.append((probs / np.float32(len(views))).astype(np.float32))
        result = apply_temperature(np.concatenate(out), self.temperature)
        check_finite(result, self.source or self.name)
        return result

    def gmacs(self, tta: str | None = None) -> float:
        """Multiply-accumulates per face, in billions, with the TTA views counted: from the model
        card (counted on the PyTorch model when it shipped); a ConfigError when it has none."""
        card = self.card
        if not card.get("gmacs"):
            raise ConfigError("GMACs are counted on the PyTorch model: load it with backend='torch'")
        per_view = float(card["gmacs"]) / TTA_VIEWS[card.get("tta") or self.tta]
        return per_view * TTA_VIEWS[tta or self.tta]

    def export_onnx(self, path: str | Path, **kwargs: Any) -> Path:
        """Exports start from the PyTorch model: a ConfigError here."""
        raise ConfigError(f"{self.path}: already an ONNX model; export from the PyTorch model "
                          "(fer_models.load(..., backend='torch'))")


__all__ = ["MEAN", "STD", "OnnxClassifier", "OnnxSession", "eval_views", "model_input", "softmax"]
