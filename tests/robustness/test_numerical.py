"""AMP overflow: with fp16 and a GradScaler, an inf gradient skips that optimizer step and lowers
the scale; training goes on with finite weights (the same code path CUDA takes, run on CPU)."""

from __future__ import annotations

import pytest
import torch

from fer_core import hookimpl, plugins
from fer_core.config import ExperimentConfig
from fer_core.training import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


class Overflow:
    """Makes the head's weight gradient infinite during one optimizer step; records weights and scale."""

    def __init__(self, step: int):
        self.step, self.current = step, -1
        self.weights: dict[int, torch.Tensor] = {}
        self.scales: dict[int, float] = {}
        self._hooked = False

    @hookimpl
    def before_batch(self, trainer, step):
        self.current = step
        if not self._hooked:
            weight = trainer.model.head[-1].weight
            weight.register_hook(lambda g: g * float("inf") if self.current == self.step else g)
            self._hooked = True
        self.weights[step] = trainer.model.head[-1].weight.detach().clone()

    @hookimpl
    def after_batch(self, trainer, step, loss):
        self.scales[step] = trainer.scaler.get_scale()


def test_an_overflowing_step_is_skipped_by_the_scaler(synthetic_dataset):
    config = ExperimentConfig.from_dict({
        "data": {"path": "unused"}, "device": "cpu", "model": {"options": {"widths": [8, 16]}},
        "train": {"epochs": 1, "max_steps": 6, "batch_size": 32, "lr": 3e-3, "amp": "fp16"}})
    spy = Overflow(step=3)
    trainer = Trainer(config, dataset=synthetic_dataset,
                      plugins=plugins.PluginSet.load(allow=["fer_models"], extra={"spy": spy}))
    assert trainer.scaler.is_enabled()
    result = trainer.fit()
    assert result.steps == 6
    # step 3 (after_batch reports step 4) changed nothing and halved the scale; the others trained
    assert torch.equal(spy.weights[3], spy.weights[4])
    assert not torch.equal(spy.weights[2], spy.weights[3]) and not torch.equal(spy.weights[4], spy.weights[5])
    assert spy.scales[4] == spy.scales[3] / 2
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
