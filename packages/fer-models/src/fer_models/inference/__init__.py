"""Inference: load a trained model and classify faces given in any common form; ONNX export.

Importing it is light: each name imports its module on first use, so that ``load`` of a model
with an ONNX copy, and :class:`OnnxClassifier`, never import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fer_core._lazy import lazy_exports

if TYPE_CHECKING:  # what __getattr__ hands out, as type checkers and IDEs should see it
    from fer_models.inference._calibration import apply_temperature, fit_temperature, negative_log_likelihood
    from fer_models.inference._checks import TTA_MODES, TTA_VIEWS
    from fer_models.inference._classifier import Classifier
    from fer_models.inference._faces import prepare_faces
    from fer_models.inference._faces_numpy import prepare_faces_numpy
    from fer_models.inference._load import BACKENDS, ENSEMBLE_FILE, ONNX_NAME, load, shipped_models
    from fer_models.inference._onnx import OnnxModel, export_onnx
    from fer_models.inference._quantize import CALIBRATION_FACES, calibration_inputs, quantize_onnx
    from fer_models.inference._runtime import OnnxClassifier

_MODULES: dict[str, tuple[str, ...]] = {
    "_calibration": ("apply_temperature", "fit_temperature", "negative_log_likelihood"),
    "_checks": ("TTA_MODES", "TTA_VIEWS"),
    "_classifier": ("Classifier",),
    "_faces": ("prepare_faces",),
    "_faces_numpy": ("prepare_faces_numpy",),
    "_load": ("BACKENDS", "ENSEMBLE_FILE", "ONNX_NAME", "load", "shipped_models"),
    "_onnx": ("OnnxModel", "export_onnx"),
    "_quantize": ("CALIBRATION_FACES", "calibration_inputs", "quantize_onnx"),
    "_runtime": ("OnnxClassifier",),
}
_LAZY = {name: f"fer_models.inference.{module}" for module, names in _MODULES.items() for name in names}

__all__ = ["BACKENDS", "CALIBRATION_FACES", "ENSEMBLE_FILE", "ONNX_NAME", "TTA_MODES", "TTA_VIEWS",
           "Classifier", "OnnxClassifier", "OnnxModel", "apply_temperature", "calibration_inputs",
           "export_onnx", "fit_temperature", "load", "negative_log_likelihood", "prepare_faces",
           "prepare_faces_numpy", "quantize_onnx", "shipped_models"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
