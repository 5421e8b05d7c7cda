"""Configs are checked against the plugins before any data loads: a wrong name or option is one
ConfigError naming key, stage, plugin and what is allowed; no folder is made, no data read."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_core import plugins
from fer_core.config import ExperimentConfig
from fer_core.config_validation import validate_config
from fer_core.errors import ConfigError
from fer_core.training import Trainer, run_experiment


def _config(tmp_path: Path, **sections) -> ExperimentConfig:
    raw = {"name": "bad", "device": "cpu", "data": {"path": str(tmp_path / "no-such-data.csv")},
           "train": {"max_steps": 1}, **sections}
    return ExperimentConfig.from_dict(raw)


TWO_STAGES = [{"name": "warmup", "epochs": 1}, {"name": "main", "loss": "focal", "loss_options": {"gama": 2}}]

BAD = {
    "backbone name": ({"model": {"backbone": "smal_cnn"}},
                      ["[model] backbone = 'smal_cnn' is not registered; allowed values: ", "small_cnn"]),
    "strategy name": ({"train": {"strategy": "adaptiv"}},
                      ["[train] strategy = 'adaptiv' is not registered (stage 'train'); allowed values: ",
                       "uniform"]),
    "loss name in a stage": ({"stages": [{"name": "one"}, {"name": "two", "loss": "focall"}]},
                             ["[stages.1] loss = 'focall' is not registered (stage 'two'); allowed values: ",
                              "focal"]),
    "model option": ({"model": {"backbone": "small_cnn", "options": {"widht": 3}}},
                     ["[model] options: backbone 'small_cnn' (plugin 'fer_models', fer-models): "
                      "unknown option 'widht'; allowed options: ", "widths"]),
    "stage option": ({"stages": TWO_STAGES},
                     ["[stages.1] loss_options (stage 'main'): loss 'focal' (plugin 'fer_models', "
                      "fer-models): unknown option 'gama'; allowed options: ", "gamma"]),
    "option set by the toolkit": ({"model": {"options": {"num_classes": 3}}},
                                  ["[model] options: backbone 'small_cnn'",
                                   "'num_classes' is set by the toolkit"]),
    "soft labels without FER+": ({"train": {"soft_labels": True}},
                                 ["[train] soft_labels = true needs [data] labels = 'ferplus-distribution' "
                                  "(or 'ferplus8-distribution') or a [data] teacher file "
                                  "(stage 'train'); [data] labels is 'fer2013'"]),
    "pld without vote distributions": (
        {"data": {"path": "no-such-data.csv", "labels": "ferplus-majority", "ferplus": "no-such-votes.csv"},
         "stages": [{"name": "one"}, {"name": "two", "loss": "pld"}]},
        ["[stages.1] loss = 'pld' needs [data] labels = 'ferplus-distribution' "
         "(or 'ferplus8-distribution') or a [data] teacher file "
         "(stage 'two'); "
         "it trains on FER+ vote distributions; [data] labels is 'ferplus-majority'"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_run_experiment_rejects_before_data_and_folders(tmp_path, case):
    sections, expected = BAD[case]
    cfg = _config(tmp_path, **sections)
    out = tmp_path / "runs"
    with pytest.raises(ConfigError) as err:
        run_experiment(cfg, out_root=out)
    text = str(err.value)
    assert text.startswith("config: ") and "\n" not in text
    for part in expected:
        assert part in text
    assert "no-such-data" not in text  # the data was never read
    assert not out.exists()


def test_the_same_train_key_wrong_in_every_stage_is_one_line(tmp_path):
    cfg = _config(tmp_path, train={"strategy": "nope"}, stages=[{"name": "a"}, {"name": "b"}])
    with pytest.raises(ConfigError, match=r"^config: \[train\] strategy = 'nope' is not registered "
                                          r"\(stages 'a', 'b'\); allowed values: "):
        validate_config(cfg)


def test_several_problems_are_listed_together(tmp_path):
    cfg = _config(tmp_path, model={"backbone": "nope"}, train={"loss": "nope", "strategy_options": {"x": 1}})
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, source="exp.toml")
    lines = str(err.value).splitlines()
    assert lines[0] == "exp.toml: invalid config"
    assert [line.split()[1] for line in lines[1:]] == ["backbone", "strategy_options", "loss"]


def test_a_failed_plugin_is_named_where_its_name_is_missing(tmp_path):
    import types

    from fer_core import hookimpl
    from fer_core.errors import PluginWarning

    mod = types.ModuleType("fake_typo")
    mod.register_backbonee = hookimpl(lambda register: None)
    with pytest.warns(PluginWarning):
        ps = plugins.PluginSet.load(allow=["fer_models"], extra={"typo": mod})
    with pytest.raises(ConfigError, match=r"allowed values: .*small_cnn.*; failed plugins: plugin 'typo' "
                                          r"\(module fake_typo\): unknown hook 'register_backbonee'"):
        validate_config(_config(tmp_path, model={"backbone": "fancy"}), ps)


def test_trainer_checks_its_stage_before_loading_data(tmp_path):
    cfg = _config(tmp_path, train={"strategy_options": {"bogus": 1}})
    with pytest.raises(ConfigError, match=r"\[train\] strategy_options \(stage 'train'\): sampler strategy "
                                          r"'uniform' .*unknown option 'bogus'; allowed options: none"):
        Trainer(cfg, run_root=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_missing_init_path_is_reported_before_data(tmp_path):
    with pytest.raises(ConfigError, match=r"^config: --init .*missing\.pt: no such run folder, checkpoint"):
        run_experiment(_config(tmp_path), out_root=tmp_path / "runs", init_from=tmp_path / "missing.pt")
    assert not (tmp_path / "runs").exists()


def test_corrupt_init_checkpoint_leaves_no_empty_folder(tmp_path, synthetic_dataset):
    from fer_core.errors import FerError

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    out = tmp_path / "runs"
    with pytest.raises(FerError):
        run_experiment(_config(tmp_path), dataset=synthetic_dataset, out_root=out, init_from=bad)
    assert not out.exists()


def test_a_good_config_passes(tmp_path):
    cfg = _config(tmp_path, model={"backbone": "small_cnn", "options": {"widths": [8, 16]}},
                  stages=[{"name": "a"}, {"name": "b", "loss": "focal", "loss_options": {"gamma": 2.0}}])
    validate_config(cfg)
