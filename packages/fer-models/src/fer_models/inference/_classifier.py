"""The classifier users call: faces in, probabilities in the toolkit's class order out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_core.training import predict_proba
from fer_models.inference._base import ClassifierBase
from fer_models.inference._calibration import apply_temperature
from fer_models.inference._checks import TTA_MODES, TTA_VIEWS, check_finite, check_tta
from fer_models.inference._faces import prepare_faces


class Classifier(ClassifierBase):
    """A trained model behind :func:`prepare_faces` and the TTA it was selected with.

    ``predict_proba(faces)`` returns float32 probabilities ``[N, 7]`` in :attr:`classes` order
    for faces in any form :func:`~fer_models.inference.prepare_faces` takes. ``config`` is the
    weights config saved with the model (backbone, options, preprocessing, and for shipped
    models the model card metadata under ``"card"``).
    """

    def __init__(self, model: torch.nn.Module, config: dict[str, Any], *, source: str = "",
                 device: torch.device | str = "cpu", tta: str | None = None, backend: str = "torch") -> None:
        super().__init__(config, source=source, tta=tta)
        self.model = model.eval()
        self.device = torch.device(device)
        self.backend = backend

    def prepare(self, faces: Any) -> torch.Tensor:
        """uint8 ``[N, 1, S, S]`` for this model (see :func:`prepare_faces`)."""
        return prepare_faces(faces, self.size)

    def predict_proba(self, faces: Any, *, tta: str | None = None, batch_size: int = 256) -> np.ndarray:
        """Probabilities ``[N, 7]`` (float32, rows sum to 1) in :attr:`classes` order, averaged
        over the TTA views, then scaled by :attr:`temperature`."""
        images = self.prepare(faces)
        with torch.inference_mode():
            probs = predict_proba(self.model, images, batch_size=batch_size, device=self.device,
                                  crop_size=self.crop_size, tta=check_tta(tta or self.tta, self.crop_size))
        out = apply_temperature(probs.numpy(), self.temperature)
        check_finite(out, self.source or self.name)
        return out

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


__all__ = ["TTA_MODES", "TTA_VIEWS", "Classifier", "check_finite", "check_tta"]
