"""``fer_models.flops.count_flops``: FLOPs = 2 x multiply-adds, checked by hand and against the report."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fer_core import plugins
from fer_models.flops import count_flops, count_params


def test_linear_is_two_flops_per_multiply_add():
    out = count_flops(nn.Linear(10, 4), input_size=(10,))
    assert out == {"macs": 10 * 4, "flops": 2 * 10 * 4, "params": 10 * 4 + 4}


def test_conv2d_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    macs = 8 * 3 * 3 * 3 * 16 * 16  # out channels x in channels x kernel x output pixels
    assert count_flops(conv, input_size=(3, 16, 16)) == {"macs": macs, "flops": 2 * macs,
                                                         "params": 8 * 3 * 9 + 8}
    depthwise = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)  # 8x8 -> 4x4
    assert count_flops(depthwise, input_size=(4, 8, 8))["macs"] == 4 * 1 * 9 * 4 * 4


def test_a_small_network_sums_its_layers_and_ignores_the_rest():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(2 * 4 * 4, 5))
    model.train()
    out = count_flops(model, input_size=(1, 8, 8))
    assert out["macs"] == 2 * 9 * 64 + 32 * 5  # BN, ReLU and pooling are not counted
    assert out["params"] == count_params(model) == 2 * 9 + 2 + 2 + 2 + 32 * 5 + 5
    assert model.training  # training mode is restored


def test_meta_device_models_are_costed_without_memory():
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.Flatten(), nn.LazyLinear(7))
        model(torch.zeros(1, 1, 48, 48))  # materialise the lazy layer's shape
    assert count_flops(model)["macs"] == 64 * 9 * 48 * 48 + 64 * 48 * 48 * 7


# The efficiency report's "GFLOPs" column (fvcore) against our GMACs at 1x48x48: fvcore counts a
# multiply-add as one flop and also counts BN and element-wise ops, so it is a little higher.
REPORT_GFLOPS = {
    "baseline_cnn": 0.32751, "resemotenet": 0.24009, "vgg19_fer": 0.91341, "efficientnet_b1": 0.03544,
    "mobilenetv3_large": 0.01445, "efficientnetv2_s": 0.15617, "efficientnet_b0": 0.02321,
}


@pytest.mark.parametrize("name", sorted(REPORT_GFLOPS))
def test_report_figures_are_multiply_adds(name):
    with torch.device("meta"):
        model = plugins.get_plugins().get("backbone", name).build(num_classes=7, in_chans=1)
    gmacs = count_flops(model)["macs"] / 1e9
    assert gmacs == pytest.approx(REPORT_GFLOPS[name], rel=0.05)


def test_docstring_example():
    import doctest

    from fer_models import flops

    result = doctest.testmod(flops)
    assert result.attempted > 0 and result.failed == 0
