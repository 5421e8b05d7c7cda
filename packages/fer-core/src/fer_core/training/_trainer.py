"""The Trainer: one training loop for every command.

Batches come from the in-memory uint8 tensor and are augmented as whole-batch tensor ops. Each
epoch the sampler strategy sets the sampling weights; after it the selection split is evaluated,
the best checkpoint kept, the schedule and early stopping updated. Checkpoints hold everything
needed to continue bit for bit (weights, optimizer, schedule, scaler, EMA, RNG states, the
epoch's draw and the position in it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from fer_core.config import ExperimentConfig, Stage
from fer_core.config_validation import SOFT_SOURCES, needs_soft_labels, validate_config
from fer_core.data import FerDataset, Split
from fer_core.errors import FerError
from fer_core.plugins import DEFAULT_INPUT_SIZE, PluginSet, get_plugins
from fer_core.training._augment import BatchAugment
from fer_core.training._checkpoint import CheckpointError, export_weights, load_checkpoint, model_weights_from
from fer_core.training._checkpointing import resume_from, write_checkpoint
from fer_core.training._device import resolve_device
from fer_core.training._distributed import DistInfo, barrier, init_distributed
from fer_core.training._head import fit_head
from fer_core.training._loop import (
    end_epoch,
    epoch_micro_batches,
    evaluate_split,
    finished,
    progress_bar,
    run_batches,
    start_epoch,
)
from fer_core.training._model_io import trained_options, weights_classes
from fer_core.training._optim import build_optimizer, build_schedule
from fer_core.training._results import write_report
from fer_core.training._runs import RunDir
from fer_core.training._state import restore_trainer_state, trainer_state
from fer_core.training._transforms import MEAN, STD
from fer_core.training._types import PROTOCOL, TrainerControl, TrainResult

__all__ = ["PROTOCOL", "TrainResult", "Trainer", "TrainerControl", "ema_update"]


def ema_update(decay: float, warmup: bool = True) -> Callable[..., None]:
    """torch's EMA update (``get_ema_multi_avg_fn``) with the decay ramped up over the first steps.

    With ``warmup``, update ``n`` uses ``min(decay, (1 + n) / (10 + n))`` (the ``num_updates``
    rule of TensorFlow's ExponentialMovingAverage): 0.18 at the first update, 0.92 at the 100th,
    ``decay`` from about ``9 / (1 - decay)`` updates on. Without it, an EMA with decay 0.999 still
    holds 0.999 ** 1000 = 37% of the random initial weights after 1,000 steps.
    """

    def update(ema_params: Any, model_params: Any, num_averaged: torch.Tensor) -> None:
        n = int(num_averaged)
        d = min(decay, (1 + n) / (10 + n)) if warmup else decay
        get_ema_multi_avg_fn(d)(ema_params, model_params, num_averaged)

    return update


def _limit(split: Split, n: int | None) -> Split:
    if n is None or len(split) <= n:
        return split
    soft = split.soft_labels[:n] if split.soft_labels is not None else None
    return Split(split.name, split.role, split.images[:n], split.labels[:n], split.indices[:n], soft,
                 split.classes)


class Trainer:
    """Builds model, strategy, loss, optimizer and schedule from a config and its plugins, then trains.

    ``run_root``: where a new run folder goes (``None``: no files written); ``run``: an existing
    run folder to continue in (with :meth:`resume`). ``init_from``: warm start from a checkpoint,
    run folder or safetensors file (weights only, fresh optimizer). ``restoring``: a checkpoint
    will be loaded next (see :meth:`resume`), so initial weights are not loaded.
    """

    def __init__(
        self,
        config: ExperimentConfig,
        *,
        stage: Stage | None = None,
        plugins: PluginSet | None = None,
        dataset: FerDataset | None = None,
        log: Callable[[str], None] | None = None,
        run_root: Path | None = None,
        run_name: str | None = None,
        run: RunDir | None = None,
        init_from: Path | None = None,
        parent: dict[str, Any] | None = None,
        progress: bool | None = None,
        restoring: bool = False,
    ):
        self.config = config
        self.stage = stage or config.resolved_stages()[0]
        self.tc = tc = self.stage.train
        self.plugins = plugins if plugins is not None else get_plugins()
        self.control = TrainerControl()
        self._skip_group = False  # a non-finite loss in this accumulation group (on_nonfinite_loss = "skip")
        self.skipped_steps = 0
        # every name and option checked against the plugins before any data loads
        validate_config(config, self.plugins, stages=[self.stage], data_from_config=dataset is None)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = resolve_device(config.device)
        self.dist: DistInfo = init_distributed(self.device)
        self._log = log or (lambda msg: None)
        self.progress = progress

        d = config.data
        self.dataset = dataset if dataset is not None else d.load(seed=config.seed)
        self.train_split = self.dataset.split("train")
        loss_entry = self.plugins.get("loss", tc.loss)
        #: train on the FER+ vote distributions: [train] soft_labels, or a loss that needs them (pld)
        self.soft_targets = tc.soft_labels or needs_soft_labels(loss_entry.factory)
        if self.soft_targets and self.train_split.soft_labels is None:
            what = "[train] soft_labels = true" if tc.soft_labels else f"[train] loss = {tc.loss!r}"
            raise FerError(f"{what} {SOFT_SOURCES}")
        self.select_split = _limit(self.dataset.split("select"), d.eval_limit)
        self.report_split = (_limit(self.dataset.split("report"), d.eval_limit)
                             if self.dataset.has_role("report") else None)

        self.seed = seed = self.stage.seed(config.seed)  # this stage's: see Stage.seed
        torch.manual_seed(seed)
        # weights come next from init_from or a checkpoint: skip re-reading pretrained files
        weights_follow = init_from is not None or restoring
        backbone = self.plugins.get("backbone", config.model.backbone)
        options = (trained_options(config.model.options, backbone.factory) if weights_follow
                   else config.model.options)
        #: the class set of the labels (7, or FER+'s 8 with ``ferplus8-`` labels): the head's size
        self.classes = self.dataset.classes
        self.model = backbone.build_with({"num_classes": len(self.classes), "in_chans": 1, **options},
                                         input_size=tc.augment.crop_size or DEFAULT_INPUT_SIZE)
        self.parent = parent
        if init_from is not None:
            weights, sha = model_weights_from(Path(init_from))
            self._load_model_weights(self._fit_head(weights, Path(init_from)), init_from)
            self.parent = {**(parent or {}), "checkpoint": str(init_from), "sha256": sha}
        self.model.to(self.device)
        if tc.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.ema = (AveragedModel(self.model, multi_avg_fn=ema_update(tc.ema, tc.ema_warmup),
                                  use_buffers=True) if tc.ema else None)
        self.train_model: torch.nn.Module = self.model
        if self.dist.enabled:
            ids = [self.dist.local_rank] if self.device.type == "cuda" else None
            self.train_model = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

        self.strategy = self.plugins.get("sampler_strategy", tc.strategy).build_for(
            self.classes, **tc.strategy_options)
        self.loss_fn = loss_entry.build_for(self.classes, **tc.loss_options)
        self.augment = BatchAugment(tc.augment, len(self.classes))
        self.optimizer = build_optimizer(self.model, tc)
        per_rank = math.ceil(len(self.train_split) / self.dist.world)
        self.steps_per_epoch = math.ceil(per_rank / (tc.batch_size * tc.grad_accum))
        if tc.steps_per_epoch is not None:
            self.steps_per_epoch = min(self.steps_per_epoch, tc.steps_per_epoch)
        self.schedule = build_schedule(self.optimizer, tc, self.steps_per_epoch)
        amp = tc.amp if tc.amp != "auto" else ("fp16" if self.device.type == "cuda" else "off")
        self.amp_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(amp)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=amp == "fp16")

        self.order_gen = torch.Generator().manual_seed(seed)
        self.aug_gen = torch.Generator().manual_seed(seed * 1_000_003 + 1 + self.dist.rank)
        self.epoch = 0
        self.batch_in_epoch = 0  # micro-batches done in the current epoch
        self.step = 0  # optimizer steps done
        self.epoch_order: torch.Tensor | None = None
        self.epoch_info: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {"metric": None, "epoch": None}
        self.bad_epochs = 0
        self.epoch_loss = [0.0, 0]
        self._best_weights: dict[str, torch.Tensor] | None = None

        self.run: RunDir | None = run if self.dist.is_main else None
        if run is None and run_root is not None and self.dist.is_main:
            self.run = RunDir.create(Path(run_root), run_name or config.name, info={
                "experiment": config.name, "stage": self.stage.name, "device": str(self.device),
                "world_size": self.dist.world, "parent": self.parent,
            })
            self.run.write_json("config.json", {**config.to_json_dict(), "stage": self.stage.name,
                                                "resolved_train": tc.model_dump(mode="json")})

    # -- logging ------------------------------------------------------------------------------
    def log(self, msg: str) -> None:
        if self.dist.is_main:
            self._log(msg)

    def _hook(self, name: str, **kwargs: Any) -> None:
        self.plugins.call(name, trainer=self, **kwargs)

    # -- weights ------------------------------------------------------------------------------
    def _load_model_weights(self, weights: dict[str, torch.Tensor], source: Any) -> None:
        try:
            self.model.load_state_dict(weights)
        except RuntimeError as exc:
            raise CheckpointError(
                f"{source}: weights do not fit backbone {self.config.model.backbone!r} with options "
                f"{self.config.model.options}: {str(exc).splitlines()[0]}"
            ) from None

    def _fit_head(self, weights: dict[str, torch.Tensor], source: Path) -> dict[str, torch.Tensor]:
        """Init weights of another class set (7 -> FER+'s 8, say): the head's rows mapped by name."""
        state = self.model.state_dict()
        if all(state.get(k) is None or state[k].shape == v.shape for k, v in weights.items()):
            return weights
        old = weights_classes(source)
        fitted, keys = fit_head(weights, state, old, self.classes)
        if keys:
            new = [c for c in self.classes if c not in old]
            dropped = [c for c in old if c not in self.classes]
            self.log(f"init: {', '.join(keys)} mapped from {len(old)} to {len(self.classes)} classes "
                     f"(new, freshly initialised: {', '.join(new) or 'none'}; dropped: "
                     f"{', '.join(dropped) or 'none'})")
        return fitted

    @property
    def eval_model(self) -> torch.nn.Module:
        """The model evaluation uses: the EMA weights when EMA is on."""
        return self.ema.module if self.ema is not None else self.model

    def _eval_weights(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.eval_model.state_dict().items()}

    # -- state and checkpoints (what they hold: _state; their files: _checkpointing) ------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: plain containers and tensors only."""
        return trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (into a trainer built from the same config)."""
        restore_trainer_state(self, state)

    def resume(self, checkpoint: Path) -> None:
        """Continue from ``checkpoint`` exactly where it was written."""
        resume_from(self, checkpoint)

    def save_checkpoint(self, kind: str = "step") -> Path | None:
        """Write a checkpoint into the run folder (rank 0 only); keeps the last ``keep_last``."""
        return write_checkpoint(self, kind)

    # -- the whole run (one epoch, its batches and its end: _loop) ------------------------------
    def fit(self) -> TrainResult:
        """Train until ``epochs``, ``max_steps`` or early stopping; then report the best epoch."""
        started = time.perf_counter()
        if self.step == 0 and self.epoch == 0 and self.batch_in_epoch == 0:
            torch.manual_seed(self.seed)  # dropout and the MixUp draw repeat per seed and stage
        try:
            self._hook("before_train")
            self.train_model.train()
            epochs_bar = progress_bar(self, total=self.tc.epochs, initial=self.epoch, desc=self.stage.name,
                                   unit="epoch", position=0)
            while not finished(self):
                t0 = time.perf_counter()
                if self.epoch_order is None:
                    start_epoch(self)
                run_batches(self)
                if self.control.should_stop and self.batch_in_epoch < epoch_micro_batches(self):
                    break  # stopped mid-epoch by a hook: no partial-epoch evaluation
                end_epoch(self, time.perf_counter() - t0)
                epochs_bar.update(1)
            epochs_bar.close()
            barrier(self.dist)
            result = self._final_result(time.perf_counter() - started)
        except BaseException as exc:
            if self.run is not None:
                self.run.update_info(status="failed", error=f"{type(exc).__name__}: {exc}")
            self._hook("on_train_error", error=exc)
            raise
        self._hook("after_train", result=result)
        return result

    def _final_result(self, seconds: float) -> TrainResult:
        """Evaluate the best epoch's weights (chosen on select) on report and Public+Private."""
        best_file = self.run.checkpoints / "best.pt" if self.run is not None else None
        if self._best_weights is not None:
            self.eval_model.load_state_dict(self._best_weights)
        elif best_file is not None and best_file.exists():  # resumed: the best epoch came before
            best = load_checkpoint(best_file)
            self.eval_model.load_state_dict(best["ema"] if best.get("ema") is not None else best["model"])
        select = self.best.get("select") or evaluate_split(self, "select", self.select_split)
        report = combined = None
        if self.report_split is not None and self.config.evaluate:
            report = evaluate_split(self, "report", self.report_split)
            both = Split("Public+Private", None,
                         torch.cat([self.select_split.images, self.report_split.images]),
                         torch.cat([self.select_split.labels, self.report_split.labels]),
                         torch.cat([self.select_split.indices, self.report_split.indices]),
                         classes=self.select_split.classes)
            combined = evaluate_split(self, "combined", both)
        result = TrainResult(self.step, len(self.history), seconds, self.best["epoch"], select, report,
                             combined, self.history, self.run.path if self.run else None)
        if self.run is not None:
            self._write_outputs(result)
        return result

    def weights_config(self) -> dict[str, Any]:
        """The JSON config exported beside the weights: enough to rebuild and feed the model."""
        return {
            "backbone": self.config.model.backbone,
            "options": self.config.model.options,
            "num_classes": len(self.classes),
            "in_chans": 1,
            "classes": list(self.classes),
            "preprocessing": {"size": 48, "gray": True, "scale": 1 / 255, "mean": MEAN, "std": STD,
                              "crop_size": self.tc.augment.crop_size, "tta": self.tc.tta},
            "experiment": self.config.name,
            "stage": self.stage.name,
            "best_epoch": self.best["epoch"],
        }

    def _write_outputs(self, result: TrainResult) -> None:
        assert self.run is not None
        export_weights(self.eval_model.state_dict(), self.run.path, self.weights_config())
        write_report(self.run, result)
        self.run.update_info(status="completed", finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                             best_epoch=result.best_epoch, steps=result.steps, epochs=result.epochs,
                             select_accuracy=result.select["accuracy"],
                             report_accuracy=result.report["accuracy"] if result.report else None,
                             combined_accuracy=result.combined["accuracy"] if result.combined else None)
