"""``fercli plugins`` and the example third-party plugin, installed as a real distribution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fer_cli.main import cli
from fer_core import __version__


def test_plugins_lists_builtins_and_the_example_plugin(monkeypatch):
    monkeypatch.setenv("FER_LOAD_PLUGINS", "fer_models,fer_plugin_example")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert f"fer_models  (fer-models {__version__}, fer_models.plugin)" in result.output
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


# -- a broken third-party plugin next to the good ones ------------------------------------------

class _Dist:
    def __init__(self, name: str, version: str):
        self.metadata = {"Name": name}
        self.version = version


def _install_broken(monkeypatch, plugins_env: str = "fer_models") -> None:
    """Install ``broken`` (dist fer-broken 0.3) whose module spells a hook ``register_backbonee``."""
    import types
    from importlib import metadata

    from fer_core import hookimpl, plugins

    mod = types.ModuleType("fer_broken_plugin")
    mod.register_backbonee = hookimpl(lambda register: None)
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    ep = metadata.EntryPoint("broken", mod.__name__, plugins.ENTRY_POINT_GROUP)
    ep = ep._for(_Dist("fer-broken", "0.3"))
    real = metadata.entry_points

    def entry_points(**kw):
        return [*real(**kw), ep] if kw.get("group") == plugins.ENTRY_POINT_GROUP else real(**kw)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.setenv("FER_LOAD_PLUGINS", f"{plugins_env},broken")
    plugins.reset()


WARNING = ("warning: plugin 'broken' (dist fer-broken 0.3, entry point broken = fer_broken_plugin) skipped: "
           "unknown hook 'register_backbonee' (did you mean 'register_backbones'?)")


def test_plugins_lists_a_broken_plugin_as_failed_with_one_warning(monkeypatch):
    _install_broken(monkeypatch)
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [WARNING]
    assert "broken  (fer-broken 0.3, fer_broken_plugin)" in result.stdout
    assert "  FAILED, skipped: unknown hook 'register_backbonee'" in result.stdout
    assert "  backbone: small_cnn, " in result.stdout  # fer_models still listed with its names
    (broken,) = [i for i in json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).stdout)
                 if i["name"] == "broken"]
    assert "unknown hook 'register_backbonee'" in broken["error"] and broken["registered"] == {}


def _tiny_csv(path: Path, train: int = 10, test: int = 3) -> Path:
    """A FER2013-format CSV of flat grey images, ``train`` per class in Training, ``test`` per test split."""
    rows = ["emotion,pixels,Usage"]
    for usage, n in (("Training", train), ("PublicTest", test), ("PrivateTest", test)):
        for k in range(7):
            pixels = " ".join([str(20 + 30 * k)] * 48 * 48)
            rows += [f"{k},{pixels},{usage}"] * n
    path.write_text("\n".join(rows) + "\n")
    return path


def _toml(tmp_path: Path, data: Path, extra: str = "") -> Path:
    cfg = tmp_path / "exp.toml"
    cfg.write_text(f"name = 'iso'\ndevice = 'cpu'\nthreads = 1\n[data]\npath = '{data}'\ncache = false\n"
                   f"[model]\nbackbone = 'small_cnn'\noptions = {{ widths = [4, 8] }}\n{extra}")
    return cfg


def test_run_smoke_works_with_a_broken_plugin_installed(monkeypatch, tmp_path):
    _install_broken(monkeypatch)
    cfg = _toml(tmp_path, _tiny_csv(tmp_path / "tiny.csv"))
    result = CliRunner().invoke(cli, ["run", str(cfg), "--smoke", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [WARNING]
    assert "experiment folder:" in result.stdout and "Traceback" not in result.output


BAD_CONFIGS = {
    "backbone": ("[model]\n", "", "x"),  # replaced below: a wrong backbone name
    "strategy": ("", "[train]\nstrategy = 'adaptiv'\n",
                 "[train] strategy = 'adaptiv' is not registered (stage 'train'); allowed values: "),
    "stage loss option": ("", "[[stages]]\nname = 'a'\n[[stages]]\nname = 'b'\nloss = 'focal'\n"
                              "loss_options = { gama = 2 }\n",
                          "[stages.1] loss_options (stage 'b'): loss 'focal' (plugin 'fer_models', "
                          "fer-models): unknown option 'gama'; allowed options: "),
}


@pytest.mark.parametrize("command", ["run", "train"])
@pytest.mark.parametrize("case", ["backbone", "strategy", "stage loss option"])
def test_bad_config_fails_before_the_data_and_makes_no_folder(monkeypatch, tmp_path, command, case):
    _install_broken(monkeypatch)
    _, extra, expected = BAD_CONFIGS[case]
    cfg = _toml(tmp_path, tmp_path / "no-such-data.csv", extra)
    if case == "backbone":
        cfg.write_text(cfg.read_text().replace("'small_cnn'", "'small_cn'"))
        expected = "[model] backbone = 'small_cn' is not registered; allowed values: "
    args = [command, str(cfg), "--out", str(tmp_path / "runs")]
    if case == "stage loss option" and command == "train":
        args += ["--stage", "b"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert line.startswith(f"Error: {cfg}: {expected}"), line
    if case == "backbone":
        assert "small_cnn" in line and "failed plugins: plugin 'broken' (dist fer-broken 0.3" in line
    assert "no-such-data" not in result.output  # the data was never read
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", ["run", "train"])
def test_missing_init_is_reported_before_the_data(tmp_path, command):
    cfg = _toml(tmp_path, tmp_path / "no-such-data.csv")
    result = CliRunner().invoke(cli, [command, str(cfg), "--init", str(tmp_path / "gone.pt"),
                                      "--out", str(tmp_path / "runs")])
    assert result.exit_code == 1, result.output
    assert f"Error: {cfg}: --init {tmp_path / 'gone.pt'}: no such run folder, checkpoint" in result.output
    assert "no-such-data" not in result.output and not (tmp_path / "runs").exists()
