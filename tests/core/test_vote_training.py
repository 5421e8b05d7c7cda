"""Training on FER+ vote distributions: the pld loss plugin and [train] soft_labels."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from fer_core import FerError
from fer_core.config import ExperimentConfig
from fer_core.training import Trainer


def _config(**train) -> ExperimentConfig:
    base = {"epochs": 1, "max_steps": 3, "batch_size": 32, "lr": 3e-3}
    return ExperimentConfig.from_dict(
        {"data": {"path": "unused", "labels": "ferplus-distribution", "ferplus": "unused"}, "device": "cpu",
         "model": {"options": {"widths": [8, 16]}}, "train": {**base, **train}})


def _with_votes(ds):
    """The dataset with made-up vote distributions: 0.7 on the label, 0.3 on the next class."""
    soft = 0.7 * torch.nn.functional.one_hot(ds.labels, 7).float()
    soft += 0.3 * torch.nn.functional.one_hot((ds.labels + 1) % 7, 7).float()
    return dataclasses.replace(ds, soft_labels=soft)


def _targets_seen(trainer):
    seen = []
    loss_fn = trainer.loss_fn

    def recording(logits, targets):
        seen.append(targets.clone())
        return loss_fn(logits, targets)

    trainer.loss_fn = recording
    return seen


@pytest.mark.parametrize("train", [{"loss": "pld"}, {"soft_labels": True}])
def test_vote_distributions_reach_the_loss(synthetic_dataset, one_thread, train):
    trainer = Trainer(_config(**train), dataset=_with_votes(synthetic_dataset))
    seen = _targets_seen(trainer)
    trainer.fit()
    assert trainer.soft_targets and len(seen) == 3
    assert all(t.shape == (32, 7) and torch.allclose(t.unique(), torch.tensor([0.0, 0.3, 0.7])) for t in seen)


def test_hard_labels_stay_hard_for_other_losses(synthetic_dataset, one_thread):
    trainer = Trainer(_config(), dataset=_with_votes(synthetic_dataset))
    seen = _targets_seen(trainer)
    trainer.fit()
    assert not trainer.soft_targets and seen[0].shape == (32,)


def test_pld_without_distributions_in_the_data_is_one_error(synthetic_dataset):
    expected = (r"^\[train\] loss = 'pld' needs \[data\] labels = 'ferplus-distribution' "
                r"\(or 'ferplus8-distribution'\) or a \[data\] teacher file$")
    with pytest.raises(FerError, match=expected):
        Trainer(_config(loss="pld"), dataset=synthetic_dataset)
