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


def test_every_builtin_is_registered_with_a_description():
    ps = plugins.get_plugins()
    strategies, losses = ps.sampler_strategies(), ps.losses()
    assert set(strategies) == {"uniform", "balanced", "class_weights", "adaptive"}
    assert set(losses) == {"cross_entropy", "focal", "soft_target_cross_entropy", "pld"}
    for registered in (*strategies.values(), *losses.values()):
        assert registered.plugin == "fer_models" and registered.description
    assert losses["focal"].description.startswith("Focal loss")
    assert strategies["adaptive"].description.startswith("Boost the k weakest classes")


def test_static_strategies_expose_focus_and_class_weights():
    ctx = _context()
    fixed = _strategy("class_weights", weights={"disgust": 3, "fear": 2, "sad": 0.5})
    assert fixed.focus == ["disgust", "fear"] and fixed.class_weights == [1, 3, 2, 1, 0.5, 1, 1]
    uniform = _strategy("uniform")
    uniform.weights(ctx)
    assert uniform.focus == [] and uniform.class_weights == [1.0] * 7
    balanced = _strategy("balanced")
    balanced.weights(ctx)  # 100 examples, 7 classes: a class of n is drawn 100 / (7 n) times as often
    assert balanced.class_weights == pytest.approx([100 / (7 * n) for n in (10, 1, 10, 40, 10, 10, 19)])


def test_class_weights_must_be_a_table_or_list_of_numbers():
    with pytest.raises(ConfigError, match="expected a table of class name = weight or a list of 7 numbers"):
        _strategy("class_weights", weights=2.0)
    with pytest.raises(ConfigError, match="weights must be numbers, got 'x'"):
        _strategy("class_weights", weights={"happy": "x"})
