"""The adaptive sampler strategy: boost the k weakest classes by last epoch's select F1."""

from __future__ import annotations

import doctest

import pytest
import torch

from fer_core import CLASSES, ConfigError, EpochContext, plugins
from fer_core.training import example_weights
from fer_models.strategies import adaptive

#          angry disgust fear happy sad  surprise neutral
F1 = [0.50, 0.10, 0.30, 0.90, 0.45, 0.80, 0.60]  # weakest: disgust, fear, sad, angry, ...
COUNTS = (40, 5, 40, 80, 40, 30, 50)


def _history(*f1_per_epoch):
    return [{"epoch": e, "select": {"accuracy": 0.5, "per_class_f1": list(f1)}}
            for e, f1 in enumerate(f1_per_epoch)]


def _context(history=(), counts=COUNTS) -> EpochContext:
    counts = torch.tensor(counts)
    labels = torch.repeat_interleave(torch.arange(7), counts)
    return EpochContext(epoch=len(history), class_counts=counts, labels=labels, history=tuple(history))


def _adaptive(**options):
    return plugins.get_plugins().get("sampler_strategy", "adaptive").build(**options)


def test_epoch_zero_gives_ones_and_no_focus():
    s = _adaptive()
    w = s.weights(_context())
    assert w.dtype == torch.float64 and w.tolist() == [1.0] * 7
    assert s.focus == [] and s.class_weights == [1.0] * 7


def test_picks_the_two_weakest_classes_of_the_last_epoch_only():
    s = _adaptive()
    # the first epoch's weakest were happy and neutral; only the last entry counts
    history = _history([0.9, 0.9, 0.9, 0.1, 0.9, 0.9, 0.2], F1)
    w = s.weights(_context(history))
    assert s.focus == ["disgust", "fear"]
    assert w.tolist() == [1.0, 5.0, 3.0, 1.0, 1.0, 1.0, 1.0]
    assert s.class_weights == w.tolist()


def test_rank_rule_is_linear_from_max_to_min():
    s = _adaptive(k=3, boost=[2.0, 6.0], rule="rank")
    s.weights(_context(_history(F1)))
    assert s.focus == ["disgust", "fear", "sad"]
    assert s.class_weights == [1.0, 6.0, 4.0, 1.0, 2.0, 1.0, 1.0]
    one = _adaptive(k=1, boost=[2.0, 6.0], rule="rank")
    one.weights(_context(_history(F1)))
    assert one.focus == ["disgust"] and one.class_weights == [1.0, 6.0, 1.0, 1.0, 1.0, 1.0, 1.0]


def test_fixed_rule_gives_every_focus_class_the_max():
    s = _adaptive(k=3, rule="fixed")
    s.weights(_context(_history(F1)))
    assert s.class_weights == [1.0, 5.0, 5.0, 1.0, 5.0, 1.0, 1.0]


def test_gap_rule_is_proportional_to_the_distance_below_the_mean_clipped():
    f1 = [0.6, 0.1, 0.3, 0.8, 0.45, 0.6, 0.65]  # mean 0.5
    s = _adaptive(k=3, boost=[2.0, 6.0], rule="gap")
    s.weights(_context(_history(f1)))
    assert s.focus == ["disgust", "fear", "sad"]
    # gaps 0.4, 0.2, 0.05 -> 6 * gap / 0.4 = 6, 3, 0.75 -> the last clipped up to 2
    assert s.class_weights == pytest.approx([1.0, 6.0, 3.0, 1.0, 2.0, 1.0, 1.0])
    # nothing below the mean: every focus class gets the min
    flat = _adaptive(rule="gap")
    flat.weights(_context(_history([0.5] * 7)))
    assert flat.focus == ["angry", "disgust"] and flat.class_weights == [3.0, 3.0, 1, 1, 1, 1, 1]


def test_ties_are_broken_by_class_index():
    s = _adaptive(k=2)
    tied = [0.7, 0.7, 0.3, 0.7, 0.3, 0.3, 0.7]  # fear, sad, surprise tie for weakest
    for _ in range(3):
        s.weights(_context(_history(tied)))
        assert s.focus == ["fear", "sad"]
        assert s.class_weights == [1.0, 1.0, 5.0, 1.0, 3.0, 1.0, 1.0]


def test_balanced_base_multiplies_inverse_frequency_by_the_boosts():
    s = _adaptive(base="balanced")
    assert s.weights(_context()).tolist() == pytest.approx([1 / c for c in COUNTS])
    w = s.weights(_context(_history(F1)))
    boost = [1.0, 5.0, 3.0, 1.0, 1.0, 1.0, 1.0]
    assert w.tolist() == pytest.approx([b / c for b, c in zip(boost, COUNTS, strict=True)])
    assert s.class_weights == boost  # the multipliers, without the base


def test_classes_without_training_examples_are_never_focus():
    counts = (40, 0, 40, 80, 40, 30, 50)  # disgust (F1 0.10) absent from the training split
    s = _adaptive(base="balanced")
    w = s.weights(_context(_history(F1), counts=counts))
    assert s.focus == ["fear", "sad"] and w[1] == 0.0


def test_is_a_pure_function_of_the_context():
    s = _adaptive()
    later = s.weights(_context(_history(F1))).tolist()
    assert s.weights(_context()).tolist() == [1.0] * 7 and s.focus == []
    assert _adaptive().weights(_context(_history(F1))).tolist() == later


def test_trainer_accepts_the_weights():
    ctx = _context(_history(F1))
    w = example_weights(_adaptive(), ctx, "adaptive")
    assert w.shape == ctx.labels.shape
    assert w[ctx.labels == CLASSES.index("disgust")].unique().tolist() == [5.0]
    assert w[ctx.labels == CLASSES.index("happy")].unique().tolist() == [1.0]
    assert example_weights(_adaptive(base="balanced"), ctx, "adaptive").shape == ctx.labels.shape


@pytest.mark.parametrize("options,message", [
    ({"k": 0}, r"option k = 0 is not allowed; expected an integer from 1 to 7"),
    ({"k": 8}, r"option k = 8 is not allowed"),
    ({"k": 2.5}, r"option k = 2.5 is not allowed"),
    ({"boost": [5.0, 3.0]}, r"option boost = \[5.0, 3.0\] is not allowed; expected two numbers "
                            r"\[min, max\] with 1 <= min <= max"),
    ({"boost": [0.5, 3.0]}, r"option boost = \[0.5, 3.0\]"),
    ({"boost": [3.0]}, r"option boost = \[3.0\]"),
    ({"boost": 3.0}, r"option boost = 3.0"),
    ({"boost": ["a", "b"]}, r"option boost = \['a', 'b'\]"),
    ({"rule": "linear"}, r"option rule = 'linear' is not allowed; allowed values: rank, fixed, gap"),
    ({"base": "inverse"}, r"option base = 'inverse' is not allowed; allowed values: uniform, balanced"),
])
def test_bad_options_raise_config_errors_naming_them(options, message):
    with pytest.raises(ConfigError, match=r"^adaptive strategy: " + message):
        _adaptive(**options)


def test_malformed_history_is_a_clear_error():
    from fer_core import PluginError

    with pytest.raises(PluginError, match=r"per_class_f1 must be 7 finite numbers"):
        _adaptive().weights(_context([{"select": {"per_class_f1": [0.5] * 6}}]))
    with pytest.raises(PluginError, match=r"needs history\[-1\]\['select'\]\['per_class_f1'\]"):
        _adaptive().weights(_context([{"select": {"accuracy": 0.5}}]))


def test_docstring_example_runs():
    result = doctest.testmod(adaptive)
    assert result.attempted > 0 and result.failed == 0
