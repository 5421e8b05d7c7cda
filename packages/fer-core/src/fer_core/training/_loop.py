"""The trainer's epoch and batch loop: sampling an epoch, micro-batches with gradient
accumulation, optimizer steps, evaluation on the selection split and the epoch's end.

Functions of the :class:`~fer_core.training.Trainer` whose state they advance; ``Trainer.fit``
runs them epoch by epoch.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from fer_core.data import Split
from fer_core.errors import FerError
from fer_core.sampling import EpochContext, draw_epoch, example_weights
from fer_core.training._augment import single_threaded
from fer_core.training._checkpointing import last_checkpoint
from fer_core.training._distributed import broadcast_state, shard
from fer_core.training._evaluate import evaluate
from fer_core.training._memory import release_free_memory
from fer_core.training._transforms import to_model_input

if TYPE_CHECKING:
    from fer_core.training._trainer import Trainer


def start_epoch(trainer: Trainer) -> None:
    """Draw the epoch's order from the sampler strategy's weights."""
    train = trainer.train_split
    context = EpochContext(trainer.epoch, train.class_counts(), train.labels, tuple(trainer.history))
    weights = example_weights(trainer.strategy, context, trainer.tc.strategy)
    trainer.epoch_order = draw_epoch(weights, trainer.order_gen)
    per_class = torch.zeros(len(train.classes), dtype=torch.float64).index_add_(0, train.labels, weights)
    share = (per_class / per_class.sum()).tolist()
    trainer.epoch_info = {
        "class_share": share,
        "class_weights": [float(w) for w in getattr(trainer.strategy, "class_weights", [])] or None,
        "focus": list(getattr(trainer.strategy, "focus", []) or []) or None,
    }
    trainer.epoch_loss = [0.0, 0]
    trainer._hook("before_epoch", epoch=trainer.epoch)


def forward_loss(trainer: Trainer, idx: torch.Tensor) -> torch.Tensor:
    """The loss of the training examples ``idx``, augmented, under autocast."""
    train = trainer.train_split
    # the data path's small ops stall on a busy CPU when split over threads (see single_threaded)
    with single_threaded(trainer.device.type == "cpu"):
        x = to_model_input(trainer.augment.corrupt(train.images[idx], trainer.aug_gen)
                           .to(trainer.device, non_blocking=True))
        soft = train.soft_labels if trainer.soft_targets else None  # (not None: checked at init)
        y = (soft[idx] if soft is not None else train.labels[idx]).to(trainer.device)
        x, y = trainer.augment(x, y, trainer.aug_gen)
        if trainer.tc.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(trainer.device.type, dtype=trainer.amp_dtype or torch.float32,
                        enabled=trainer.amp_dtype is not None):
        logits = trainer.train_model(x)
    return trainer.loss_fn(logits.float(), y)


def optimizer_step(trainer: Trainer) -> None:
    """Clip, step (through the grad scaler), update the EMA and the schedule."""
    if trainer.tc.grad_clip is not None:
        trainer.scaler.unscale_(trainer.optimizer)
        torch.nn.utils.clip_grad_norm_(trainer.model.parameters(), trainer.tc.grad_clip)
    trainer.scaler.step(trainer.optimizer)
    trainer.scaler.update()
    trainer.optimizer.zero_grad(set_to_none=True)
    if trainer.ema is not None:
        trainer.ema.update_parameters(trainer.model)
    trainer.schedule.after_batch()
    trainer.step += 1


def run_batches(trainer: Trainer) -> None:
    """The epoch's (remaining) micro-batches, until its end, ``max_steps`` or a stop."""
    tc = trainer.tc
    assert trainer.epoch_order is not None, "start_epoch draws the epoch's order first"
    order = shard(trainer.epoch_order, trainer.dist)
    micro = tc.batch_size
    total_micro = min(math.ceil(len(order) / micro), trainer.steps_per_epoch * tc.grad_accum)
    bar = progress_bar(trainer, total=total_micro * micro, initial=trainer.batch_in_epoch * micro,
                       desc=f"epoch {trainer.epoch}", unit="img", leave=False, position=1)
    while trainer.batch_in_epoch < total_micro:
        if tc.max_steps is not None and trainer.step >= tc.max_steps:
            break
        idx = order[trainer.batch_in_epoch * micro:(trainer.batch_in_epoch + 1) * micro]
        done = trainer.batch_in_epoch + 1
        last_micro = done % tc.grad_accum == 0 or done == total_micro
        if last_micro:
            trainer._hook("before_batch", step=trainer.step)
        sync: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if isinstance(trainer.train_model, DistributedDataParallel) and not last_micro:
            sync = trainer.train_model.no_sync()  # (train_model is DDP exactly when dist is enabled)
        with sync:
            loss = forward_loss(trainer, idx)
            finite = bool(torch.isfinite(loss))
            if not finite and (tc.on_nonfinite_loss == "stop" or trainer.dist.enabled):
                raise FerError(
                    f"loss is {loss.item()} at epoch {trainer.epoch}, batch {trainer.batch_in_epoch} "
                    f"(step {trainer.step}); last checkpoint: {last_checkpoint(trainer) or 'none'}")
            if finite:
                # weight by share of the accumulation group's examples: the group's mean loss,
                # also when the epoch's last group is short (fewer micro-batches, a partial one)
                first = trainer.batch_in_epoch // tc.grad_accum * tc.grad_accum
                end = min(first + tc.grad_accum, total_micro)
                group_size = min(end * micro, len(order)) - first * micro
                trainer.scaler.scale(loss * (len(idx) / group_size)).backward()
            else:
                trainer._skip_group = True
        value = float(loss.detach())
        if finite:
            trainer.epoch_loss[0] += value
            trainer.epoch_loss[1] += 1
        trainer.batch_in_epoch += 1
        bar.update(len(idx))
        bar.set_postfix(loss=f"{value:.3f}", refresh=False)
        if not last_micro:
            continue
        if trainer._skip_group:  # on_nonfinite_loss = "skip": this step makes no update
            trainer._skip_group = False
            trainer.skipped_steps += 1
            trainer.log(f"non-finite loss at epoch {trainer.epoch}, batch {trainer.batch_in_epoch - 1} "
                        f"(step {trainer.step}): step skipped ({trainer.skipped_steps} so far)")
            trainer.optimizer.zero_grad(set_to_none=True)
            trainer.schedule.after_batch()
            trainer.step += 1
        else:
            optimizer_step(trainer)
        trainer._hook("after_batch", step=trainer.step, loss=value)
        if trainer.control.should_save or (tc.checkpoint_every and trainer.step % tc.checkpoint_every == 0):
            trainer.control.should_save = False
            trainer.save_checkpoint("step")
        if trainer.control.should_stop:
            break
    bar.close()


def progress_bar(trainer: Trainer, **kwargs: Any) -> tqdm:
    """A progress bar with throughput, shown on rank 0 and only on a terminal unless asked."""
    disable = (None if trainer.progress is None else not trainer.progress) if trainer.dist.is_main else True
    return tqdm(disable=disable, dynamic_ncols=True, **kwargs)


def evaluate_split(trainer: Trainer, role: str, split: Split) -> dict[str, Any]:
    """Evaluate the trainer's evaluation model on ``split`` (role ``select``, ``report``, ...)."""
    trainer._hook("before_evaluation", split=role)
    tc = trainer.tc
    metrics = evaluate(trainer.eval_model, split.images, split.labels, batch_size=tc.eval_batch_size,
                       device=trainer.device, crop_size=tc.augment.crop_size, tta=tc.tta,
                       channels_last=tc.channels_last, classes=split.classes)
    trainer._hook("after_evaluation", split=role, metrics=metrics)
    return metrics


def end_epoch(trainer: Trainer, seconds: float) -> None:
    """Evaluate on select, keep the best, step the schedule and early stopping, checkpoint."""
    tc = trainer.tc
    broadcast_state(trainer.model, trainer.dist, buffers_only=True)
    if trainer.ema is not None:
        broadcast_state(trainer.ema, trainer.dist)
    select = evaluate_split(trainer, "select", trainer.select_split)
    metric = select[tc.select_metric]
    row = {
        "epoch": trainer.epoch, "step": trainer.step,
        "train_loss": trainer.epoch_loss[0] / max(trainer.epoch_loss[1], 1),
        "lr": trainer.optimizer.param_groups[0]["lr"],
        "select": {k: select[k] for k in ("accuracy", "macro_f1", "per_class_f1", "ece")},
        "classes": list(trainer.classes), **trainer.epoch_info, "seconds": seconds,
    }
    trainer.history.append(row)
    trainer.schedule.after_epoch(metric)
    improved = trainer.best["metric"] is None or metric > trainer.best["metric"]
    if improved:
        trainer.best = {"metric": metric, "epoch": trainer.epoch, "select": select}
        trainer.bad_epochs = 0
    else:
        trainer.bad_epochs += 1
    focus = f", focus {', '.join(row['focus'])}" if row.get("focus") else ""
    trainer.log(f"epoch {trainer.epoch}: step {trainer.step}, loss {row['train_loss']:.4f}, "
                f"lr {row['lr']:.2e}, select {tc.select_metric} {metric:.4f}"
                f"{' (best)' if improved else ''}{focus} [{seconds:.0f}s]")
    if trainer.run is not None:
        trainer.run.log_epoch(row)
    trainer._hook("after_epoch", epoch=trainer.epoch, metrics=row)
    if tc.early_stopping is not None and trainer.bad_epochs >= tc.early_stopping:
        trainer.log(f"early stopping: no improvement for {trainer.bad_epochs} epochs")
        trainer.control.should_stop = True
    # the state after this epoch: the next one starts fresh
    trainer.epoch += 1
    trainer.batch_in_epoch = 0
    trainer.epoch_order = None
    if improved:
        trainer._best_weights = trainer._eval_weights()
        trainer.save_checkpoint("best")
    trainer.save_checkpoint("step")  # the epoch-end state replaces a step checkpoint of the same step
    release_free_memory()  # RSS stays flat over many epochs (see _memory)


def finished(trainer: Trainer) -> bool:
    """Whether training is over: stopped, ``epochs`` or ``max_steps`` reached, early-stopped."""
    tc = trainer.tc
    return (trainer.control.should_stop or trainer.epoch >= tc.epochs
            or (tc.max_steps is not None and trainer.step >= tc.max_steps)
            # early-stopped (the flag above is not in checkpoints: a resumed run needs this)
            or (tc.early_stopping is not None and trainer.bad_epochs >= tc.early_stopping))


def epoch_micro_batches(trainer: Trainer) -> int:
    """How many micro-batches the current epoch has on this rank."""
    if trainer.epoch_order is None:
        return 0
    order = shard(trainer.epoch_order, trainer.dist)
    return min(math.ceil(len(order) / trainer.tc.batch_size), trainer.steps_per_epoch * trainer.tc.grad_accum)
