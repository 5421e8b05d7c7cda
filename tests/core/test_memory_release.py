"""Freed heap memory goes back to the OS after every epoch (glibc malloc_trim), so RSS stays flat
over many epochs: benchmarks/train_memory.py measured +105 MB per 100 epochs without it."""

from __future__ import annotations

import ctypes.util
import sys

import pytest

from fer_core.config import ExperimentConfig
from fer_core.training import Trainer, _loop, _memory


def test_the_trainer_releases_free_memory_after_every_epoch(synthetic_dataset, monkeypatch):
    calls = []
    monkeypatch.setattr(_loop, "release_free_memory", lambda: calls.append(1) or True)
    config = ExperimentConfig.from_dict(
        {"data": {"path": "unused"}, "device": "cpu", "model": {"options": {"widths": [8, 16]}},
         "train": {"epochs": 3, "batch_size": 64, "lr": 3e-3}})
    result = Trainer(config, dataset=synthetic_dataset).fit()
    assert result.epochs == 3 and len(calls) == 3


@pytest.mark.skipif(not sys.platform.startswith("linux") or not ctypes.util.find_library("c"),
                    reason="malloc_trim is glibc's")
def test_release_free_memory_trims_the_heap_on_glibc():
    assert _memory.release_free_memory() is True


def test_release_free_memory_is_a_no_op_without_glibc(monkeypatch):
    _memory._malloc_trim.cache_clear()
    monkeypatch.setattr(_memory.sys, "platform", "darwin")
    try:
        assert _memory.release_free_memory() is False
    finally:
        _memory._malloc_trim.cache_clear()
