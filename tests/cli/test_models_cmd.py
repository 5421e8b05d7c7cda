"""``fercli models``: every registered backbone with its cost, and the best runs per backbone."""

from __future__ import annotations

import json
import re

import pytest
import torch
from click.testing import CliRunner

from fer_cli.main import cli
from fer_core import hookimpl, plugins

pytestmark = pytest.mark.usefixtures("one_thread")


def _rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith("| backbone"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0]] = cells
    return rows


def test_models_lists_every_backbone_with_gmacs():
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    assert "Protocol:" in result.output and "FlopCounterMode FLOPs / 2" in result.output
    rows = _rows(result.output)
    registered = plugins.get_plugins().backbones()
    assert set(rows) == set(registered)
    for name, cells in rows.items():
        assert cells[1] == "fer_models"
        if name == "timm":  # needs model_name: its row says why it was not built
            assert "needs the option model_name" in cells[-1]
            continue
        if name == "hf_vit":  # needs a model (hub id or folder): likewise
            assert "needs the option model" in cells[-1]
            continue
        assert re.fullmatch(r"\d+\.\d{4}", cells[3]), (name, cells)
        assert float(cells[3]) > 0
    assert rows["khaireddin_vgg"][4] == "0.3505 (40x40)"
    assert rows["baseline_cnn"][3] == "0.3295" and rows["lean_cnn"][2] == "1.16"


class _Broken:
    """A third-party plugin whose backbone cannot run on 48x48 faces."""

    @hookimpl
    def register_backbones(self, register):
        def needs_224(num_classes=7, in_chans=1, **options):
            return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(in_chans * 224 * 224, num_classes))

        register("needs_224", needs_224, "Only takes 224x224 input")


def test_a_backbone_that_fails_is_a_row_not_a_crash(monkeypatch):
    ps = plugins.PluginSet.load(allow=["fer_models"], extra={"broken_plugin": _Broken()})
    monkeypatch.setattr(plugins, "_default", ps)
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    row = _rows(result.output)["needs_224"]
    assert row[1] == "broken_plugin" and row[3] == "-"
    assert ("Only takes 224x224 input (not built at 1x48x48: PluginError: backbone 'needs_224' (plugin "
            "'broken_plugin'): its model fails on a dummy batch [2, 1, 48, 48]: RuntimeError") in row[-1]


def _fake_run(root, name, backbone, accuracy, status="completed", options=None, crop=None, tta="none"):
    path = root / name / "1-train"
    path.mkdir(parents=True)
    (path / "run.json").write_text(json.dumps({"name": "1-train", "status": status, "created": name,
                                               "report_accuracy": accuracy, "select_accuracy": 0.5}))
    (path / "config.json").write_text(json.dumps({
        "model": {"backbone": backbone, "options": options or {}},
        "resolved_train": {"augment": {"crop_size": crop}, "tta": tta},
    }))


def test_models_with_runs_adds_best_private_test_and_accuracy_per_gmac(tmp_path):
    _fake_run(tmp_path, "a", "small_cnn", 0.40)
    _fake_run(tmp_path, "b", "small_cnn", 0.45)
    _fake_run(tmp_path, "c", "small_cnn", 0.90, status="failed")  # not completed: ignored
    _fake_run(tmp_path, "d", "lean_cnn", 0.60, crop=40, tta="flip")
    _fake_run(tmp_path, "e", "ghost_net", 0.70)  # its plugin is not installed
    # the pretrained file is not needed to cost a run
    _fake_run(tmp_path, "f", "efficientnet_b0", 0.55, options={"pretrained": "/nowhere/b0.safetensors"})

    result = CliRunner().invoke(cli, ["models", "--runs", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Runs: PrivateTest = the best run.json report_accuracy" in result.output
    rows = _rows(result.output)
    assert rows["small_cnn"][5:7] == ["0.4500", "b/1-train"]
    assert rows["resemotenet"][5:9] == ["-", "-", "-", "-"]
    assert "not registered" in rows["ghost_net"][-1]

    data = {r["name"]: r for r in json.loads(
        CliRunner().invoke(cli, ["models", "--runs", str(tmp_path), "--json"]).output)}
    small = data["small_cnn"]["runs"]
    assert small["run_gmacs"] == pytest.approx(data["small_cnn"]["gmacs"])
    assert small["acc_per_gmac"] == pytest.approx(0.45 / data["small_cnn"]["gmacs"])
    lean = data["lean_cnn"]["runs"]
    from fer_models.backbones import lean_cnn
    from fer_models.flops import count_flops

    at_40 = count_flops(lean_cnn(), (1, 40, 40))["macs"] / 1e9
    assert lean["run_gmacs"] == pytest.approx(2 * at_40)  # 40x40 crop, two views (flip TTA)
    assert data["efficientnet_b0"]["runs"]["run_gmacs"] == pytest.approx(data["efficientnet_b0"]["gmacs"])
