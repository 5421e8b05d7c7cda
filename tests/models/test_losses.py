"""The built-in losses with hard (class index) and soft (probability row) targets."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fer_core import ConfigError, plugins

GEN = torch.Generator().manual_seed(0)
LOGITS = torch.randn(16, 7, generator=GEN, dtype=torch.float64)
LABELS = torch.randint(0, 7, (16,), generator=GEN)
ONE_HOT = F.one_hot(LABELS, 7).double()
SOFT = torch.softmax(torch.randn(16, 7, generator=GEN, dtype=torch.float64), dim=1)  # rows sum to 1
WEIGHTS = [4.0, 2.0, 1.0, 0.5, 1.0, 3.0, 1.0]


def _loss(name: str, **options):
    return plugins.get_plugins().get("loss", name).build(**options)


def _close(a, b) -> bool:
    return torch.allclose(torch.as_tensor(a), torch.as_tensor(b), rtol=1e-10, atol=1e-12)


# -- cross_entropy ------------------------------------------------------------------------------

def test_cross_entropy_soft_targets_match_torch():
    assert _close(_loss("cross_entropy")(LOGITS, SOFT), F.cross_entropy(LOGITS, SOFT))
    smooth = _loss("cross_entropy", label_smoothing=0.1)(LOGITS, SOFT)
    assert _close(smooth, F.cross_entropy(LOGITS, SOFT, label_smoothing=0.1))


@pytest.mark.parametrize("options", [
    {}, {"label_smoothing": 0.1}, {"class_weights": WEIGHTS},
    {"class_weights": {"disgust": 5}, "label_smoothing": 0.2},
])
def test_cross_entropy_one_hot_rows_equal_class_indices(options):
    loss = _loss("cross_entropy", **options)
    assert _close(loss(LOGITS, ONE_HOT), loss(LOGITS, LABELS))


def test_cross_entropy_weighted_soft_targets_by_hand():
    w = torch.tensor(WEIGHTS, dtype=torch.float64)
    expected = (-SOFT * F.log_softmax(LOGITS, 1) * w).sum() / (SOFT * w).sum()
    assert _close(_loss("cross_entropy", class_weights=WEIGHTS)(LOGITS, SOFT), expected)


def test_loss_options_are_validated():
    with pytest.raises(ConfigError, match=r"cross_entropy loss: option label_smoothing = 1.5 is not allowed"):
        _loss("cross_entropy", label_smoothing=1.5)
    gamma_msg = r"focal loss: option gamma = -1 is not allowed; expected a number >= 0"
    with pytest.raises(ConfigError, match=gamma_msg):
        _loss("focal", gamma=-1)
    with pytest.raises(ConfigError, match=r"focal alpha: unknown emotion class 'contempt'"):
        _loss("focal", alpha={"contempt": 2})
    with pytest.raises(ConfigError, match=r"focal alpha: expected a table of class name = weight or a list"):
        _loss("focal", alpha=0.25)
    with pytest.raises(ConfigError, match=r"alpha and class_weights mean the same"):
        _loss("focal", alpha=WEIGHTS, class_weights=WEIGHTS)


def test_soft_targets_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"soft targets must have the shape of the logits \(16, 7\)"):
        _loss("focal")(LOGITS, SOFT[:, :5])


# -- focal --------------------------------------------------------------------------------------

@pytest.mark.parametrize("targets", [LABELS, SOFT], ids=["hard", "soft"])
def test_focal_with_gamma_zero_is_cross_entropy(targets):
    assert _close(_loss("focal", gamma=0)(LOGITS, targets), F.cross_entropy(LOGITS, targets))
    smooth = _loss("focal", gamma=0, label_smoothing=0.1)(LOGITS, targets)
    assert _close(smooth, F.cross_entropy(LOGITS, targets, label_smoothing=0.1))


def test_focal_with_gamma_zero_and_alpha_is_weighted_cross_entropy():
    got = _loss("focal", gamma=0, alpha=WEIGHTS)(LOGITS, LABELS)
    assert _close(got, F.cross_entropy(LOGITS, LABELS, weight=torch.tensor(WEIGHTS, dtype=torch.float64)))


def test_focal_hard_label_by_hand():
    logits, y = torch.tensor([[2.0, 0.5, -1.0, 0.0, 0.3, 0.1, -0.2]], dtype=torch.float64), torch.tensor([1])
    p = torch.softmax(logits, 1)[0, 1]
    assert _close(_loss("focal", gamma=2.0)(logits, y), -(1 - p) ** 2 * torch.log(p))


def test_focal_down_weights_easy_examples():
    easy = torch.tensor([[8.0, 0, 0, 0, 0, 0, 0]])  # confident and correct: p(angry) ~ 0.998
    hard = torch.tensor([[0.0, 0, 0, 0, 0, 0, 0]])  # unsure: p(angry) = 1/7
    y = torch.tensor([0])
    focal = _loss("focal")  # gamma 2
    assert focal(easy, y) < 1e-4 * F.cross_entropy(easy, y)
    assert focal(hard, y) > 0.7 * F.cross_entropy(hard, y)  # (6/7)^2 of it


def test_focal_alpha_weights_classes():
    logits = torch.zeros(2, 7)
    y = torch.tensor([0, 1])  # one angry, one disgust; the same loss l for each
    per_example = _loss("focal", gamma=2.0)(logits[:1], y[:1])
    weighted = _loss("focal", gamma=2.0, alpha={"angry": 3})
    assert _close(weighted(logits, y), (3 * per_example + per_example) / 4)
    # a larger alpha for the class with the larger loss raises the batch loss
    logits = torch.tensor([[0.0] * 7, [0.0, 4.0, 0, 0, 0, 0, 0]])
    assert weighted(logits, y) > _loss("focal", gamma=2.0)(logits, y)
    by_list = _loss("focal", alpha=[3, 1, 1, 1, 1, 1, 1])(logits, y)
    assert _close(by_list, weighted(logits, y))


@pytest.mark.parametrize("options", [
    {}, {"gamma": 0.5}, {"alpha": WEIGHTS}, {"label_smoothing": 0.1, "alpha": {"fear": 2}},
])
def test_focal_hard_and_one_hot_targets_agree(options):
    loss = _loss("focal", **options)
    assert _close(loss(LOGITS, LABELS), loss(LOGITS, ONE_HOT))


def test_focal_soft_targets_by_hand():
    p = torch.softmax(LOGITS, 1)
    expected = (-SOFT * (1 - p) ** 2 * torch.log(p)).sum(1).mean()
    assert _close(_loss("focal")(LOGITS, SOFT), expected)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_focal_gradients_are_finite_even_when_confident(gamma):
    logits = torch.tensor([[60.0, 0, 0, 0, 0, 0, 0], [0.0, 1, 2, 3, 4, 5, 6]], requires_grad=True)
    for targets in (torch.tensor([0, 3]), torch.tensor([[1.0, 0, 0, 0, 0, 0, 0], [0, 0, 0.5, 0.5, 0, 0, 0]])):
        logits.grad = None
        loss = _loss("focal", gamma=gamma, label_smoothing=0.1)(logits, targets)
        loss.backward()
        assert math.isfinite(loss.item()) and torch.isfinite(logits.grad).all()
        assert logits.grad.abs().sum() > 0


# -- soft_target_cross_entropy ------------------------------------------------------------------

def test_soft_target_cross_entropy_by_hand():
    logits = torch.tensor([[1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0] * 7])
    targets = torch.tensor([[0.25, 0.75, 0, 0, 0, 0, 0], [0, 0, 0, 0.5, 0, 0, 0.5]])
    log_z0 = math.log(math.e + math.e**2 + 5)
    row0 = 0.25 * (log_z0 - 1.0) + 0.75 * (log_z0 - 2.0)
    row1 = math.log(7)  # uniform logits: -log(1/7) whatever the target row
    got = _loss("soft_target_cross_entropy")(logits, targets)
    assert got.item() == pytest.approx((row0 + row1) / 2, rel=1e-6)


def test_soft_target_cross_entropy_is_timms_formula_and_takes_class_indices():
    loss = _loss("soft_target_cross_entropy")
    assert _close(loss(LOGITS, SOFT), torch.sum(-SOFT * F.log_softmax(LOGITS, dim=-1), dim=-1).mean())
    assert _close(loss(LOGITS, LABELS), F.cross_entropy(LOGITS, LABELS))


def test_mixup_targets_in_float32_with_a_float64_loss_weight():
    """Targets and class weights follow the logits' dtype (float32 model, float64 mixes)."""
    logits = LOGITS.float().requires_grad_()
    loss = _loss("cross_entropy", class_weights=WEIGHTS)(logits, SOFT)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(logits.grad).all()


# -- pld (FER+ vote distributions) --------------------------------------------------------------

def test_pld_is_cross_entropy_to_the_vote_distribution():
    votes = torch.tensor([[0, 0, 0, 6, 0, 4, 0], [1, 0, 0, 0, 0, 0, 9]], dtype=torch.float64) / 10
    logits = LOGITS[:2]
    by_hand = -(votes * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    assert _close(_loss("pld")(logits, votes), by_hand)
    smoothed = votes * 0.9 + 0.1 / 7
    assert _close(_loss("pld", label_smoothing=0.1)(logits, votes),
                  -(smoothed * torch.log_softmax(logits, dim=1)).sum(dim=1).mean())


def test_pld_refuses_class_indices_and_says_what_it_needs():
    with pytest.raises(ConfigError, match=r"pld loss: got class indices, not vote distributions.*"
                                          r"ferplus-distribution"):
        _loss("pld")(LOGITS, LABELS)


def test_pld_declares_that_it_trains_on_vote_distributions():
    from fer_core.config_validation import needs_soft_labels

    registry = plugins.get_plugins().registry("loss")
    assert needs_soft_labels(registry["pld"].factory)
    assert not any(needs_soft_labels(registry[n].factory) for n in ("cross_entropy", "focal",
                                                                    "soft_target_cross_entropy"))
