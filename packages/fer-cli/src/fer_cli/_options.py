"""Options and helpers several commands share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from fer_core.config import ExperimentConfig

F = TypeVar("F", bound=Callable[..., Any])

out_option = click.option(
    "--out", "out", type=click.Path(path_type=Path), default=None,
    help="Folder for run folders (default: [output] dir of the config, 'runs').")
progress_option = click.option(
    "--progress/--no-progress", default=None,
    help="Progress bars (default: only on a terminal).")
seed_option = click.option(
    "--seed", type=int, default=None,
    help="Override the config's seed (e.g. to train several seeds of one recipe).")
threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None,
    help="Override the config's threads (CPU threads torch may use; 1 each for runs side by side).")

smoke_option = click.option(
    "--smoke", is_flag=True,
    help="Seconds-long version: 10 images per class, 2 batches per epoch, at most 2 epochs.")


backend_option = click.option(
    "--backend", type=click.Choice(["auto", "onnx", "torch"]), default="auto", show_default=True,
    help="Classifier runtime. auto: the model's float ONNX copy on ONNX Runtime and numpy (no torch "
         "loaded: the shipped default has one), else PyTorch; onnx: its ONNX copy whatever it is "
         "(fast's is int8); torch: PyTorch.")
inference_threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None, envvar="FER_THREADS", show_envvar=True,
    help="CPU threads of inference: ONNX Runtime (classifier and detector, which run one after the "
         "other), OpenCV, and torch when it is used. Default: the CPUs here, at most 2.")


def inference_options(command: F) -> F:
    """``--backend`` and ``--threads`` (env ``FER_THREADS``) of the commands that classify faces."""
    return backend_option(inference_threads_option(command))


def seed_threads_options(command: F) -> F:
    """``--seed`` and ``--threads``, overrides of the config's top-level keys."""
    return seed_option(threads_option(command))


def load_config(path: Path, *, smoke: bool = False, max_steps: int | None = None,
                epochs: int | None = None, subset_per_class: int | None = None,
                seed: int | None = None, threads: int | None = None) -> ExperimentConfig:
    """Read a config and apply the command-line overrides."""
    from fer_core.config import ExperimentConfig
    from fer_core.training import apply_smoke

    cfg = ExperimentConfig.from_toml(path)
    if seed is not None:
        cfg.seed = seed
    if threads is not None:
        cfg.threads = threads
    if max_steps is not None:
        cfg.train.max_steps = max_steps
    if epochs is not None:
        cfg.train.epochs = epochs
    if subset_per_class is not None:
        cfg.data.subset_per_class = subset_per_class
    if max_steps is not None or epochs is not None:
        cfg = ExperimentConfig.model_validate(cfg.model_dump())  # stages inherit the overrides
    return apply_smoke(cfg) if smoke else cfg
