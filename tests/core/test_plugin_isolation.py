"""Plugins fail alone: a broken installed plugin is skipped with one warning, a bad factory is
named, option mismatches are told apart from bugs, a backbone's output is checked."""

from __future__ import annotations

import sys
import types
from importlib import metadata

import pytest
import torch

from fer_core import PluginError, hookimpl, plugins
from fer_core.errors import PluginWarning


class _Dist:
    """Just enough of an installed distribution for an entry point's ``dist``."""

    def __init__(self, name: str, version: str):
        self.metadata = {"Name": name}
        self.version = version


@pytest.fixture
def install(monkeypatch):
    """``install(name, module)``: an entry point of the ``fer`` group from dist ``fer-<name> 1.0``.

    ``module=None`` points the entry point at a module that does not exist.
    """
    real = metadata.entry_points
    added: list[metadata.EntryPoint] = []

    def entry_points(**kwargs):
        eps = list(real(**kwargs))
        return eps + added if kwargs.get("group") == plugins.ENTRY_POINT_GROUP else eps

    monkeypatch.setattr(metadata, "entry_points", entry_points)

    def _install(name: str, module: types.ModuleType | None) -> None:
        target = module.__name__ if module is not None else f"no_such_module_{name}"
        if module is not None:
            monkeypatch.setitem(sys.modules, module.__name__, module)
        added.append(metadata.EntryPoint(name, target, plugins.ENTRY_POINT_GROUP)._for(
            _Dist(f"fer-{name}", "1.0")))
        monkeypatch.setenv(plugins.LOAD_ENV, f"fer_models,{','.join(ep.name for ep in added)}")
        plugins.reset()

    return _install


def _module(name: str, **hooks) -> types.ModuleType:
    mod = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(mod, hook_name, hookimpl(fn))
    return mod


def _backbones(name: str, **factories) -> types.ModuleType:
    def register_backbones(register):
        for backbone, factory in factories.items():
            register(backbone, factory)

    return _module(name, register_backbones=register_backbones)


def _linear(num_classes=7, in_chans=1, hidden=4):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(hidden),
                               torch.nn.Linear(hidden, num_classes))


def _misspelled(register):
    register("never", _linear)


def _extra_argument(register, extra):
    register("never", _linear)


SKIPPED_AT_LOAD = {
    "import failure": (None, "failed to import: ModuleNotFoundError: No module named 'no_such_module_bad'"),
    "misspelled hook": (_module("fake_bad", register_backbonee=_misspelled),
                        "unknown hook 'register_backbonee' (did you mean 'register_backbones'?)"),
    "wrong hook arguments": (_module("fake_bad", register_backbones=_extra_argument),
                             "PluginValidationError: "),
}


@pytest.mark.parametrize("case", list(SKIPPED_AT_LOAD))
def test_plugin_that_fails_to_load_is_skipped_alone(install, case):
    module, cause = SKIPPED_AT_LOAD[case]
    install("bad", module)
    install("good", _backbones("fake_good", tiny=_linear))
    with pytest.warns(PluginWarning) as record:
        ps = plugins.get_plugins()
        backbones = ps.backbones()
    target = module.__name__ if module else "no_such_module_bad"
    messages = [str(w.message) for w in record]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"plugin 'bad' (dist fer-bad 1.0, entry point bad = {target}) skipped: ")
    assert cause in messages[0] and "\n" not in messages[0]
    assert {"small_cnn", "tiny"} <= set(backbones) and "never" not in backbones
    info = {i.name: i for i in ps.info()}
    assert cause in info["bad"].error and info["good"].error is None
    with pytest.raises(PluginError) as err:
        ps.get("backbone", "never")
    assert "no backbone named 'never'; registered: " in str(err.value)
    assert "failed plugins: plugin 'bad' (dist fer-bad 1.0" in str(err.value) and cause in str(err.value)
    model = ps.get("backbone", "tiny").build(num_classes=7, in_chans=1)  # the others still work
    assert model(torch.zeros(3, 1, 48, 48)).shape == (3, 7)


def test_unusable_registration_is_dropped_alone(install):
    def register_backbones(register):
        register("not_callable", 42)
        register("usable", _linear)

    install("odd", _module("fake_odd", register_backbones=register_backbones))
    with pytest.warns(PluginWarning, match=r"backbone 'not_callable': its factory is a int, not callable"):
        assert "usable" in plugins.get_plugins().backbones()
    assert "not_callable" not in plugins.get_plugins().backbones()


def _returns_a_function(num_classes=7, in_chans=1):
    return _linear


def _buggy(num_classes=7, in_chans=1, depth=2):
    return torch.nn.Linear(in_chans, num_classes, bogus=depth)  # a TypeError inside the factory


def _five_logits(num_classes=7, in_chans=1):
    return _linear(num_classes=5)


def _fixed_input(num_classes=7, in_chans=1):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(in_chans * 10, num_classes))


def _a_tuple(num_classes=7, in_chans=1):
    class Two(torch.nn.Module):
        def forward(self, x):
            return x.mean(), x.mean()

    return Two()


BAD_FACTORIES = {
    "returns a function": (_returns_a_function, {},
                           "its factory returned a function (_linear), not a torch.nn.Module"),
    "TypeError inside": (_buggy, {}, "failed inside its factory: TypeError: Linear.__init__() got an "
                                     "unexpected keyword argument 'bogus'"),
    "bad option": (_buggy, {"dept": 3}, "rejected its options ['dept']: unknown option 'dept'; "
                                        "allowed options: depth"),
    "wrong logits": (_five_logits, {}, "its model maps a dummy batch [2, 1, 48, 48] to a tensor of shape "
                                       "[2, 5]; expected logits of shape [2, 7]"),
    "fails on the batch": (_fixed_input, {}, "its model fails on a dummy batch [2, 1, 48, 48]: RuntimeError"),
    "a tuple": (_a_tuple, {}, "maps a dummy batch [2, 1, 48, 48] to a tuple of 2"),
}


@pytest.mark.parametrize("case", list(BAD_FACTORIES))
def test_bad_backbone_factory_is_named(install, case, monkeypatch):
    monkeypatch.delenv("FER_DEBUG", raising=False)
    factory, options, message = BAD_FACTORIES[case]
    install("faulty", _backbones("fake_faulty", faulty=factory, tiny=_linear))
    ps = plugins.get_plugins()
    with pytest.raises(PluginError) as err:
        ps.get("backbone", "faulty").build(num_classes=7, in_chans=1, **options)
    text = str(err.value)
    assert text.startswith("backbone 'faulty' (plugin 'faulty', fer-faulty)"), text
    assert message in text and "\n" not in text
    if case == "TypeError inside":
        assert "rejected its options" not in text and "FER_DEBUG=1 for the traceback" in text
    assert ps.get("backbone", "tiny").build(num_classes=7, in_chans=1) is not None


def test_fer_debug_shows_the_factory_bug_itself(install, monkeypatch):
    install("faulty", _backbones("fake_faulty", faulty=_buggy))
    monkeypatch.setenv("FER_DEBUG", "1")
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        plugins.get_plugins().get("backbone", "faulty").build(num_classes=7, in_chans=1)


def test_output_check_uses_the_given_size_and_restores_modes():
    from fer_core._plugin_build import check_backbone

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 38 * 38, 7))
    model[1].eval()  # a frozen BatchNorm stays frozen, the rest stays in training mode
    before = {k: v.clone() for k, v in model.state_dict().items()}
    check_backbone("m", model, num_classes=7, in_chans=1, input_size=40)
    assert model.training and model[0].training and not model[1].training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(PluginError, match=r"dummy batch \[2, 1, 48, 48\]"):
        check_backbone("m", model, num_classes=7, in_chans=1)


def test_strategy_factory_bug_is_told_apart_from_bad_options(install, monkeypatch):
    monkeypatch.delenv("FER_DEBUG", raising=False)

    def strategy(power=0.5):
        raise TypeError("oops inside")

    def register_sampler_strategies(register):
        register("weird", strategy)

    install("strat", _module("fake_strat", register_sampler_strategies=register_sampler_strategies))
    reg = plugins.get_plugins().get("sampler_strategy", "weird")
    with pytest.raises(PluginError, match=r"rejected its options \['powr'\]: unknown option 'powr'; "
                                          r"allowed options: power"):
        reg.build(powr=1)
    with pytest.raises(PluginError, match=r"failed inside its factory with options power=1: "
                                          r"TypeError: oops inside"):
        reg.build(power=1)
