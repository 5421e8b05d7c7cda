"""The classifier users call: faces in, probabilities in the toolkit's class order out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_core.classes import CLASSES
from fer_core.errors import NonFiniteOutputError
from fer_core.training import predict_proba
from fer_models.inference._calibration import apply_temperature
from fer_models.inference._faces import prepare_faces

TTA_MODES = ("none", "flip", "tencrop")
#: Views each TTA mode averages over (the model's cost per face is multiplied by this).
TTA_VIEWS = {"none": 1, "flip": 2, "tencrop": 10}


class Classifier:
    """A trained model behind :func:`prepare_faces` and the TTA it was selected with.

    ``predict_proba(faces)`` returns float32 probabilities ``[N, 7]`` in :attr:`classes` order
    for faces in any form :func:`~fer_models.inference.prepare_faces` takes. ``config`` is the
    weights config saved with the model (backbone, options, preprocessing, and for shipped
    models the model card metadata under ``"card"``).
    """

    def __init__(self, model: torch.nn.Module, config: dict[str, Any], *, source: str = "",
                 device: torch.device | str = "cpu", tta: str | None = None, backend: str = "torch") -> None:
        self.model = model.eval()
        self.config = config
        self.source = source
        self.device = torch.device(device)
        self.backend = backend
        pre = config.get("preprocessing") or {}
        self.size = int(pre.get("size", 48))
        self.crop_size = pre.get("crop_size")
        self.tta = _check_tta(tta if tta is not None else pre.get("tta") or "none", self.crop_size)

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in output order (the toolkit's canonical order)."""
        return tuple(self.config.get("classes") or CLASSES)

    @property
    def temperature(self) -> float:
        """Temperature applied to the probabilities (fitted on PublicTest for shipped models; 1 = none)."""
        return float(self.config.get("temperature") or 1.0)

    @property
    def card(self) -> dict[str, Any]:
        """Model card metadata (accuracy, protocol, ...) when the model ships with one, else {}."""
        return dict(self.config.get("card") or {})

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.config.get("experiment") or self.config.get("backbone"))

    def prepare(self, faces: Any) -> torch.Tensor:
        """uint8 ``[N, 1, S, S]`` for this model (see :func:`prepare_faces`)."""
        return prepare_faces(faces, self.size)

    def predict_proba(self, faces: Any, *, tta: str | None = None, batch_size: int = 256) -> np.ndarray:
        """Probabilities ``[N, 7]`` (float32, rows sum to 1) in :attr:`classes` order, averaged
        over the TTA views, then scaled by :attr:`temperature`."""
        images = self.prepare(faces)
        with torch.inference_mode():
            probs = predict_proba(self.model, images, batch_size=batch_size, device=self.device,
                                  crop_size=self.crop_size, tta=_check_tta(tta or self.tta, self.crop_size))
        out = apply_temperature(probs.numpy(), self.temperature)
        check_finite(out, self.source or self.name)
        return out

    __call__ = predict_proba

    def predict(self, faces: Any, **kwargs: Any) -> list[str]:
        """The most probable class name of each face."""
        return [self.classes[i] for i in self.predict_proba(faces, **kwargs).argmax(1)]

    def gmacs(self, tta: str | None = None) -> float:
        """Multiply-accumulates per face, in billions, with the TTA views counted."""
        from fer_core.errors import ConfigError
        from fer_models.flops import count_flops

        if self.backend != "torch":
            raise ConfigError("GMACs are counted on the PyTorch model: load it with backend='torch'")
        side = self.crop_size or self.size
        macs = count_flops(self.model, (1, side, side))["macs"]
        return macs * TTA_VIEWS[tta or self.tta] / 1e9

    def export_onnx(self, path: str | Path, *, int8_calibration: Any = None,
                    calibration_note: dict[str, Any] | None = None, **kwargs: Any) -> Path:
        """Export the network to ONNX (see :func:`fer_models.inference.export_onnx`).

        With ``int8_calibration`` (faces in any form :meth:`prepare` takes, e.g. a thousand
        training faces) the file is statically quantized to int8, activation ranges calibrated
        on those faces (at most :data:`CALIBRATION_FACES` of them, drawn seeded; see
        :func:`fer_models.inference.quantize_onnx`).
        """
        from fer_models.inference._onnx import export_onnx

        if int8_calibration is None:
            return export_onnx(self.model, path, self.config, **kwargs)
        import tempfile

        from fer_models.inference._quantize import calibration_inputs, quantize_onnx

        inputs = calibration_inputs(self.prepare(int8_calibration), self.crop_size)
        with tempfile.TemporaryDirectory(prefix="fer-onnx-") as tmp:
            float_model = export_onnx(self.model, Path(tmp) / "model.onnx", self.config, **kwargs)
            return quantize_onnx(float_model, path, inputs, calibration_note)

    def __repr__(self) -> str:
        return (f"Classifier({self.name!r}, backend={self.backend!r}, size={self.size}, "
                f"crop_size={self.crop_size}, tta={self.tta!r})")


def check_finite(probs: np.ndarray, source: str, names: Sequence[str] | None = None) -> None:
    """Raise :class:`~fer_core.errors.NonFiniteOutputError` when any row of ``probs`` holds NaN or
    infinity, naming the first such face (``names[i]``, e.g. its file, else its index) and ``source``."""
    if probs.size == 0 or np.isfinite(probs).all():
        return
    bad = np.flatnonzero(~np.isfinite(probs.reshape(len(probs), -1)).all(axis=1))
    first = names[bad[0]] if names is not None else f"face {bad[0]}"
    more = f" and {len(bad) - 1} more face(s)" if len(bad) > 1 else ""
    raise NonFiniteOutputError(f"model {source} gave NaN or infinite probabilities, not a label, "
                               f"for {first}{more}", [int(i) for i in bad])


def _check_tta(tta: str, crop_size: int | None) -> str:
    from fer_core.errors import ConfigError

    if tta not in TTA_MODES:
        raise ConfigError(f"tta must be one of {list(TTA_MODES)}, got {tta!r}")
    if tta == "tencrop" and not crop_size:
        raise ConfigError("tta 'tencrop' needs a model trained on crops (its crop_size is not set)")
    return tta
