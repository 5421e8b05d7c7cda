"""Runs and stages on made-up data: run folders, stage chaining, early stopping, best-epoch
reporting, gradient accumulation, bf16 autocast and channels-last."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from fer_core import hookimpl, plugins
from fer_core.classes import CLASSES
from fer_core.config import ExperimentConfig
from fer_core.training import (
    PROTOCOL,
    Trainer,
    evaluate,
    load_checkpoint,
    load_weights,
    newest_intact_checkpoint,
    run_experiment,
    sha256_file,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _config(*, stages=None, model=None, evaluate=True, **train) -> ExperimentConfig:
    raw = {"name": "t", "device": "cpu", "data": {"path": "unused"}, "evaluate": evaluate,
           "model": model or {"options": {"widths": [8, 16]}},
           "train": {"epochs": 1, "batch_size": 32, "lr": 3e-3, "checkpoint_every": 0, **train}}
    if stages is not None:
        raw["stages"] = stages
    return ExperimentConfig.from_dict(raw)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _clone(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class _AtStart:
    """Records what each stage starts from."""

    def __init__(self):
        self.seen: list[dict] = []

    @hookimpl
    def before_train(self, trainer):
        self.seen.append({"stage": trainer.stage.name, "weights": _clone(trainer.model),
                          "optimizer_state": len(trainer.optimizer.state), "step": trainer.step,
                          "lr": trainer.optimizer.param_groups[0]["lr"], "history": len(trainer.history)})


class _TinyLinear(nn.Module):
    """No BatchNorm, no dropout: the loss is a plain mean over the batch."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1):
        super().__init__()
        self.fc = nn.Linear(in_chans * 48 * 48, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


class _TinyLinearPlugin:
    @hookimpl
    def register_backbones(self, register):
        register("tiny_linear", _TinyLinear, "one linear layer over the pixels")


def _with(**extra) -> plugins.PluginSet:
    return plugins.PluginSet.load(allow=["fer_models"], extra=extra)


LINEAR = {"backbone": "tiny_linear"}
PLAIN = {"hflip": False}  # no augmentation at all


def _synthetic(per_class: int):
    """``make_synthetic_dataset`` of tests/conftest.py (for fixtures wider than a function)."""
    spec = importlib.util.spec_from_file_location("_root_conftest", Path(__file__).parents[1] / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_synthetic_dataset(per_class=per_class)


# -- a two-stage experiment and its run folders ------------------------------------------------------

@pytest.fixture(scope="module")
def two_stage(tmp_path_factory):
    """Stage ``first`` (2 epochs) then ``second`` (1 epoch, its own lr) on 16 images per class."""
    recorder = _AtStart()
    cfg = _config(epochs=2, stages=[{"name": "first"}, {"name": "second", "epochs": 1, "lr": 1e-3}])
    exp_dir, results = run_experiment(cfg, plugins=_with(recorder=recorder), dataset=_synthetic(16),
                                      out_root=tmp_path_factory.mktemp("experiments"))
    return exp_dir, results, recorder.seen


def test_each_stage_is_a_run_folder_chained_to_its_parent(two_stage):
    exp_dir, results, _ = two_stage
    first, second = exp_dir / "1-first", exp_dir / "2-second"
    assert json.loads((exp_dir / "experiment.json").read_text())["stages"] == ["1-first", "2-second"]
    assert [r.run_dir for r in results] == [first, second]
    assert [r.epochs for r in results] == [2, 1]
    info1, info2 = (json.loads((p / "run.json").read_text()) for p in (first, second))
    assert info1["parent"] is None and info1["stage"] == "first"
    best = first / "checkpoints" / "best.pt"
    assert info2["parent"] == {"run": str(first), "checkpoint": str(best), "sha256": sha256_file(best)}
    assert info2["stage"] == "second" and info2["status"] == "completed"


def test_the_next_stage_starts_from_the_best_weights_with_a_fresh_optimizer(two_stage):
    exp_dir, results, seen = two_stage
    start1, start2 = seen
    assert (start1["stage"], start2["stage"]) == ("first", "second")
    best = load_checkpoint(exp_dir / "1-first" / "checkpoints" / "best.pt")
    assert _same(start2["weights"], best["model"])
    exported, _ = load_weights(exp_dir / "1-first" / "model.safetensors")
    assert _same(start2["weights"], exported)  # what stage 1 reported is what stage 2 got
    assert not _same(start2["weights"], start1["weights"])  # trained, not a fresh init
    # weights only: no optimizer moments, no position, no history; the stage's own lr
    assert start2["optimizer_state"] == 0 and start2["step"] == 0 and start2["history"] == 0
    assert start2["lr"] == 1e-3 and start1["lr"] == 3e-3
    assert results[1].steps == 4  # 112 images / 32 per batch, one epoch


def test_each_stage_draws_its_own_batch_orders_and_augmentations(synthetic_dataset):
    cfg = _config(stages=[{"name": "first"}, {"name": "second"}])
    first, second = (Trainer(cfg, stage=s, plugins=_with(), dataset=synthetic_dataset)
                     for s in cfg.resolved_stages())
    single = Trainer(_config(), plugins=_with(), dataset=synthetic_dataset)

    def draws(trainer):
        return torch.randperm(1000, generator=trainer.order_gen), torch.rand(8, generator=trainer.aug_gen)

    (order1, aug1), (order2, aug2), (order_single, aug_single) = map(draws, (first, second, single))
    # the first stage draws what a one-stage run of the seed draws (its runs reproduce as before) ...
    assert torch.equal(order1, order_single) and torch.equal(aug1, aug_single)
    # ... and the second stage does not replay it
    assert not torch.equal(order1, order2) and not torch.equal(aug1, aug2)


def test_a_run_folder_holds_logs_report_and_weights(two_stage):
    exp_dir, results, _ = two_stage
    run = exp_dir / "1-first"
    for name in ("run.json", "config.json", "metrics.jsonl", "metrics.csv", "report.json", "report.md",
                 "model.safetensors", "model.json", "checkpoints.json", "checkpoints/best.pt"):
        assert (run / name).is_file(), name

    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["best_epoch"] == results[0].best_epoch
    assert info["report_accuracy"] == results[0].report["accuracy"]
    config = json.loads((run / "config.json").read_text())
    assert config["stage"] == "first" and config["resolved_train"]["epochs"] == 2

    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1]  # one line per epoch
    for row in rows:
        assert len(row["select"]["per_class_f1"]) == 7 and 0 <= row["select"]["accuracy"] <= 1
        assert row["lr"] == pytest.approx(3e-3)
        assert row["class_weights"] == [1.0] * 7 and sum(row["class_share"]) == pytest.approx(1)
        assert math.isfinite(row["train_loss"])
    with open(run / "metrics.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 2
    assert {f"f1_{c}" for c in CLASSES} | {f"weight_{c}" for c in CLASSES} | {"lr", "select_accuracy"} \
        <= set(table[0])
    assert float(table[1]["select_accuracy"]) == pytest.approx(rows[1]["select"]["accuracy"])

    report = json.loads((run / "report.json").read_text())
    assert report["protocol"] == PROTOCOL and report["best_epoch"] == results[0].best_epoch
    assert report["report"]["n"] == 56 and report["combined"]["n"] == 112
    md = (run / "report.md").read_text()
    assert f"Protocol: {PROTOCOL}." in md
    assert "| emotion | precision | recall | F1 | support |" in md
    for name in CLASSES:
        assert f"| {name} | " in md
    assert "| macro avg |" in md and "| weighted avg |" in md
    for slug in ("select", "report", "combined"):
        png = run / f"confusion_{slug}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert f"]({png.name})" in md

    weights_cfg = json.loads((run / "model.json").read_text())
    assert weights_cfg["weights_sha256"] == sha256_file(run / "model.safetensors")
    assert weights_cfg["backbone"] == "small_cnn" and weights_cfg["options"] == {"widths": [8, 16]}
    assert weights_cfg["classes"] == list(CLASSES) and weights_cfg["stage"] == "first"


# -- early stopping, and the best epoch is what gets reported ----------------------------------------

def test_early_stopping_after_patience_epochs_and_a_resume_stays_stopped(tmp_path, synthetic_dataset):
    # lr so small that no weight moves: the select metric never improves after epoch 0
    cfg = _config(model=LINEAR, epochs=10, lr=1e-30, early_stopping=2, augment=PLAIN)
    logs: list[str] = []
    trainer = Trainer(cfg, plugins=_with(tiny=_TinyLinearPlugin()), dataset=synthetic_dataset.subset(8),
                      run_root=tmp_path, log=logs.append)
    result = trainer.fit()
    assert result.epochs == 3 and result.best_epoch == 0 and result.steps == 3 * 2
    assert any("early stopping: no improvement for 2 epochs" in m for m in logs)
    assert len(trainer.run.history()) == 3

    # resuming the finished run (as resume_trainer does, with the data in hand) trains no further
    resumed = Trainer(cfg, plugins=_with(tiny=_TinyLinearPlugin()), dataset=synthetic_dataset.subset(8),
                      run=trainer.run)
    resumed.resume(newest_intact_checkpoint(trainer.run))
    again = resumed.fit()
    assert again.epochs == 3 and again.steps == 6  # a finished run does not train on
    assert trainer.run.info()["status"] == "completed"


class _Saboteur:
    """Before epoch 1: keeps the weights (those of epoch 0) and wrecks the model for good."""

    def __init__(self):
        self.kept: dict[str, torch.Tensor] | None = None

    @hookimpl
    def before_epoch(self, trainer, epoch):
        if epoch != 1:
            return
        self.kept = _clone(trainer.model)
        head = trainer.model.head[-1]
        with torch.no_grad():
            head.weight.zero_()
            head.bias.copy_(torch.tensor([100.0, 0, 0, 0, 0, 0, 0]))  # always "angry"
        for group in trainer.optimizer.param_groups:
            group["lr"] = 0.0


def test_the_report_uses_the_best_epochs_weights(synthetic_dataset):
    saboteur = _Saboteur()
    trainer = Trainer(_config(epochs=2, lr=1e-2), plugins=_with(saboteur=saboteur),
                      dataset=synthetic_dataset)
    result = trainer.fit()
    assert result.history[1]["select"]["accuracy"] == pytest.approx(1 / 7)  # wrecked: all "angry"
    assert result.best_epoch == 0

    model = trainer.plugins.get("backbone", "small_cnn").build(num_classes=7, in_chans=1, widths=[8, 16])
    model.load_state_dict(saboteur.kept)
    report_split = synthetic_dataset.split("report")
    expected = evaluate(model, report_split.images, report_split.labels)
    assert expected["accuracy"] > 0.3  # epoch 0 learned something: the wrecked model scores 1/7
    assert result.report["accuracy"] == expected["accuracy"]
    assert result.report["per_class_f1"] == expected["per_class_f1"]
    assert result.select["accuracy"] == result.history[0]["select"]["accuracy"]
    assert _same(_clone(trainer.eval_model), saboteur.kept)  # also what a run folder exports


# -- gradient accumulation, bf16 autocast, channels-last ----------------------------------------------

def test_grad_accumulation_matches_the_large_batch(synthetic_dataset):
    # 280 images: 17 full batches of 16 and a last one of 8 (a group of one micro-batch)
    common = {"model": LINEAR, "epochs": 1, "optimizer": "sgd", "lr": 0.05, "augment": PLAIN}
    ps = _with(tiny=_TinyLinearPlugin())
    big = Trainer(_config(batch_size=16, grad_accum=1, **common), plugins=ps, dataset=synthetic_dataset)
    small = Trainer(_config(batch_size=8, grad_accum=2, **common), plugins=ps, dataset=synthetic_dataset)
    assert _same(_clone(big.model), _clone(small.model))
    assert big.fit().steps == small.fit().steps == 18
    for key, value in _clone(big.model).items():
        assert torch.allclose(value, small.model.state_dict()[key], rtol=1e-4, atol=1e-6), key
    moved = (_clone(big.model)["fc.weight"] - Trainer(_config(batch_size=16, **common), plugins=ps,
                                                         dataset=synthetic_dataset).model.fc.weight).abs()
    assert moved.max() > 1e-3  # the comparison is not between two untrained models


class _Watch:
    """Records the dtype of the model's outputs and the memory format of its inputs in training."""

    def __init__(self, model: nn.Module):
        self.dtypes: set[torch.dtype] = set()
        self.channels_last: list[bool] = []
        model.register_forward_hook(self._hook)

    def _hook(self, module, args, output):
        if module.training:
            self.dtypes.add(output.dtype)
            self.channels_last.append(args[0].is_contiguous(memory_format=torch.channels_last))


def test_bf16_autocast_on_cpu_trains(synthetic_dataset):
    trainer = Trainer(_config(max_steps=2, amp="bf16", evaluate=False), dataset=synthetic_dataset.subset(8))
    watch = _Watch(trainer.model)
    result = trainer.fit()
    assert trainer.amp_dtype == torch.bfloat16
    assert watch.dtypes == {torch.bfloat16}
    assert result.steps == 2 and math.isfinite(result.history[0]["train_loss"])
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_channels_last_trains(synthetic_dataset):
    trainer = Trainer(_config(max_steps=2, channels_last=True, evaluate=False),
                      dataset=synthetic_dataset.subset(8))
    watch = _Watch(trainer.model)
    result = trainer.fit()
    conv = trainer.model.features[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert watch.channels_last and all(watch.channels_last)
    assert result.steps == 2 and math.isfinite(result.history[0]["train_loss"])
