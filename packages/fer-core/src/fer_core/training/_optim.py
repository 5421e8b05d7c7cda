"""Optimizers (AdamW with the no-decay split, SGD with Nesterov) and learning-rate schedules."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from fer_core.config import TrainConfig

_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)


def param_groups(model: nn.Module, weight_decay: float, no_decay_norm_bias: bool = True) -> list[dict]:
    """Two groups: weights that decay, and biases plus norm-layer parameters that do not.

    The split of the efficiency report ("parameter-wise weight-decay split"): decaying a
    BatchNorm scale or a bias only fights the normalisation.
    """
    if not no_decay_norm_bias:
        return [{"params": [p for p in model.parameters() if p.requires_grad],
                 "weight_decay": weight_decay}]
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            if isinstance(module, _NORMS) or name.endswith("bias") or p.ndim <= 1:
                no_decay.append(p)
            else:
                decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, tc: TrainConfig) -> torch.optim.Optimizer:
    groups = param_groups(model, tc.weight_decay, tc.no_decay_norm_bias)
    if tc.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=tc.lr, momentum=tc.momentum, nesterov=tc.nesterov)
    return torch.optim.AdamW(groups, lr=tc.lr)


class Schedule:
    """A learning-rate schedule and when it steps: after each batch, each epoch, or on a metric."""

    def __init__(self, scheduler: Any, when: str):
        self.scheduler = scheduler
        self.when = when  # "batch", "epoch", "metric" or "never"

    def after_batch(self) -> None:
        if self.when == "batch":
            self.scheduler.step()

    def after_epoch(self, metric: float) -> None:
        if self.when == "epoch":
            self.scheduler.step()
        elif self.when == "metric":
            self.scheduler.step(metric)

    def state_dict(self) -> dict:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)


def build_schedule(optimizer: torch.optim.Optimizer, tc: TrainConfig, steps_per_epoch: int) -> Schedule:
    """OneCycle (per batch), cosine with linear warmup (per batch), ReduceLROnPlateau (on the
    selection metric, per epoch), or none."""
    total = max(1, tc.epochs * steps_per_epoch)
    if tc.max_steps is not None:
        total = min(total, tc.max_steps)
    if tc.scheduler == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=tc.lr, total_steps=total, pct_start=tc.onecycle_pct_start)
        return Schedule(sched, "batch")
    if tc.scheduler == "cosine":
        warmup = int(tc.warmup_epochs * steps_per_epoch)
        floor = tc.min_lr / tc.lr

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        return Schedule(torch.optim.lr_scheduler.LambdaLR(optimizer, factor), "batch")
    if tc.scheduler == "plateau":
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=tc.plateau_factor, patience=tc.plateau_patience,
            min_lr=tc.min_lr)
        return Schedule(plateau, "metric")
    return Schedule(None, "never")
