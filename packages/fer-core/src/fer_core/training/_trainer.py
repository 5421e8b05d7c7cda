"""The Trainer: one training loop for every command.

Batches come from the in-memory uint8 tensor and are augmented as whole-batch tensor ops. Each
epoch the sampler strategy sets the sampling weights; after it the selection split is evaluated,
the best checkpoint kept, the schedule and early stopping updated. Checkpoints hold everything
needed to continue bit for bit (weights, optimizer, schedule, scaler, EMA, RNG states, the
epoch's draw and the position in it).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from fer_core.classes import CLASSES, NUM_CLASSES
from fer_core.config import ExperimentConfig, Stage
from fer_core.config_validation import validate_config
from fer_core.data import FerDataset, Split, load_dataset
from fer_core.errors import FerError
from fer_core.plugins import DEFAULT_INPUT_SIZE, PluginSet, get_plugins
from fer_core.sampling import EpochContext, draw_epoch, example_weights
from fer_core.training._augment import BatchAugment, single_threaded
from fer_core.training._checkpoint import (
    CheckpointError,
    export_weights,
    load_checkpoint,
    model_weights_from,
    save_checkpoint,
)
from fer_core.training._device import resolve_device
from fer_core.training._distributed import DistInfo, barrier, broadcast_state, init_distributed, shard
from fer_core.training._evaluate import evaluate
from fer_core.training._memory import release_free_memory
from fer_core.training._model_io import trained_options
from fer_core.training._optim import build_optimizer, build_schedule
from fer_core.training._runs import RunDir
from fer_core.training._transforms import MEAN, STD, to_model_input

PROTOCOL = (
    "selection (best epoch) on PublicTest (role 'select'); reported once on PrivateTest "
    "(role 'report'); Public+Private (7,178 images on full FER2013) for comparison with the reports"
)
CHECKPOINT_FORMAT = 1


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


@dataclass
class TrainerControl:
    """The only way a lifecycle hook steers training."""

    should_stop: bool = False  # end training after the current batch
    should_save: bool = False  # write a checkpoint after the current batch


@dataclass
class TrainResult:
    steps: int
    epochs: int
    seconds: float
    best_epoch: int | None
    select: dict[str, Any]
    report: dict[str, Any] | None
    combined: dict[str, Any] | None
    history: list[dict[str, Any]] = field(default_factory=list)
    run_dir: Path | None = None
    protocol: str = PROTOCOL


def _limit(split: Split, n: int | None) -> Split:
    if n is None or len(split) <= n:
        return split
    soft = split.soft_labels[:n] if split.soft_labels is not None else None
    return Split(split.name, split.role, split.images[:n], split.labels[:n], split.indices[:n], soft)


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
        self.dataset = dataset if dataset is not None else load_dataset(
            d.path, ferplus=d.ferplus, labels=d.labels, subset_per_class=d.subset_per_class,
            seed=config.seed, resize=d.resize, skip_bad=d.skip_bad, cache=d.cache,
        )
        self.train_split = self.dataset.split("train")
        if tc.soft_labels and self.train_split.soft_labels is None:
            raise FerError("[train] soft_labels = true needs [data] labels = 'ferplus-distribution'")
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
        self.model = backbone.build_with({"num_classes": NUM_CLASSES, "in_chans": 1, **options},
                                         input_size=tc.augment.crop_size or DEFAULT_INPUT_SIZE)
        self.parent = parent
        if init_from is not None:
            weights, sha = model_weights_from(Path(init_from))
            self._load_model_weights(weights, init_from)
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

        self.strategy = self.plugins.get("sampler_strategy", tc.strategy).build(**tc.strategy_options)
        self.loss_fn = self.plugins.get("loss", tc.loss).build(**tc.loss_options)
        self.augment = BatchAugment(tc.augment, NUM_CLASSES)
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

    @property
    def eval_model(self) -> torch.nn.Module:
        """The model evaluation uses: the EMA weights when EMA is on."""
        return self.ema.module if self.ema is not None else self.model

    def _eval_weights(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.eval_model.state_dict().items()}

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: plain containers and tensors only."""
        rng = {"torch": torch.get_rng_state(), "order": self.order_gen.get_state(),
               "augment": self.aug_gen.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        strategy_state = self.strategy.state_dict() if hasattr(self.strategy, "state_dict") else None
        return {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "ema": self.ema.module.state_dict() if self.ema is not None else None,
            "ema_n_averaged": self.ema.n_averaged.clone() if self.ema is not None else None,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "strategy": strategy_state,
            "rng": rng,
            "position": {"epoch": self.epoch, "batch": self.batch_in_epoch, "step": self.step,
                         "order": self.epoch_order, "epoch_info": self.epoch_info,
                         "epoch_loss": list(self.epoch_loss), "skipped_steps": self.skipped_steps},
            "history": self.history,
            "best": dict(self.best),
            "bad_epochs": self.bad_epochs,
            "stage": self.stage.name,
            "config": self.config.to_json_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"checkpoint format {state.get('format')} is not {CHECKPOINT_FORMAT}")
        self._load_model_weights(state["model"], "checkpoint")
        if self.ema is not None and state.get("ema") is not None:
            self.ema.module.load_state_dict(state["ema"])
            self.ema.n_averaged.copy_(state["ema_n_averaged"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        if state.get("strategy") is not None and hasattr(self.strategy, "load_state_dict"):
            self.strategy.load_state_dict(state["strategy"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        self.order_gen.set_state(rng["order"])
        self.aug_gen.set_state(rng["augment"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        pos = state["position"]
        self.epoch, self.batch_in_epoch, self.step = pos["epoch"], pos["batch"], pos["step"]
        self.epoch_order, self.epoch_info = pos["order"], pos["epoch_info"]
        self.epoch_loss = list(pos["epoch_loss"])
        self.skipped_steps = int(pos.get("skipped_steps", 0))
        self.history = list(state["history"])
        self.best = dict(state["best"])
        self.bad_epochs = state["bad_epochs"]

    def resume(self, checkpoint: Path) -> None:
        """Continue from ``checkpoint`` exactly where it was written."""
        self.load_state_dict(load_checkpoint(checkpoint))
        if self.run is not None:
            self.run.truncate_history(len(self.history))
        self.log(f"resumed from {checkpoint} at epoch {self.epoch}, batch {self.batch_in_epoch}, "
                 f"step {self.step}")

    def save_checkpoint(self, kind: str = "step") -> Path | None:
        """Write a checkpoint into the run folder (rank 0 only); keeps the last ``keep_last``."""
        if self.run is None:
            return None
        folder = self.run.checkpoints
        path = folder / (f"step-{self.step:08d}.pt" if kind == "step" else f"{kind}.pt")
        self._hook("before_checkpoint", path=path)
        try:
            sha = save_checkpoint(self.state_dict(), path)
        except OSError as exc:  # disk full, permissions...: the previous checkpoints are untouched
            raise CheckpointError(
                f"could not write checkpoint {path}: {exc.strerror or exc}; the previous checkpoint "
                f"{self._last_checkpoint() or '(none yet)'} is intact: free space or fix permissions, "
                f"then resume with `fercli train --resume {self.run.path}`") from exc
        manifest = self.run.path / "checkpoints.json"
        entries = json.loads(manifest.read_text()) if manifest.exists() else {}
        entries[path.name] = {"sha256": sha, "epoch": self.epoch, "batch": self.batch_in_epoch,
                              "step": self.step}
        steps = sorted(p for p in folder.glob("step-*.pt"))
        for old in steps[:-self.tc.keep_last]:
            old.unlink(missing_ok=True)
            entries.pop(old.name, None)
        self.run.write_json("checkpoints.json", entries)
        self._hook("after_checkpoint", path=path)
        return path

    # -- one epoch ----------------------------------------------------------------------------
    def _start_epoch(self) -> None:
        train = self.train_split
        context = EpochContext(self.epoch, train.class_counts(), train.labels, tuple(self.history))
        weights = example_weights(self.strategy, context, self.tc.strategy)
        self.epoch_order = draw_epoch(weights, self.order_gen)
        per_class = torch.zeros(NUM_CLASSES, dtype=torch.float64).index_add_(0, train.labels, weights)
        share = (per_class / per_class.sum()).tolist()
        self.epoch_info = {
            "class_share": share,
            "class_weights": [float(w) for w in getattr(self.strategy, "class_weights", [])] or None,
            "focus": list(getattr(self.strategy, "focus", []) or []) or None,
        }
        self.epoch_loss = [0.0, 0]
        self._hook("before_epoch", epoch=self.epoch)

    def _forward_loss(self, idx: torch.Tensor) -> torch.Tensor:
        train = self.train_split
        # the data path's small ops stall on a busy CPU when split over threads (see single_threaded)
        with single_threaded(self.device.type == "cpu"):
            x = to_model_input(train.images[idx].to(self.device, non_blocking=True))
            y = (train.soft_labels[idx] if self.tc.soft_labels else train.labels[idx]).to(self.device)
            x, y = self.augment(x, y, self.aug_gen)
            if self.tc.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                            enabled=self.amp_dtype is not None):
            logits = self.train_model(x)
        return self.loss_fn(logits.float(), y)

    def _optimizer_step(self) -> None:
        if self.tc.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.tc.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        self.schedule.after_batch()
        self.step += 1

    def _run_batches(self) -> None:
        tc = self.tc
        order = shard(self.epoch_order, self.dist)
        micro = tc.batch_size
        total_micro = min(math.ceil(len(order) / micro), self.steps_per_epoch * tc.grad_accum)
        bar = self._bar(total=total_micro * micro, initial=self.batch_in_epoch * micro,
                        desc=f"epoch {self.epoch}", unit="img", leave=False, position=1)
        while self.batch_in_epoch < total_micro:
            if tc.max_steps is not None and self.step >= tc.max_steps:
                break
            idx = order[self.batch_in_epoch * micro:(self.batch_in_epoch + 1) * micro]
            done = self.batch_in_epoch + 1
            last_micro = done % tc.grad_accum == 0 or done == total_micro
            if last_micro:
                self._hook("before_batch", step=self.step)
            sync = contextlib.nullcontext()
            if self.dist.enabled and not last_micro:
                sync = self.train_model.no_sync()
            with sync:
                loss = self._forward_loss(idx)
                finite = bool(torch.isfinite(loss))
                if not finite and (tc.on_nonfinite_loss == "stop" or self.dist.enabled):
                    raise FerError(
                        f"loss is {loss.item()} at epoch {self.epoch}, batch {self.batch_in_epoch} "
                        f"(step {self.step}); last checkpoint: {self._last_checkpoint() or 'none'}")
                if finite:
                    # weight by share of the accumulation group's examples: the group's mean loss,
                    # also when the epoch's last group is short (fewer micro-batches, a partial one)
                    first = self.batch_in_epoch // tc.grad_accum * tc.grad_accum
                    end = min(first + tc.grad_accum, total_micro)
                    group_size = min(end * micro, len(order)) - first * micro
                    self.scaler.scale(loss * (len(idx) / group_size)).backward()
                else:
                    self._skip_group = True
            value = float(loss.detach())
            if finite:
                self.epoch_loss[0] += value
                self.epoch_loss[1] += 1
            self.batch_in_epoch += 1
            bar.update(len(idx))
            bar.set_postfix(loss=f"{value:.3f}", refresh=False)
            if not last_micro:
                continue
            if self._skip_group:  # on_nonfinite_loss = "skip": this step makes no update
                self._skip_group = False
                self.skipped_steps += 1
                self.log(f"non-finite loss at epoch {self.epoch}, batch {self.batch_in_epoch - 1} "
                         f"(step {self.step}): step skipped ({self.skipped_steps} so far)")
                self.optimizer.zero_grad(set_to_none=True)
                self.schedule.after_batch()
                self.step += 1
            else:
                self._optimizer_step()
            self._hook("after_batch", step=self.step, loss=value)
            if self.control.should_save or (tc.checkpoint_every and self.step % tc.checkpoint_every == 0):
                self.control.should_save = False
                self.save_checkpoint("step")
            if self.control.should_stop:
                break
        bar.close()

    def _bar(self, **kwargs: Any) -> tqdm:
        """A progress bar with throughput, shown on rank 0 and only on a terminal unless asked."""
        disable = (None if self.progress is None else not self.progress) if self.dist.is_main else True
        return tqdm(disable=disable, dynamic_ncols=True, **kwargs)

    def _last_checkpoint(self) -> Path | None:
        if self.run is None:
            return None
        found = sorted(self.run.checkpoints.glob("step-*.pt"))
        return found[-1] if found else None

    def _evaluate(self, role: str, split: Split) -> dict[str, Any]:
        self._hook("before_evaluation", split=role)
        metrics = evaluate(self.eval_model, split.images, split.labels, batch_size=self.tc.eval_batch_size,
                           device=self.device, crop_size=self.tc.augment.crop_size, tta=self.tc.tta,
                           channels_last=self.tc.channels_last)
        self._hook("after_evaluation", split=role, metrics=metrics)
        return metrics

    def _end_epoch(self, seconds: float) -> None:
        tc = self.tc
        broadcast_state(self.model, self.dist, buffers_only=True)
        if self.ema is not None:
            broadcast_state(self.ema, self.dist)
        select = self._evaluate("select", self.select_split)
        metric = select[tc.select_metric]
        row = {
            "epoch": self.epoch, "step": self.step,
            "train_loss": self.epoch_loss[0] / max(self.epoch_loss[1], 1),
            "lr": self.optimizer.param_groups[0]["lr"],
            "select": {k: select[k] for k in ("accuracy", "macro_f1", "per_class_f1", "ece")},
            **self.epoch_info, "seconds": seconds,
        }
        self.history.append(row)
        self.schedule.after_epoch(metric)
        improved = self.best["metric"] is None or metric > self.best["metric"]
        if improved:
            self.best = {"metric": metric, "epoch": self.epoch, "select": select}
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        focus = f", focus {', '.join(row['focus'])}" if row.get("focus") else ""
        self.log(f"epoch {self.epoch}: step {self.step}, loss {row['train_loss']:.4f}, lr {row['lr']:.2e}, "
                 f"select {tc.select_metric} {metric:.4f}{' (best)' if improved else ''}{focus} "
                 f"[{seconds:.0f}s]")
        if self.run is not None:
            self.run.log_epoch(row)
        self._hook("after_epoch", epoch=self.epoch, metrics=row)
        if tc.early_stopping is not None and self.bad_epochs >= tc.early_stopping:
            self.log(f"early stopping: no improvement for {self.bad_epochs} epochs")
            self.control.should_stop = True
        # the state after this epoch: the next one starts fresh
        self.epoch += 1
        self.batch_in_epoch = 0
        self.epoch_order = None
        if improved:
            self._best_weights = self._eval_weights()
            self.save_checkpoint("best")
        self.save_checkpoint("step")  # the epoch-end state replaces a step checkpoint of the same step
        release_free_memory()  # RSS stays flat over many epochs (see _memory)

    def _finished(self) -> bool:
        tc = self.tc
        return (self.control.should_stop or self.epoch >= tc.epochs
                or (tc.max_steps is not None and self.step >= tc.max_steps)
                # early-stopped (the flag above is not in checkpoints: a resumed run needs this)
                or (tc.early_stopping is not None and self.bad_epochs >= tc.early_stopping))

    # -- the whole run ------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        """Train until ``epochs``, ``max_steps`` or early stopping; then report the best epoch."""
        started = time.perf_counter()
        if self.step == 0 and self.epoch == 0 and self.batch_in_epoch == 0:
            torch.manual_seed(self.seed)  # dropout and the MixUp draw repeat per seed and stage
        try:
            self._hook("before_train")
            self.train_model.train()
            epochs_bar = self._bar(total=self.tc.epochs, initial=self.epoch, desc=self.stage.name,
                                   unit="epoch", position=0)
            while not self._finished():
                t0 = time.perf_counter()
                if self.epoch_order is None:
                    self._start_epoch()
                self._run_batches()
                if self.control.should_stop and self.batch_in_epoch < self._epoch_micro_batches():
                    break  # stopped mid-epoch by a hook: no partial-epoch evaluation
                self._end_epoch(time.perf_counter() - t0)
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

    def _epoch_micro_batches(self) -> int:
        order = shard(self.epoch_order, self.dist) if self.epoch_order is not None else []
        return min(math.ceil(len(order) / self.tc.batch_size), self.steps_per_epoch * self.tc.grad_accum)

    def _final_result(self, seconds: float) -> TrainResult:
        """Evaluate the best epoch's weights (chosen on select) on report and Public+Private."""
        best_file = self.run.checkpoints / "best.pt" if self.run is not None else None
        if self._best_weights is not None:
            self.eval_model.load_state_dict(self._best_weights)
        elif best_file is not None and best_file.exists():  # resumed: the best epoch came before
            best = load_checkpoint(best_file)
            self.eval_model.load_state_dict(best["ema"] if best.get("ema") is not None else best["model"])
        select = self.best.get("select") or self._evaluate("select", self.select_split)
        report = combined = None
        if self.report_split is not None and self.config.evaluate:
            report = self._evaluate("report", self.report_split)
            both = Split("Public+Private", None,
                         torch.cat([self.select_split.images, self.report_split.images]),
                         torch.cat([self.select_split.labels, self.report_split.labels]),
                         torch.cat([self.select_split.indices, self.report_split.indices]))
            combined = self._evaluate("combined", both)
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
            "num_classes": NUM_CLASSES,
            "in_chans": 1,
            "classes": list(CLASSES),
            "preprocessing": {"size": 48, "gray": True, "scale": 1 / 255, "mean": MEAN, "std": STD,
                              "crop_size": self.tc.augment.crop_size, "tta": self.tc.tta},
            "experiment": self.config.name,
            "stage": self.stage.name,
            "best_epoch": self.best["epoch"],
        }

    def _write_outputs(self, result: TrainResult) -> None:
        from fer_core.training._results import write_report

        assert self.run is not None
        export_weights(self.eval_model.state_dict(), self.run.path, self.weights_config())
        write_report(self.run, result)
        self.run.update_info(status="completed", finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                             best_epoch=result.best_epoch, steps=result.steps, epochs=result.epochs,
                             select_accuracy=result.select["accuracy"],
                             report_accuracy=result.report["accuracy"] if result.report else None,
                             combined_accuracy=result.combined["accuracy"] if result.combined else None)
