"""A crash at any point of a run (batches, epoch ends, evaluations, checkpoint writes) resumes from
the newest intact checkpoint to the same final weights, bit for bit, as a run never interrupted.

The crash is an exception that is not an ``Exception`` (like a SIGKILL, nothing catches it) raised
from a lifecycle hook or from inside the checkpoint writer. tests/core/test_resume.py does the same
with a real SIGKILL of a ``fercli train`` subprocess.
"""

from __future__ import annotations

import pytest
import torch

from fer_core import hookimpl, plugins
from fer_core.config import ExperimentConfig
from fer_core.training import RunDir, Trainer, newest_intact_checkpoint
from fer_core.training import _checkpoint as checkpoint_module

pytestmark = pytest.mark.usefixtures("one_thread")


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so no handler in the toolkit swallows it."""


def _config() -> ExperimentConfig:
    return ExperimentConfig.from_dict({
        "data": {"path": "unused"}, "device": "cpu", "seed": 3,
        "model": {"options": {"widths": [8, 16]}},
        "train": {"epochs": 3, "batch_size": 32, "lr": 3e-3, "checkpoint_every": 2, "ema": 0.9,
                  "augment": {"translate": 2, "hflip": True, "erasing": 0.3, "mixup": 0.2, "mix_prob": 0.5}},
    })


class Killer:
    """Raises Killed at one named point of the run."""

    def __init__(self, hook: str, when: int):
        self.hook, self.when = hook, when

    def _maybe(self, hook: str, value: int) -> None:
        if hook == self.hook and value == self.when:
            raise Killed(f"{hook} {value}")

    @hookimpl
    def after_batch(self, trainer, step, loss):
        self._maybe("after_batch", step)

    @hookimpl
    def before_checkpoint(self, trainer, path):
        self._maybe("before_checkpoint", trainer.step)

    @hookimpl
    def after_checkpoint(self, trainer, path):
        self._maybe("after_checkpoint", trainer.step)

    @hookimpl
    def before_evaluation(self, trainer, split):
        self._maybe("before_evaluation", trainer.epoch)

    @hookimpl
    def after_evaluation(self, trainer, split, metrics):
        self._maybe("after_evaluation", trainer.epoch)

    @hookimpl
    def before_epoch(self, trainer, epoch):
        self._maybe("before_epoch", epoch)

    @hookimpl
    def after_epoch(self, trainer, epoch, metrics):
        self._maybe("after_epoch", epoch)


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    out = {f"model.{k}": v.clone() for k, v in trainer.model.state_dict().items()}
    out.update({f"ema.{k}": v.clone() for k, v in trainer.ema.module.state_dict().items()})
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory, synthetic_dataset_factory):
    dataset = synthetic_dataset_factory(per_class=20)
    torch.set_num_threads(1)
    trainer = Trainer(_config(), dataset=dataset, run_root=tmp_path_factory.mktemp("reference"),
                      plugins=plugins.PluginSet.load(allow=["fer_models"]))
    result = trainer.fit()
    assert result.steps == 15  # 140 images, 5 batches an epoch, 3 epochs
    return dataset, _weights(trainer)


KILL_POINTS = [
    ("after_batch", 3), ("after_batch", 4), ("after_batch", 5), ("after_batch", 7), ("after_batch", 11),
    ("after_batch", 14), ("before_checkpoint", 6), ("after_checkpoint", 8), ("write", 10),
    ("before_evaluation", 1), ("after_evaluation", 1), ("after_epoch", 0), ("before_epoch", 2),
]


@pytest.mark.parametrize(("hook", "when"), KILL_POINTS, ids=[f"{h}-{w}" for h, w in KILL_POINTS])
def test_killed_then_resumed_reaches_the_same_weights(reference, hook, when, tmp_path, monkeypatch):
    dataset, expected = reference
    only_models = plugins.PluginSet.load(allow=["fer_models"])
    if hook == "write":  # die half-way through writing a checkpoint file
        real_save = checkpoint_module.torch.save

        def dying_save(state, path):
            if state["position"]["step"] == when:
                with open(path, "wb") as fh:
                    fh.write(b"half a checkpoint")
                raise Killed("mid-write")
            real_save(state, path)

        monkeypatch.setattr(checkpoint_module.torch, "save", dying_save)
        killed_with = only_models
    else:
        killed_with = plugins.PluginSet.load(allow=["fer_models"], extra={"killer": Killer(hook, when)})
    first = Trainer(_config(), dataset=dataset, run_root=tmp_path, plugins=killed_with)
    with pytest.raises(Killed):
        first.fit()
    monkeypatch.undo()

    run = RunDir(first.run.path)
    checkpoint = newest_intact_checkpoint(run)
    second = Trainer(_config(), dataset=dataset, run=run, plugins=only_models, restoring=True)
    second.resume(checkpoint)
    assert second.fit().steps == 15
    got = _weights(second)
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in expected), [k for k in expected
                                                                    if not torch.equal(got[k], expected[k])]
