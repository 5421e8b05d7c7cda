"""The shipped example configs: every one validates, every experiment runs end to end in smoke mode."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fer_cli.main import cli
from fer_core.config import ExperimentConfig, check_choice
from fer_core.plugins import get_plugins
from fer_core.training import apply_smoke

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPERIMENTS = sorted((EXAMPLES / "experiments").glob("*.toml"))
ALL_CONFIGS = [*EXPERIMENTS, EXAMPLES / "quickstart.toml"]


HUB_VIT = "dima806/facial_emotions_image_detection"


def offline(path: Path, tmp_path: Path, request) -> Path:
    """``path`` itself, or for a config naming the hub ViT, a copy using the tiny saved ViT instead."""
    text = path.read_text()
    if HUB_VIT not in text:
        return path
    tiny = request.getfixturevalue("tiny_vit_dir")
    data = ExperimentConfig.from_toml(path).data.path
    text = re.sub(r'^path = ".*fer2013\.csv\.gz"$', f'path = "{data}"', text.replace(HUB_VIT, str(tiny)),
                  flags=re.M)
    copy = tmp_path / path.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text)
    return copy


def made_up_teacher(data: Path, folder: Path) -> Path:
    """A teacher file for every Training row of ``data`` (random distributions), for smoke runs."""
    import numpy as np

    from fer_core.data import TeacherTargets, load_dataset

    ds = load_dataset(data)
    train = ds.split("train")
    probs = np.random.default_rng(0).dirichlet(np.ones(7), size=len(train)).astype(np.float32)
    return TeacherTargets(probs, train.indices.numpy(), train.labels.numpy(), len(ds), "made-up", 1.0).save(
        folder / "teacher.npz")


def test_the_examples_are_there():
    assert len(EXPERIMENTS) >= 7
    assert {"efficiency-multistage.toml", "limited-baseline.toml"} <= {p.name for p in EXPERIMENTS}


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=lambda p: p.stem)
def test_example_config_validates(path, tmp_path, request):
    cfg = ExperimentConfig.from_toml(offline(path, tmp_path, request))
    assert cfg.data.path.is_absolute() and cfg.data.path.name == "fer2013.csv.gz"
    assert cfg.data.path.parent.name == "fer2013" and cfg.data.path.parent.parent.name == "data"
    ps = get_plugins()
    check_choice(cfg.model.backbone, list(ps.backbones()), "[model] backbone", str(path))
    for stage in cfg.resolved_stages():
        check_choice(stage.train.strategy, list(ps.sampler_strategies()), "[train] strategy", str(path))
        check_choice(stage.train.loss, list(ps.losses()), "[train] loss", str(path))
        ps.get("sampler_strategy", stage.train.strategy).build(**stage.train.strategy_options)
        ps.get("loss", stage.train.loss).build(**stage.train.loss_options)
    ps.get("backbone", cfg.model.backbone).build(num_classes=7, in_chans=1, **cfg.model.options)
    smoke = apply_smoke(cfg)
    assert [s.name for s in smoke.resolved_stages()] == [s.name for s in cfg.resolved_stages()]
    assert all(s.train.epochs <= 2 and s.train.steps_per_epoch == 2 for s in smoke.resolved_stages())


@pytest.mark.slow
@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_example_experiment_runs_in_smoke_mode(path, fer2013_csv, tmp_path, request, monkeypatch):
    # the configs point at ../shared/data by relative paths; fer2013_csv skips when it is missing
    path = offline(path, tmp_path / "config", request) if HUB_VIT in path.read_text() else path
    if "FER_TEACHER" in path.read_text():  # a distilled student: the teacher file comes first
        monkeypatch.setenv("FER_TEACHER", str(made_up_teacher(fer2013_csv, tmp_path)))
    cfg = ExperimentConfig.from_toml(path)
    assert cfg.data.path.resolve() == fer2013_csv.resolve()
    out_dir = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "--smoke", "--out", str(out_dir), "--no-progress"])
    assert result.exit_code == 0, result.output
    out = result.output
    (exp_dir,) = out_dir.iterdir()
    assert exp_dir.name.startswith(f"{cfg.name}-smoke-")
    assert f"experiment folder: {exp_dir}" in out
    stages = cfg.resolved_stages()
    assert json.loads((exp_dir / "experiment.json").read_text())["stages"] == [
        f"{s.index + 1}-{s.name}" for s in stages]
    for stage in stages:
        run = exp_dir / f"{stage.index + 1}-{stage.name}"
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "completed" and info["steps"] <= 4
        assert (run / "report.md").is_file() and (run / "model.safetensors").is_file()
        assert f"## stage {stage.name} ({run})" in out
    # the results table of every stage, on the smoke mode's 64 evaluation images
    assert out.count("Protocol: selection (best epoch) on PublicTest") == len(stages)
    assert out.count("| PrivateTest (report) | 64 |") == len(stages)


def test_the_long_default_recipe_starts_with_the_default_recipe_exactly():
    # its comment tells users to reuse a finished default-model.toml run as stage 1
    short = ExperimentConfig.from_toml(EXAMPLES / "experiments" / "default-model.toml")
    long = ExperimentConfig.from_toml(EXAMPLES / "experiments" / "default-model-long.toml")
    (only,), (first, anneal) = short.resolved_stages(), long.resolved_stages()
    assert first.train == only.train and first.index == only.index == 0
    assert (long.seed, long.model, long.data) == (short.seed, short.model, short.data)
    assert anneal.train.lr < first.train.lr and anneal.train.scheduler == "cosine"
