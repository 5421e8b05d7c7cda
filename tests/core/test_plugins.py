"""The plugin facade: loading, allow-listing, clashes, misspelled hooks, faults named by plugin."""

from __future__ import annotations

import types

import pytest
import torch

from fer_core import PluginError, hookimpl, plugins
from fer_core.errors import PluginWarning


def _module(name: str, **hooks) -> types.ModuleType:
    mod = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(mod, hook_name, hookimpl(fn))
    return mod


def _backbone_plugin(name: str, backbone: str) -> types.ModuleType:
    def register_backbones(register):
        register(backbone, lambda num_classes=7, in_chans=1: torch.nn.Linear(1, num_classes))

    return _module(name, register_backbones=register_backbones)


def test_builtins_load_through_the_entry_point():
    ps = plugins.get_plugins()  # FER_LOAD_PLUGINS=fer_models,fer_temporal, set by conftest
    info = {i.name: i for i in ps.info()}
    assert set(info) == {"fer_models", "fer_temporal"}
    assert info["fer_models"].distribution == "fer-models"
    assert info["fer_temporal"].distribution == "fer-temporal"
    assert {"retinaface", "haar", "full_frame"} <= set(ps.registry("face_detector"))
    assert "small_cnn" in ps.backbones()
    assert {"uniform", "balanced", "class_weights"} <= set(ps.sampler_strategies())
    assert ps.backbones()["small_cnn"].plugin == "fer_models"


def test_allow_list_limits_what_loads(monkeypatch):
    monkeypatch.setenv(plugins.LOAD_ENV, "")
    plugins.reset()
    assert plugins.get_plugins().info() == []
    with pytest.raises(PluginError, match="no backbone named 'small_cnn'; registered: none"):
        plugins.get_plugins().get("backbone", "small_cnn")


def test_allow_list_accepts_distribution_names():
    ps = plugins.PluginSet.load(allow=["fer-models"])
    assert [i.name for i in ps.info()] == ["fer_models"]


def test_same_name_from_two_plugins_is_dropped_from_both_and_named():
    ps = plugins.PluginSet.from_plugins(
        {"first": _backbone_plugin("first", "dup"), "second": _backbone_plugin("second", "dup"),
         "other": _backbone_plugin("other", "fine")}
    )
    with pytest.warns(PluginWarning, match="backbone 'dup' is registered twice") as record:
        assert set(ps.backbones()) == {"fine"}  # the clash does not take the other names down
    assert len(record) == 1
    with pytest.raises(PluginError) as err:
        ps.get("backbone", "dup")
    assert "'dup' was registered twice" in str(err.value)
    assert "'first'" in str(err.value) and "'second'" in str(err.value)


def test_misspelled_hook_skips_that_plugin_only():
    def register_backbonee(register):  # one "e" too many
        register("never", lambda num_classes=7, in_chans=1: torch.nn.Linear(1, 1))

    with pytest.warns(PluginWarning, match=r"plugin 'typo' \(module typo\) skipped: unknown hook "
                                           r"'register_backbonee' \(did you mean 'register_backbones'\?\)"):
        ps = plugins.PluginSet.from_plugins({"typo": _module("typo", register_backbonee=register_backbonee),
                                             "good": _backbone_plugin("good", "fine")})
    assert set(ps.backbones()) == {"fine"}
    info = {i.name: i for i in ps.info()}
    assert "unknown hook 'register_backbonee'" in info["typo"].error and info["good"].error is None


def test_registry_hook_that_raises_is_named_and_dropped():
    def register_losses(register):
        register("half", lambda: None)
        raise RuntimeError("boom")

    def register_backbones(register):
        register("kept", lambda num_classes=7, in_chans=1: torch.nn.Linear(1, num_classes))

    mod = _module("broken", register_losses=register_losses, register_backbones=register_backbones)
    ps = plugins.PluginSet.from_plugins({"broken": mod})
    msg = r"plugin 'broken' .* raised in hook register_losses: RuntimeError: boom"
    with pytest.warns(PluginWarning, match=msg):
        assert ps.losses() == {}  # nothing half-registered survives
    assert "kept" in ps.backbones()  # its other hooks still count
    with pytest.raises(PluginError, match=r"no loss named 'half'; registered: none; failed plugins: .*boom"):
        ps.get("loss", "half")


def test_lifecycle_hook_that_raises_is_named():
    mod = types.ModuleType("faulty_plugin")
    exec(
        "from fer_core import hookimpl\n"
        "@hookimpl\n"
        "def after_epoch(trainer, epoch, metrics):\n"
        "    raise ValueError('bad epoch')\n",
        mod.__dict__,
    )
    ps = plugins.PluginSet.from_plugins({"faulty": mod})
    msg = r"plugin 'faulty' .* raised in hook after_epoch: ValueError: bad epoch"
    with pytest.raises(PluginError, match=msg):
        ps.call("after_epoch", trainer=None, epoch=0, metrics={})


def test_unknown_name_lists_registered_names():
    with pytest.raises(PluginError, match=r"no sampler strategy named 'nope'; registered: .*uniform"):
        plugins.get_plugins().get("sampler_strategy", "nope")


def test_factory_rejecting_options_names_the_plugin():
    with pytest.raises(PluginError, match=r"backbone 'small_cnn' \(plugin 'fer_models', fer-models\)"):
        plugins.get_plugins().get("backbone", "small_cnn").build(num_classes=7, in_chans=1, wings=3)


def test_plugin_that_fails_to_import_is_reported(monkeypatch):
    from importlib import metadata

    real = metadata.entry_points

    def with_broken(**kwargs):
        eps = list(real(**kwargs))
        if kwargs.get("group") == plugins.ENTRY_POINT_GROUP:
            eps.append(metadata.EntryPoint("broken", "no_such_module_xyz", "fer"))
        return eps

    monkeypatch.setattr(metadata, "entry_points", with_broken)
    with pytest.warns(PluginWarning, match="plugin 'broken' .* skipped: failed to import: ModuleNotFound"):
        ps = plugins.PluginSet.load(allow=["fer_models", "broken"])
    info = {i.name: i for i in ps.info()}
    assert "ModuleNotFoundError" in info["broken"].error
    assert "small_cnn" in ps.backbones()  # the broken plugin does not break the others
