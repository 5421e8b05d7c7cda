"""TensorBoard logging as a plugin: active when the config says ``[output] tensorboard = true``.

Needs the optional extra: ``pip install 'fer-core[tensorboard]'``. Event files go to
``<run folder>/tensorboard/``.
"""

from __future__ import annotations

from typing import Any

from fer_core.classes import CLASSES
from fer_core.errors import FerError
from fer_core.hookspecs import hookimpl

_writers: dict[int, Any] = {}


def _writer(trainer: Any) -> Any | None:
    return _writers.get(id(trainer))


@hookimpl
def before_train(trainer: Any) -> None:
    if not trainer.config.output.tensorboard or trainer.run is None:
        return
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise FerError("[output] tensorboard = true needs: pip install 'fer-core[tensorboard]'") from exc
    _writers[id(trainer)] = SummaryWriter(log_dir=str(trainer.run.path / "tensorboard"))


@hookimpl
def after_batch(trainer: Any, step: int, loss: float) -> None:
    w = _writer(trainer)
    if w is not None:
        w.add_scalar("train/loss", loss, step)
        w.add_scalar("train/lr", trainer.optimizer.param_groups[0]["lr"], step)


@hookimpl
def after_epoch(trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
    w = _writer(trainer)
    if w is None:
        return
    step = metrics["step"]
    w.add_scalar("epoch/train_loss", metrics["train_loss"], step)
    for key in ("accuracy", "macro_f1", "ece"):
        if metrics["select"].get(key) is not None:
            w.add_scalar(f"select/{key}", metrics["select"][key], step)
    classes = tuple(metrics.get("classes") or CLASSES)
    for name, f1 in zip(classes, metrics["select"]["per_class_f1"], strict=True):
        w.add_scalar(f"select_f1/{name}", f1, step)
    for name, share in zip(classes, metrics.get("class_share") or [], strict=False):
        w.add_scalar(f"sampling_share/{name}", share, step)
    w.flush()


def _close(trainer: Any) -> None:
    w = _writers.pop(id(trainer), None)
    if w is not None:
        w.close()


@hookimpl
def after_train(trainer: Any, result: Any) -> None:
    _close(trainer)


@hookimpl
def on_train_error(trainer: Any, error: BaseException) -> None:
    _close(trainer)
