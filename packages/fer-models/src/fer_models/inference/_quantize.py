"""Static int8 quantization of an exported ONNX model with ONNX Runtime's quantization tools.

Weights become int8 per output channel, activations uint8 with ranges calibrated on real faces
(QDQ format, which ONNX Runtime fuses into integer kernels: VNNI/AMX on recent x86 CPUs).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_core.errors import ConfigError
from fer_core.training import atomic_write, atomic_write_text, eval_views, sha256_file, to_model_input

#: How many calibration faces ``quantize_onnx`` uses by default, and per calibration batch.
CALIBRATION_FACES = 1024
_BATCH = 64


def calibration_inputs(images: torch.Tensor, crop_size: int | None = None, *, count: int = CALIBRATION_FACES,
                       seed: int = 0) -> np.ndarray:
    """Model inputs (normalised float ``[n, 1, S, S]``) from uint8 faces ``[N, 1, H, W]``.

    ``count`` faces drawn at random (seeded), centre-cropped to ``crop_size`` when the model
    was trained on crops, exactly as evaluation feeds the network.
    """
    if images.ndim != 4 or images.dtype != torch.uint8:
        raise ConfigError(f"calibration faces must be uint8 [N, 1, H, W], got {images.dtype} "
                          f"{list(images.shape)}")
    if len(images) == 0:
        raise ConfigError("no calibration faces")
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:count]
    return eval_views(to_model_input(images[pick]), crop_size, "none")[0].numpy()


class _Batches:
    """ONNX Runtime's CalibrationDataReader protocol over an array of inputs."""

    def __init__(self, inputs: np.ndarray, name: str) -> None:
        self._batches = iter([{name: np.ascontiguousarray(inputs[i:i + _BATCH])}
                              for i in range(0, len(inputs), _BATCH)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def quantize_onnx(src: str | Path, dst: str | Path, inputs: np.ndarray,
                  note: dict[str, Any] | None = None) -> Path:
    """Write an int8 copy of the float ONNX model ``src`` to ``dst``, calibrated on ``inputs``.

    ``inputs`` are model inputs as :func:`calibration_inputs` makes them. The JSON config beside
    ``src`` is copied beside ``dst`` with ``onnx.quantization`` added (``note`` merged in, e.g.
    where the calibration faces came from). Both writes are atomic.
    """
    from fer_models.inference._onnx import _need

    _need("onnxruntime")
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src, dst = Path(src), Path(dst)
    sidecar = src.with_suffix(".json")
    config = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    name = (config.get("onnx") or {}).get("input", "input")
    with tempfile.TemporaryDirectory(prefix="fer-int8-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        try:
            quant_pre_process(str(src), str(prepared))
            atomic_write(dst, lambda out: quantize_static(
                str(prepared), str(out), _Batches(inputs, name), quant_format=QuantFormat.QDQ,
                per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8))
        except Exception as exc:  # the quantizer's errors come in many types
            raise ConfigError(f"int8 quantization of {src} failed: {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    quantization = {"format": "QDQ", "weights": "int8, per channel", "activations": "uint8",
                    "calibration_faces": len(inputs), **(note or {})}
    config["onnx"] = {**(config.get("onnx") or {}), "quantization": quantization, "sha256": sha256_file(dst)}
    atomic_write_text(dst.with_suffix(".json"), json.dumps(config, indent=2) + "\n")
    return dst
