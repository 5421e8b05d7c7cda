"""Experiment configs: validation errors name the key and what is allowed."""

from __future__ import annotations

import pytest

from fer_core import ConfigError
from fer_core.config import ExperimentConfig


def _write(tmp_path, text: str):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return path


def test_relative_data_path_is_relative_to_the_config(tmp_path):
    cfg = ExperimentConfig.from_toml(_write(tmp_path, '[data]\npath = "d/fer.csv"\n'))
    assert cfg.data.path == tmp_path.resolve() / "d" / "fer.csv"


def test_unknown_key_names_it_and_the_allowed_keys(tmp_path):
    path = _write(tmp_path, '[data]\npath = "x.csv"\n[train]\nlearning_rate = 0.1\n')
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_toml(path)
    msg = str(err.value)
    assert str(path) in msg and "[train] learning_rate: unknown key" in msg
    assert "lr" in msg and "batch_size" in msg


def test_bad_choice_lists_allowed_values(tmp_path):
    path = _write(tmp_path, '[data]\npath = "x.csv"\n[train]\noptimizer = "adam"\n')
    with pytest.raises(ConfigError, match=r"\[train\] optimizer: Input should be 'adamw' or 'sgd'"):
        ExperimentConfig.from_toml(path)


def test_missing_data_section(tmp_path):
    with pytest.raises(ConfigError, match="data: required key is missing"):
        ExperimentConfig.from_toml(_write(tmp_path, 'name = "x"\n'))


def test_wrong_type_and_range(tmp_path):
    path = _write(tmp_path, '[data]\npath = "x"\n[train]\nbatch_size = 0\nlr = "fast"\n')
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_toml(path)
    assert "[train] batch_size: Input should be greater than or equal to 1" in str(err.value)
    assert "[train] lr: Input should be a valid number" in str(err.value)


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        ExperimentConfig.from_toml(_write(tmp_path, "[data\n"))
    with pytest.raises(ConfigError, match="no such config file"):
        ExperimentConfig.from_toml(tmp_path / "nope.toml")


def test_run_name_cannot_escape(tmp_path):
    with pytest.raises(ConfigError, match="  name: must be a plain name"):
        ExperimentConfig.from_dict({"name": "../x", "data": {"path": "x"}})


def test_data_paths_name_environment_variables(tmp_path, monkeypatch):
    """Example configs say ${FER_SHARED_DIR:-../../shared}: the default is relative to the config, the
    variable (when set) wins, and an unset variable without a default is a ConfigError naming the key."""
    config = tmp_path / "exp" / "c.toml"
    config.parent.mkdir()
    config.write_text('name = "c"\n[data]\npath = "${FER_T_DIR:-../shared}/data/f.csv"\n')
    monkeypatch.delenv("FER_T_DIR", raising=False)
    assert ExperimentConfig.from_toml(config).data.path.resolve() == tmp_path / "shared" / "data" / "f.csv"
    monkeypatch.setenv("FER_T_DIR", str(tmp_path / "elsewhere"))
    assert ExperimentConfig.from_toml(config).data.path == tmp_path / "elsewhere" / "data" / "f.csv"
    config.write_text('name = "c"\n[data]\npath = "${FER_T_UNSET}/f.csv"\n')
    monkeypatch.delenv("FER_T_UNSET", raising=False)
    with pytest.raises(ConfigError, match=r"\[data\] path.*FER_T_UNSET is not set"):
        ExperimentConfig.from_toml(config)
