"""``fercli run``: a real slice of FER2013, a strategy and backbone picked by name from a plugin."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fer_cli.main import cli
from fer_core.data import load_dataset
from fer_core.training import find_runs

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, data: Path, **train: str) -> Path:
    lines = ["name = 'cli-test'", "device = 'cpu'", "[data]", f"path = '{data}'", "[train]",
             "max_steps = 3", "batch_size = 16"] + [f"{k} = {v}" for k, v in train.items()]
    path = tmp_path / "exp.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_run_with_a_third_party_strategy_and_backbone(tmp_path, fer2013_slice, monkeypatch):
    monkeypatch.setenv("FER_LOAD_PLUGINS", "fer_models,fer_plugin_example")
    cfg = _config(tmp_path, fer2013_slice, strategy="'sqrt_inverse'")
    cfg.write_text(cfg.read_text() + "[model]\nbackbone = 'tiny_mlp'\n")
    result = CliRunner().invoke(cli, ["run", str(cfg), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "Training (train)" in result.output and "700" in result.output
    assert "experiment cli-test: backbone tiny_mlp" in result.output
    (run,) = find_runs(tmp_path / "runs")
    share = run.history()[0]["class_share"]  # sqrt_inverse: rare classes drawn more than their share
    counts = load_dataset(fer2013_slice).split("train").class_counts()
    natural = (counts / counts.sum()).tolist()
    rarest = int(counts.argmin())
    assert share[rarest] > 1.5 * natural[rarest]
    assert "| PrivateTest (report) | 150 |" in result.output
    assert "Protocol: selection (best epoch) on PublicTest" in result.output


def test_run_overrides(tmp_path, fer2013_slice):
    cfg = _config(tmp_path, fer2013_slice)
    result = CliRunner().invoke(cli, ["run", str(cfg), "--max-steps", "2", "--subset-per-class", "5",
                                      "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "2 steps, 1 epoch(s)" in result.output


def test_bad_config_is_one_clear_line(tmp_path, fer2013_slice):
    cfg = _config(tmp_path, fer2013_slice, strategy="'adaptiv'")
    result = CliRunner().invoke(cli, ["run", str(cfg), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert f"Error: {cfg}: [train] strategy = 'adaptiv' is not registered (stage 'train')" in result.output
    assert "Training (train)" not in result.output  # reported before the data loads
    assert not (tmp_path / "runs").exists()
    assert "Traceback" not in result.output


def test_missing_data_file_is_one_clear_line(tmp_path):
    cfg = _config(tmp_path, tmp_path / "missing.csv")
    result = CliRunner().invoke(cli, ["run", str(cfg)])
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'missing.csv'}: no such file or folder" in result.output


def test_quickstart_config_is_valid():
    from fer_core.config import ExperimentConfig

    cfg = ExperimentConfig.from_toml(REPO / "examples" / "quickstart.toml")
    assert cfg.data.path.name == "fer2013.csv.gz" and cfg.train.max_steps == 300
