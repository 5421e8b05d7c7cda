"""The training engine: Trainer, sampler-strategy protocol, evaluation."""

from fer_core.sampling import EpochContext, SamplerStrategy, draw_epoch, example_weights
from fer_core.training._device import resolve_device
from fer_core.training._evaluate import classification_metrics, evaluate, predict_proba
from fer_core.training._results import format_result
from fer_core.training._trainer import PROTOCOL, Trainer, TrainerControl, TrainResult
from fer_core.training._transforms import random_hflip, to_model_input

__all__ = [
    "PROTOCOL",
    "EpochContext",
    "SamplerStrategy",
    "TrainResult",
    "Trainer",
    "TrainerControl",
    "classification_metrics",
    "draw_epoch",
    "evaluate",
    "example_weights",
    "format_result",
    "predict_proba",
    "random_hflip",
    "resolve_device",
    "to_model_input",
]
