"""The TensorBoard plugin writes scalars when asked, and does nothing otherwise."""

from __future__ import annotations

import pytest

from fer_core import plugins
from fer_core.config import ExperimentConfig
from fer_core.training import Trainer


def _train(tmp_path, dataset, tensorboard: bool):
    cfg = ExperimentConfig.from_dict({
        "data": {"path": "unused"}, "device": "cpu", "output": {"tensorboard": tensorboard},
        "model": {"options": {"widths": [4, 8]}},
        "train": {"epochs": 2, "steps_per_epoch": 3, "batch_size": 16},
    })
    ps = plugins.PluginSet.load(allow=["fer_models", "fer_tensorboard"])
    trainer = Trainer(cfg, plugins=ps, dataset=dataset, run_root=tmp_path)
    trainer.fit()
    return trainer.run.path


def test_scalars_are_written(tmp_path, synthetic_dataset):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    run = _train(tmp_path, synthetic_dataset, tensorboard=True)
    acc = event_accumulator.EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"train/loss", "train/lr", "select/accuracy", "select_f1/disgust"} <= tags
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3, 4, 5, 6]
    assert len(acc.Scalars("select/accuracy")) == 2


def test_off_by_default(tmp_path, synthetic_dataset):
    run = _train(tmp_path, synthetic_dataset, tensorboard=False)
    assert not (run / "tensorboard").exists()
