"""Optimizers and schedules: the no-decay split, SGD with Nesterov, OneCycle, cosine, plateau."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from fer_core.config import TrainConfig
from fer_core.training import build_optimizer, build_schedule, param_groups


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)  # weight decays, bias does not
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, bias=False)
        self.ln = nn.LayerNorm([4, 4, 4])  # a 3-d norm weight: no decay because it is a norm
        self.fc = nn.Linear(64, 7)
        self.fc_tied = nn.Linear(64, 7)
        self.fc_tied.weight = self.fc.weight  # one parameter in two modules
        self.frozen = nn.Linear(7, 7)
        self.frozen.requires_grad_(False)


def _ids(params) -> list[int]:
    return [id(p) for p in params]


def test_param_groups_split_biases_and_norms_from_weights():
    net = _Net()
    decay, no_decay = param_groups(net, weight_decay=0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    expect_decay = [net.conv.weight, net.conv2.weight, net.fc.weight]
    expect_no = [net.conv.bias, net.bn.weight, net.bn.bias, net.ln.weight, net.ln.bias, net.fc.bias,
                 net.fc_tied.bias]
    assert sorted(_ids(decay["params"])) == sorted(_ids(expect_decay))
    assert sorted(_ids(no_decay["params"])) == sorted(_ids(expect_no))
    assert not set(_ids(net.frozen.parameters())) & set(_ids(decay["params"] + no_decay["params"]))


def test_param_groups_hold_every_trainable_parameter_exactly_once():
    from fer_models.backbones import small_cnn

    net = small_cnn(widths=(8, 16))
    groups = param_groups(net, 1e-4)
    ids = _ids(groups[0]["params"] + groups[1]["params"])
    assert len(ids) == len(set(ids))
    assert set(ids) == set(_ids(net.parameters()))
    norm_ids = {id(p) for m in net.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    assert norm_ids <= set(_ids(groups[1]["params"]))
    assert all(p.ndim > 1 for p in groups[0]["params"])

    (single,) = param_groups(net, 1e-4, no_decay_norm_bias=False)
    assert single["weight_decay"] == 1e-4 and len(single["params"]) == len(ids)


def test_build_optimizer():
    net = _Net()
    sgd = build_optimizer(net, TrainConfig(optimizer="sgd", lr=0.1, momentum=0.8, weight_decay=0.01))
    assert isinstance(sgd, torch.optim.SGD)
    assert all(g["nesterov"] and g["momentum"] == 0.8 and g["lr"] == 0.1 for g in sgd.param_groups)
    assert [g["weight_decay"] for g in sgd.param_groups] == [0.01, 0.0]
    adamw = build_optimizer(net, TrainConfig(optimizer="adamw", lr=0.002, weight_decay=0.05))
    assert isinstance(adamw, torch.optim.AdamW)
    assert [g["weight_decay"] for g in adamw.param_groups] == [0.05, 0.0]
    assert TrainConfig().nesterov is True


def _lrs(tc: TrainConfig, steps_per_epoch: int, steps: int) -> tuple[list[float], object]:
    """The learning rate used by each of ``steps`` optimizer steps."""
    param = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=tc.lr)
    sched = build_schedule(opt, tc, steps_per_epoch)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.after_batch()
    return lrs, sched


def test_onecycle_peaks_at_lr_and_ends_near_zero_over_exactly_the_total_steps():
    tc = TrainConfig(scheduler="onecycle", lr=0.1, epochs=2, onecycle_pct_start=0.25)
    lrs, sched = _lrs(tc, steps_per_epoch=20, steps=40)  # 2 epochs x 20 steps
    assert sched.when == "batch"
    assert lrs[0] == pytest.approx(0.1 / 25)  # torch's default div_factor
    assert max(lrs) == pytest.approx(0.1)
    assert lrs.index(max(lrs)) == 9  # pct_start 0.25 of 40 steps
    assert lrs[-1] == pytest.approx(0.1 / (25 * 1e4))  # div_factor x final_div_factor
    assert all(a <= b for a, b in itertools.pairwise(lrs[:10]))
    assert all(a >= b for a, b in itertools.pairwise(lrs[9:]))
    with pytest.raises(ValueError):  # the cycle is exactly the run's length
        sched.after_batch()


def test_onecycle_total_is_capped_by_max_steps():
    tc = TrainConfig(scheduler="onecycle", lr=0.1, epochs=5, max_steps=12)
    lrs, sched = _lrs(tc, steps_per_epoch=20, steps=12)
    assert lrs[-1] == pytest.approx(0.1 / (25 * 1e4))
    with pytest.raises(ValueError):
        sched.after_batch()


def test_cosine_warms_up_linearly_then_decays_to_min_lr():
    tc = TrainConfig(scheduler="cosine", lr=0.1, epochs=3, warmup_epochs=1, min_lr=0.001)
    lrs, sched = _lrs(tc, steps_per_epoch=10, steps=31)
    assert sched.when == "batch"
    assert lrs[:10] == pytest.approx([0.1 * (k + 1) / 10 for k in range(10)])  # linear warmup
    assert lrs[10] == pytest.approx(0.1)  # peak right after warmup
    floor = 0.001
    for k in range(10, 31):
        progress = (k - 10) / 20
        assert lrs[k] == pytest.approx(floor + (0.1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
    assert lrs[20] == pytest.approx((0.1 + floor) / 2)
    assert lrs[30] == pytest.approx(floor)
    assert all(a > b for a, b in itertools.pairwise(lrs[10:31]))


def test_plateau_cuts_lr_after_patience_epochs_without_improvement():
    tc = TrainConfig(scheduler="plateau", lr=0.1, plateau_patience=2, plateau_factor=0.5)
    param = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=tc.lr)
    sched = build_schedule(opt, tc, steps_per_epoch=10)
    assert sched.when == "metric"
    lr = lambda: opt.param_groups[0]["lr"]  # noqa: E731

    for metric in (0.2, 0.3, 0.4, 0.5):  # higher is better: a rising metric never cuts the lr
        sched.after_batch()  # stepping per batch does nothing for a plateau schedule
        sched.after_epoch(metric)
    assert lr() == 0.1
    sched.after_epoch(0.5)
    sched.after_epoch(0.45)
    assert lr() == 0.1  # two epochs without improvement: patience 2 is not exceeded yet
    sched.after_epoch(0.5)
    assert lr() == pytest.approx(0.05)  # the third one cuts it
    sched.after_epoch(0.6)
    assert lr() == pytest.approx(0.05)


def test_schedule_none_keeps_lr():
    lrs, sched = _lrs(TrainConfig(scheduler="none", lr=0.01), steps_per_epoch=5, steps=5)
    assert lrs == [0.01] * 5 and sched.state_dict() == {}
