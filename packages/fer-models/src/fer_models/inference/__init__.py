"""Inference: load a trained model and classify faces given in any common form; ONNX export."""

from fer_models.inference._calibration import apply_temperature, fit_temperature, negative_log_likelihood
from fer_models.inference._classifier import TTA_MODES, TTA_VIEWS, Classifier
from fer_models.inference._faces import prepare_faces
from fer_models.inference._load import ENSEMBLE_FILE, ONNX_NAME, load, shipped_models
from fer_models.inference._onnx import OnnxModel, export_onnx
from fer_models.inference._quantize import CALIBRATION_FACES, calibration_inputs, quantize_onnx

__all__ = ["CALIBRATION_FACES", "ENSEMBLE_FILE", "ONNX_NAME", "TTA_MODES", "TTA_VIEWS", "Classifier",
           "OnnxModel", "apply_temperature", "calibration_inputs", "export_onnx", "fit_temperature", "load",
           "negative_log_likelihood", "prepare_faces", "quantize_onnx", "shipped_models"]
