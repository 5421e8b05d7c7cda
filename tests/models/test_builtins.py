"""fer-models' built-in backbones, strategies and losses, built through the plugin registry."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fer_core import ConfigError, EpochContext, plugins


def _context(counts=(10, 1, 10, 40, 10, 10, 19)) -> EpochContext:
    counts = torch.tensor(counts)
    labels = torch.repeat_interleave(torch.arange(7), counts)
    return EpochContext(epoch=0, class_counts=counts, labels=labels)


def _strategy(name: str, **options):
    return plugins.get_plugins().get("sampler_strategy", name).build(**options)


def test_small_cnn_maps_faces_to_logits():
    model = plugins.get_plugins().get("backbone", "small_cnn").build(num_classes=7, in_chans=1)
    assert model(torch.zeros(3, 1, 48, 48)).shape == (3, 7)
    wide = plugins.get_plugins().get("backbone", "small_cnn").build(
        num_classes=5, in_chans=3, widths=[4, 8, 16, 32])
    assert wide(torch.zeros(2, 3, 48, 48)).shape == (2, 5)


def test_uniform_and_balanced():
    ctx = _context()
    assert torch.equal(_strategy("uniform").weights(ctx), torch.ones(7, dtype=torch.float64))
    w = _strategy("balanced").weights(ctx)
    per_example = w[ctx.labels]
    # every class gets the same total weight
    totals = torch.zeros(7, dtype=torch.float64).index_add_(0, ctx.labels, per_example)
    assert torch.allclose(totals, torch.ones(7, dtype=torch.float64))


def test_class_weights_by_name_as_in_the_report():
    w = _strategy("class_weights", weights={"disgust": 3, "Fear": 2}).weights(_context())
    assert w.tolist() == [1, 3, 2, 1, 1, 1, 1]


def test_class_weights_errors_name_the_problem():
    with pytest.raises(ConfigError, match="unknown emotion class 'contempt'"):
        _strategy("class_weights", weights={"contempt": 2})
    with pytest.raises(ConfigError, match="expected 7 weights, got 2"):
        _strategy("class_weights", weights=[1, 2])
    with pytest.raises(ConfigError, match="finite and not negative"):
        _strategy("class_weights", weights={"happy": -1})


def test_cross_entropy_options():
    logits, y = torch.randn(8, 7, generator=torch.Generator().manual_seed(0)), torch.arange(8) % 7
    loss = plugins.get_plugins().get("loss", "cross_entropy")
    plain = loss.build()(logits, y)
    assert torch.isclose(plain, F.cross_entropy(logits, y))
    smooth = loss.build(label_smoothing=0.1)(logits, y)
    assert torch.isclose(smooth, F.cross_entropy(logits, y, label_smoothing=0.1))
    weighted = loss.build(class_weights={"angry": 4})(logits, y)
    expected = F.cross_entropy(logits, y, weight=torch.tensor([4.0, 1, 1, 1, 1, 1, 1]))
    assert torch.isclose(weighted, expected)
