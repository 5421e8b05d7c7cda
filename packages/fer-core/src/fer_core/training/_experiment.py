"""Experiments: the stages of a config run in order, each a run folder chained to its parent.

An experiment folder ``<output.dir>/<name>-<timestamp>/`` holds ``experiment.json`` and one run
folder per stage. Stage N starts from the best checkpoint of stage N-1 (weights only, with the
stage's own hyperparameters); its ``run.json`` names that parent and the checkpoint's sha256.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fer_core.config import ExperimentConfig
from fer_core.config_validation import validate_config
from fer_core.data import FerDataset
from fer_core.errors import FerError
from fer_core.plugins import PluginSet, get_plugins
from fer_core.training._checkpoint import CheckpointError, atomic_write_text, load_checkpoint, sha256_file
from fer_core.training._runs import RUN_FILE, RunDir
from fer_core.training._trainer import Trainer, TrainResult

EXPERIMENT_FILE = "experiment.json"


def apply_smoke(cfg: ExperimentConfig) -> ExperimentConfig:
    """A seconds-long version of an experiment with the same stages, options and code paths."""
    raw = cfg.model_dump()
    data = raw["data"]
    data["subset_per_class"] = min(data["subset_per_class"] or 10, 10)
    data["eval_limit"] = min(data["eval_limit"] or 64, 64)
    for section in [raw["train"], *raw["stages"]]:
        section["epochs"] = min(section.get("epochs", raw["train"]["epochs"]), 2)
        section["steps_per_epoch"] = 2
        section["batch_size"] = min(section.get("batch_size", raw["train"]["batch_size"]), 16)
        section.pop("max_steps", None)
    raw["train"]["max_steps"] = None
    raw["name"] = f"{cfg.name}-smoke"
    return ExperimentConfig.model_validate(raw)


def load_experiment_data(cfg: ExperimentConfig) -> FerDataset:
    return cfg.data.load(seed=cfg.seed)


def run_experiment(
    cfg: ExperimentConfig,
    *,
    plugins: PluginSet | None = None,
    dataset: FerDataset | None = None,
    out_root: Path | None = None,
    log: Callable[[str], None] = lambda msg: None,
    progress: bool | None = None,
    init_from: Path | None = None,
) -> tuple[Path, list[TrainResult]]:
    """Run every stage of ``cfg``; returns the experiment folder and each stage's result.

    The config is checked against the plugins first (:func:`~fer_core.config_validation.validate_config`):
    a bad name or option raises before any data loads or folder is made. A stage that fails
    before it made its run folder (an unusable ``init_from``, say) leaves no empty folder behind.
    """
    plugins = plugins if plugins is not None else get_plugins()
    validate_config(cfg, plugins, data_from_config=dataset is None, init_from=init_from)
    dataset = dataset if dataset is not None else load_experiment_data(cfg)
    root = Path(out_root if out_root is not None else cfg.output.dir)
    made_root = not root.exists()
    exp_dir = _new_folder(root, f"{cfg.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        return exp_dir, _run_stages(cfg, exp_dir, plugins=plugins, dataset=dataset, log=log,
                                    progress=progress, init_from=init_from)
    except BaseException:
        _remove_if_empty(exp_dir)
        if made_root:
            _remove_if_empty(root)
        raise


def _run_stages(cfg: ExperimentConfig, exp_dir: Path, *, plugins: PluginSet, dataset: FerDataset,
                log: Callable[[str], None], progress: bool | None,
                init_from: Path | None) -> list[TrainResult]:
    stages = cfg.resolved_stages()
    record: dict[str, Any] = {"name": cfg.name, "stages": [], "config": cfg.to_json_dict()}
    results: list[TrainResult] = []
    parent: dict[str, Any] | None = None
    start: Path | None = init_from
    for stage in stages:
        log(f"== stage {stage.index + 1}/{len(stages)}: {stage.name} ==")
        trainer = Trainer(cfg, stage=stage, plugins=plugins, dataset=dataset, log=log,
                          run_root=exp_dir, run_name=f"{stage.index + 1}-{stage.name}",
                          init_from=start, parent=parent, progress=progress)
        record["stages"].append(str(trainer.run.path.relative_to(exp_dir)) if trainer.run else None)
        atomic_write_text(exp_dir / EXPERIMENT_FILE, json.dumps(record, indent=2) + "\n")
        results.append(trainer.fit())
        if trainer.run is not None:
            start = trainer.run.checkpoints / "best.pt"
            parent = {"run": str(trainer.run.path)}
    return results


def _remove_if_empty(path: Path) -> None:
    """Remove ``path`` if nothing was written into it (a failure before the first stage's run folder)."""
    with contextlib.suppress(OSError):  # not empty (a stage ran) or already gone
        path.rmdir()


def _new_folder(root: Path, name: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path, k = root / name, 1
    while path.exists():
        k += 1
        path = root / f"{name}-{k}"
    path.mkdir()
    return path


def newest_intact_checkpoint(run: RunDir, log: Callable[[str], None] = lambda msg: None) -> Path:
    """The newest ``step-*.pt`` of a run whose sha256 matches its manifest and that loads.

    A damaged newest checkpoint is skipped with a message naming it and the one used instead.
    """
    manifest_path = run.path / "checkpoints.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    candidates = sorted(run.checkpoints.glob("step-*.pt"), reverse=True)
    for path in candidates:
        expected = manifest.get(path.name, {}).get("sha256")
        if expected is not None and sha256_file(path) != expected:
            log(f"warning: {path} does not match its recorded sha256; trying an older checkpoint")
            continue
        try:
            load_checkpoint(path)
        except CheckpointError as exc:
            log(f"warning: {exc}; trying an older checkpoint")
            continue
        return path
    raise CheckpointError(f"{run.path}: no intact checkpoint to resume from")


def resume_trainer(
    ref: Path,
    *,
    plugins: PluginSet | None = None,
    log: Callable[[str], None] = lambda msg: None,
    progress: bool | None = None,
    threads: int | None = None,
) -> Trainer:
    """A Trainer continuing the run folder (or checkpoint file) ``ref`` exactly.

    ``threads`` overrides the run's CPU thread count (the machine may differ from the one that
    started it); everything else comes from the checkpoint's own config.
    """
    ref = Path(ref)
    if ref.is_file():
        checkpoint = ref
        run = RunDir(ref.parent.parent)
        if not (run.path / RUN_FILE).is_file():
            raise FerError(f"{ref}: not inside a run folder (no {run.path / RUN_FILE})")
    elif (ref / RUN_FILE).is_file():
        run = RunDir(ref)
        checkpoint = newest_intact_checkpoint(run, log)
    else:
        raise FerError(f"{ref}: neither a run folder nor a checkpoint file")
    state = load_checkpoint(checkpoint)
    cfg = ExperimentConfig.from_dict(state["config"], source=str(checkpoint))
    if threads is not None:
        cfg.threads = threads
    stage = next((s for s in cfg.resolved_stages() if s.name == state["stage"]), None)
    if stage is None:
        raise FerError(f"{checkpoint}: its stage {state['stage']!r} is not in its own config")
    trainer = Trainer(cfg, stage=stage, plugins=plugins, log=log, run=run, progress=progress,
                      restoring=True)
    trainer.resume(checkpoint)
    run.update_info(status="running")
    return trainer
