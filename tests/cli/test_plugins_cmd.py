"""``fercli plugins`` and the example third-party plugin, installed as a real distribution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from fer_cli.main import cli


def test_plugins_lists_builtins_and_the_example_plugin(monkeypatch):
    monkeypatch.setenv("FER_LOAD_PLUGINS", "fer_models,fer_plugin_example")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "fer_models  (fer-models 0.1.0, fer_models.plugin)" in result.output
    assert "fer_plugin_example  (fer-plugin-example 0.1.0, fer_plugin_example)" in result.output
    assert "sampler_strategy: sqrt_inverse" in result.output
    assert "backbone: tiny_mlp" in result.output


def test_plugins_json(monkeypatch):
    monkeypatch.setenv("FER_LOAD_PLUGINS", "fer_plugin_example")
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    (info,) = json.loads(result.output)
    assert info["distribution"] == "fer-plugin-example"
    assert info["hooks"] == ["register_backbones", "register_sampler_strategies"]
    assert info["registered"] == {"sampler_strategy": ["sqrt_inverse"], "backbone": ["tiny_mlp"]}


def test_installed_fercli_sees_every_installed_plugin():
    env = {k: v for k, v in os.environ.items() if k != "FER_LOAD_PLUGINS"}
    fercli = Path(sys.executable).with_name("fercli")
    out = subprocess.run([str(fercli), "plugins"], env=env, capture_output=True, text=True, check=True)
    assert "fer_models" in out.stdout and "fer_plugin_example" in out.stdout


def test_example_strategy_weights():
    import torch

    from fer_core import EpochContext
    from fer_plugin_example import SqrtInverse

    ctx = EpochContext(0, torch.tensor([4, 1, 16, 4, 4, 4, 4]), torch.zeros(37, dtype=torch.long))
    assert SqrtInverse().weights(ctx).tolist() == [0.5, 1.0, 0.25, 0.5, 0.5, 0.5, 0.5]
