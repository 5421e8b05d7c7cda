"""Every registered backbone builds by name, trains a step and evaluates; timm local pretrained loading."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

from fer_core import ConfigError, plugins
from fer_core.errors import PluginError
from fer_models.flops import count_flops

# The same plugin set the autouse fixture gives each test; read at collection so a newly
# registered backbone is a new test case without touching this file.
REGISTERED = list(plugins.PluginSet.load(allow=["fer_models"]).backbones())
# options a backbone cannot do without
REQUIRED_OPTIONS = {"timm": {"model_name": "resnet10t"}}


pytestmark = pytest.mark.usefixtures("one_thread")


def _build(name: str, **kwargs):
    options = {**REQUIRED_OPTIONS.get(name, {}), **kwargs}
    return plugins.get_plugins().get("backbone", name).build(**options)


@pytest.fixture(autouse=True)
def _hf_vit_needs_a_saved_model(request):
    """hf_vit's required option is a saved model: the session's tiny ViT, made only when needed."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("name") == "hf_vit":
        REQUIRED_OPTIONS["hf_vit"] = {"model": str(request.getfixturevalue("tiny_vit_dir"))}


def test_the_zoo_is_registered():
    expected = {"small_cnn", "baseline_cnn", "resemotenet", "vgg19_fer", "khaireddin_vgg", "resnet18_cifar",
                "lean_cnn", "efficientnet_b0", "efficientnet_b1", "efficientnetv2_s", "mobilenetv3_large",
                "timm", "hf_vit"}
    backbones = plugins.get_plugins().backbones()
    assert expected <= set(backbones)
    for registered in backbones.values():
        assert registered.plugin == "fer_models" and registered.description


@pytest.mark.parametrize("in_chans", [1, 3])
@pytest.mark.parametrize("name", REGISTERED)
def test_builds_trains_a_step_and_evaluates(name, in_chans):
    torch.manual_seed(0)
    model = _build(name, num_classes=7, in_chans=in_chans)
    x = torch.randn(2, in_chans, 48, 48)
    y = torch.tensor([0, 3])
    model.train()
    logits = model(x)
    assert logits.shape == (2, 7)
    loss = nn.functional.cross_entropy(logits, y)
    assert math.isfinite(loss.item())
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss.backward()
    optimizer.step()
    changed = sum(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    assert changed > 0, f"{name}: no weight changed after one step"
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert out.shape == (2, 7) and torch.isfinite(out).all()


@pytest.mark.parametrize("size", [40, 48])
@pytest.mark.parametrize("name", REGISTERED)
def test_runs_on_40x40_crops_and_48x48_faces(name, size):
    shapes_only = {"pretrained": False} if name == "hf_vit" else {}  # from_pretrained refuses meta
    with torch.device("meta"):  # shapes only: no memory, no init
        model = _build(name, num_classes=7, in_chans=1, **shapes_only).eval()
        assert model(torch.zeros(1, 1, size, size)).shape == (1, 7)


def test_baseline_cnn_is_the_reports_shape_and_cost():
    model = _build("baseline_cnn")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) == 3 and len(linears) == 5
    assert (linears[-1].in_features, linears[-1].out_features) == (144, 7)
    assert count_flops(model)["macs"] / 1e9 == pytest.approx(0.3275, rel=0.01)


def test_khaireddin_vgg_is_the_papers_network_at_40x40():
    model = _build("khaireddin_vgg").eval()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert model.features(torch.zeros(1, 1, 40, 40)).shape == (1, 512, 2, 2)  # pool is the identity
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2048, 4096), (4096, 4096), (4096, 7)]
    assert plugins.get_plugins().get("backbone", "khaireddin_vgg").factory.default_crop == 40


def test_resnet18_cifar_has_no_maxpool_and_keeps_resolution():
    model = _build("resnet18_cifar").eval()
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())
    assert model.stages(model.stem(torch.zeros(1, 1, 48, 48))).shape == (1, 512, 6, 6)
    assert count_flops(model)["params"] == pytest.approx(11.17e6, rel=0.01)


def test_lean_cnn_is_lean():
    cost = count_flops(_build("lean_cnn"))
    assert 0.02e9 <= cost["macs"] <= 0.05e9 and cost["params"] < 2e6


def test_small_cnn_stem_stride_2_is_a_quarter_of_the_cost():
    full = count_flops(_build("small_cnn", widths=[32, 64, 128]))
    fast = _build("small_cnn", widths=[32, 64, 128], stem_stride=2)
    assert fast(torch.zeros(2, 1, 48, 48)).shape == (2, 7)
    assert count_flops(fast)["macs"] == pytest.approx(full["macs"] / 4, rel=0.02)
    assert count_flops(fast)["params"] == full["params"]
    with pytest.raises(ConfigError, match="stem_stride must be 1 or 2"):
        _build("small_cnn", stem_stride=3)


@pytest.mark.parametrize("name", ["small_cnn", "resnet18_cifar"])
def test_upsample_option_costs_its_square_and_keeps_the_weights(name):
    base = _build(name, widths=[8, 16, 32, 64][: 3 if name == "small_cnn" else 4])
    big = _build(name, widths=[8, 16, 32, 64][: 3 if name == "small_cnn" else 4], upsample=1.5)
    assert big(torch.zeros(2, 1, 40, 40)).shape == (2, 7)
    assert base.state_dict().keys() == big.state_dict().keys()  # shipped weights load either way
    big.load_state_dict(base.state_dict())
    ratio = count_flops(big, (1, 40, 40))["macs"] / count_flops(base, (1, 40, 40))["macs"]
    assert ratio == pytest.approx(1.5 ** 2, rel=0.05)
    with pytest.raises(ConfigError, match=f"{name}: upsample must be between 1 and 8, got 0.5"):
        _build(name, upsample=0.5)


def test_xavier_init_option():
    model = _build("efficientnet_b0", init="xavier")
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            fan_out = m.weight.shape[0] * m.weight[0, 0].numel()
            assert m.weight.abs().max() <= math.sqrt(6 / (fan_in + fan_out)) + 1e-6
            assert m.bias is None or not m.bias.any()
    lean = _build("lean_cnn", init="xavier")
    head = lean.head[-1]
    assert head.weight.abs().max() <= math.sqrt(6 / (head.in_features + head.out_features)) + 1e-6
    with pytest.raises(ConfigError, match="init must be one of"):
        _build("vgg19_fer", init="he")


def test_option_errors_name_the_problem():
    with pytest.raises(PluginError, match="rejected its options"):
        _build("lean_cnn", colour="blue")
    with pytest.raises(ConfigError, match="needs the option model_name"):
        plugins.get_plugins().get("backbone", "timm").build(num_classes=7, in_chans=1)
    with pytest.raises(ConfigError, match="timm has no model named 'resnet_9000'"):
        _build("timm", model_name="resnet_9000")
    with pytest.raises(ConfigError, match="never downloaded"):
        _build("efficientnet_b0", pretrained=True)
    with pytest.raises(ConfigError, match="expected 3 positive integers"):
        _build("baseline_cnn", conv_widths=[8, 8])


# -- pretrained weights from a local file -----------------------------------------------------------


def _imagenet_like(model_name: str) -> dict[str, torch.Tensor]:
    import timm

    torch.manual_seed(1)
    return timm.create_model(model_name, pretrained=False, num_classes=1000, in_chans=3).state_dict()


def _save(state: dict[str, torch.Tensor], path, wrap: str | None = None):
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save({wrap: state} if wrap else state, path)
    return path


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_pretrained_local_file_is_adapted_to_gray_and_7_classes(tmp_path, suffix):
    source = _imagenet_like("resnet10t")
    path = _save(source, tmp_path / f"resnet10t{suffix}", wrap="state_dict" if suffix == ".pth" else None)
    torch.manual_seed(2)
    model = _build("timm", model_name="resnet10t", num_classes=7, in_chans=1, pretrained=str(path))
    loaded = model.state_dict()
    assert loaded["conv1.0.weight"].shape == (24, 1, 3, 3)
    # timm's adaptation for one channel: the RGB filters summed
    assert torch.allclose(loaded["conv1.0.weight"], source["conv1.0.weight"].sum(dim=1, keepdim=True))
    assert loaded["fc.weight"].shape == (7, 512)  # the ImageNet head was dropped, a fresh one kept
    assert not torch.equal(loaded["fc.weight"], source["fc.weight"][:7])
    for key, value in loaded.items():
        if key not in ("conv1.0.weight", "fc.weight", "fc.bias"):
            assert torch.equal(value, source[key]), key
    assert model(torch.zeros(2, 1, 48, 48)).shape == (2, 7)


def test_pretrained_into_a_named_backbone_with_rgb_input(tmp_path):
    source = _imagenet_like("efficientnet_b0")
    path = _save(source, tmp_path / "b0.safetensors")
    model = _build("efficientnet_b0", num_classes=7, in_chans=3, pretrained=str(path), init="xavier")
    loaded = model.state_dict()
    assert torch.equal(loaded["conv_stem.weight"], source["conv_stem.weight"])  # 3 channels: unchanged
    assert loaded["classifier.weight"].shape == (7, 1280)
    assert all(torch.equal(v, source[k]) for k, v in loaded.items() if not k.startswith("classifier."))


def test_missing_pretrained_path_is_a_config_error(tmp_path):
    missing = tmp_path / "nowhere" / "weights.safetensors"
    with pytest.raises(ConfigError, match=re.escape(str(missing))):
        _build("mobilenetv3_large", pretrained=str(missing))


def test_weights_that_do_not_fit_are_refused(tmp_path):
    source = _imagenet_like("resnet10t")
    # keys under a prefix this architecture does not have: nothing would load
    prefixed = _save({f"backbone.{k}": v for k, v in source.items()}, tmp_path / "prefixed.safetensors")
    with pytest.raises(ConfigError, match="missing key"):
        _build("timm", model_name="resnet10t", pretrained=str(prefixed))
    with pytest.warns(UserWarning, match="unexpected key"):
        _build("timm", model_name="resnet10t", pretrained=str(prefixed), pretrained_strict=False)
    wrong = dict(source)
    wrong["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    path = _save(wrong, tmp_path / "wrong.pth")
    with pytest.raises(ConfigError, match=r"do not fit the model: layer1.0.conv1.weight"):
        _build("timm", model_name="resnet10t", pretrained=str(path))
