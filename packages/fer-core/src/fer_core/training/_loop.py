"""The trainer's epoch and batch loop: sampling an epoch, micro-batches with gradient
accumulation, optimizer steps, evaluation on the selection split and the epoch's end."""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

import torch
from tqdm.auto import tqdm

from fer_core.classes import NUM_CLASSES
from fer_core.data import Split
from fer_core.errors import FerError
from fer_core.sampling import EpochContext, draw_epoch, example_weights
from fer_core.training._augment import single_threaded
from fer_core.training._distributed import broadcast_state, shard
from fer_core.training._evaluate import evaluate
from fer_core.training._memory import release_free_memory
from fer_core.training._transforms import to_model_input

if TYPE_CHECKING:
    from fer_core.training._trainer import Trainer


class TrainingLoop:
    """One epoch of the :class:`~fer_core.training.Trainer` and its parts (a mixin)."""

    def _start_epoch(self: Trainer) -> None:
        """Draw the epoch's order from the sampler strategy's weights."""
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

    def _forward_loss(self: Trainer, idx: torch.Tensor) -> torch.Tensor:
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

    def _optimizer_step(self: Trainer) -> None:
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

    def _run_batches(self: Trainer) -> None:
        """The epoch's (remaining) micro-batches, until its end, ``max_steps`` or a stop."""
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

    def _bar(self: Trainer, **kwargs: Any) -> tqdm:
        """A progress bar with throughput, shown on rank 0 and only on a terminal unless asked."""
        disable = (None if self.progress is None else not self.progress) if self.dist.is_main else True
        return tqdm(disable=disable, dynamic_ncols=True, **kwargs)

    def _evaluate(self: Trainer, role: str, split: Split) -> dict[str, Any]:
        self._hook("before_evaluation", split=role)
        metrics = evaluate(self.eval_model, split.images, split.labels, batch_size=self.tc.eval_batch_size,
                           device=self.device, crop_size=self.tc.augment.crop_size, tta=self.tc.tta,
                           channels_last=self.tc.channels_last)
        self._hook("after_evaluation", split=role, metrics=metrics)
        return metrics

    def _end_epoch(self: Trainer, seconds: float) -> None:
        """Evaluate on select, keep the best, step the schedule and early stopping, checkpoint."""
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

    def _finished(self: Trainer) -> bool:
        tc = self.tc
        return (self.control.should_stop or self.epoch >= tc.epochs
                or (tc.max_steps is not None and self.step >= tc.max_steps)
                # early-stopped (the flag above is not in checkpoints: a resumed run needs this)
                or (tc.early_stopping is not None and self.bad_epochs >= tc.early_stopping))

    def _epoch_micro_batches(self: Trainer) -> int:
        order = shard(self.epoch_order, self.dist) if self.epoch_order is not None else []
        return min(math.ceil(len(order) / self.tc.batch_size), self.steps_per_epoch * self.tc.grad_accum)
