"""The training engine: Trainer, checkpoints, runs, evaluation, batch augmentation."""

from fer_core.sampling import EpochContext, SamplerStrategy, draw_epoch, example_weights
from fer_core.training._augment import BatchAugment, eval_views
from fer_core.training._checkpoint import (
    WEIGHTS_CONFIG,
    WEIGHTS_NAME,
    CheckpointError,
    atomic_write,
    atomic_write_text,
    check_sha256,
    export_weights,
    load_checkpoint,
    load_weights,
    model_weights_from,
    read_json_config,
    sha256_file,
)
from fer_core.training._device import resolve_device
from fer_core.training._evaluate import (
    classification_metrics,
    drop_contempt,
    evaluate,
    expected_calibration_error,
    match_classes,
    predict_proba,
)
from fer_core.training._experiment import (
    apply_smoke,
    load_experiment_data,
    newest_intact_checkpoint,
    resume_trainer,
    run_experiment,
)
from fer_core.training._ferplus_protocol import (
    FERPLUS8_PROTOCOL,
    FERPLUS_PROTOCOL,
    FerPlusTestSet,
    evaluate_ferplus,
    ferplus_metrics,
    ferplus_test_set,
)
from fer_core.training._model_io import load_trained_model, run_config
from fer_core.training._optim import build_optimizer, build_schedule, param_groups
from fer_core.training._results import format_result, per_class_table, plot_confusion, write_report
from fer_core.training._runs import RunDir, find_runs, resolve_run
from fer_core.training._trainer import Trainer
from fer_core.training._transforms import to_model_input
from fer_core.training._types import PROTOCOL, TrainerControl, TrainResult

__all__ = [
    "FERPLUS8_PROTOCOL",
    "FERPLUS_PROTOCOL",
    "PROTOCOL",
    "WEIGHTS_CONFIG",
    "WEIGHTS_NAME",
    "BatchAugment",
    "CheckpointError",
    "EpochContext",
    "FerPlusTestSet",
    "RunDir",
    "SamplerStrategy",
    "TrainResult",
    "Trainer",
    "TrainerControl",
    "apply_smoke",
    "atomic_write",
    "atomic_write_text",
    "build_optimizer",
    "build_schedule",
    "check_sha256",
    "classification_metrics",
    "draw_epoch",
    "drop_contempt",
    "eval_views",
    "evaluate",
    "evaluate_ferplus",
    "example_weights",
    "expected_calibration_error",
    "export_weights",
    "ferplus_metrics",
    "ferplus_test_set",
    "find_runs",
    "format_result",
    "load_checkpoint",
    "load_experiment_data",
    "load_trained_model",
    "load_weights",
    "match_classes",
    "model_weights_from",
    "newest_intact_checkpoint",
    "param_groups",
    "per_class_table",
    "plot_confusion",
    "predict_proba",
    "read_json_config",
    "resolve_device",
    "resolve_run",
    "resume_trainer",
    "run_config",
    "run_experiment",
    "sha256_file",
    "to_model_input",
    "write_report",
]
