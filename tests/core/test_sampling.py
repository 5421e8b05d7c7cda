"""Turning a strategy's answer into an epoch of indices: checks and determinism."""

from __future__ import annotations

import pytest
import torch

from fer_core import EpochContext, PluginError
from fer_core.training import draw_epoch, example_weights

CTX = EpochContext(epoch=0, class_counts=torch.tensor([2, 1, 0, 3, 0, 0, 0]),
                   labels=torch.tensor([0, 0, 1, 3, 3, 3]))


class Fixed:
    def __init__(self, w):
        self.w = w

    def weights(self, context):
        return torch.tensor(self.w, dtype=torch.float64)


def test_class_weights_expand_to_examples():
    w = example_weights(Fixed([1, 5, 1, 2, 1, 1, 1]), CTX, "fixed")
    assert w.tolist() == [1, 1, 5, 2, 2, 2]


def test_example_weights_pass_through():
    assert example_weights(Fixed([1, 2, 3, 4, 5, 6]), CTX, "fixed").tolist() == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("bad,msg", [
    ([1, 2, 3], "returned 3 weights; expected 7 .* or 6"),
    ([1, -1, 1, 1, 1, 1, 1], "returned negative, non-finite or all-zero"),
    ([0.0] * 7, "returned negative, non-finite or all-zero"),
    ([float("nan")] * 7, "returned negative, non-finite or all-zero"),
])
def test_bad_strategy_output_is_named(bad, msg):
    with pytest.raises(PluginError, match=f"sampler strategy 'fixed' {msg}"):
        example_weights(Fixed(bad), CTX, "fixed")


def test_uniform_draw_is_a_permutation_and_seeded():
    a = draw_epoch(torch.ones(100), torch.Generator().manual_seed(1))
    b = draw_epoch(torch.ones(100), torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and sorted(a.tolist()) == list(range(100))


def test_weighted_draw_follows_weights():
    w = torch.tensor([1.0] * 50 + [9.0] * 50)
    idx = draw_epoch(w, torch.Generator().manual_seed(0))
    share = (idx >= 50).double().mean().item()
    assert len(idx) == 100 and 0.8 < share < 0.98  # expected 0.9
