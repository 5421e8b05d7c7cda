"""Disk full or permission denied while saving: a clear error naming the intact previous checkpoint,
which still resumes; nothing the user had is lost."""

from __future__ import annotations

import errno

import pytest
import torch

from fer_core import plugins
from fer_core.config import ExperimentConfig
from fer_core.training import CheckpointError, RunDir, Trainer, load_checkpoint, newest_intact_checkpoint
from fer_core.training import _checkpoint as checkpoint_module

pytestmark = pytest.mark.usefixtures("one_thread")


def _config() -> ExperimentConfig:
    return ExperimentConfig.from_dict({
        "data": {"path": "unused"}, "device": "cpu",
        "model": {"options": {"widths": [8, 16]}},
        "train": {"epochs": 2, "batch_size": 32, "lr": 3e-3, "checkpoint_every": 2},
    })


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EACCES], ids=["disk-full", "permission"])
def test_a_failing_writer_keeps_the_previous_checkpoint(synthetic_dataset, tmp_path, monkeypatch, error):
    real_save = checkpoint_module.torch.save

    def failing_save(state, path):
        if state["position"]["step"] >= 6:
            with open(path, "wb") as fh:
                fh.write(b"partial")  # some bytes reach the temp file before the device fills up
            raise OSError(error, "No space left on device" if error == errno.ENOSPC else "Permission denied")
        real_save(state, path)

    monkeypatch.setattr(checkpoint_module.torch, "save", failing_save)
    ps = plugins.PluginSet.load(allow=["fer_models"])
    trainer = Trainer(_config(), dataset=synthetic_dataset, run_root=tmp_path, plugins=ps)
    with pytest.raises(CheckpointError, match=r"could not write checkpoint .*step-00000006\.pt.*previous "
                                              r"checkpoint .*step-00000004\.pt is intact.*--resume"):
        trainer.fit()
    monkeypatch.undo()
    run = RunDir(trainer.run.path)
    assert not list(run.checkpoints.glob("*.tmp")) and not (run.checkpoints / "step-00000006.pt").exists()
    newest = newest_intact_checkpoint(run)
    assert newest.name == "step-00000004.pt" and load_checkpoint(newest)["position"]["step"] == 4
    resumed = Trainer(_config(), dataset=synthetic_dataset, run=run, plugins=ps, restoring=True)
    resumed.resume(newest)
    assert resumed.fit().steps == 18 and all(torch.isfinite(p).all() for p in resumed.model.parameters())
