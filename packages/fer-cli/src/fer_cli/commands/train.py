"""``fercli train``: train one stage, resume a run exactly, or warm start from weights."""

from __future__ import annotations

from pathlib import Path

import click

from fer_cli._options import load_config, out_option, progress_option, seed_threads_options, smoke_option
from fer_cli._outputs import ensure_writable_dir


@click.command()
@click.argument("config_path", metavar="[CONFIG]", required=False, type=click.Path(path_type=Path))
@click.option("--stage", help="Which [[stages]] entry to train (default: the first).")
@click.option("--resume", "resume_ref", type=click.Path(path_type=Path),
              help="Continue a run folder (newest intact checkpoint) or a checkpoint file exactly.")
@click.option("--init", "init_from", type=click.Path(path_type=Path),
              help="Warm start: weights only from a run folder, checkpoint or .safetensors.")
@click.option("--max-steps", type=click.IntRange(min=1), help="Override [train] max_steps.")
@click.option("--epochs", type=click.IntRange(min=1), help="Override [train] epochs.")
@seed_threads_options
@smoke_option
@out_option
@progress_option
def train(config_path: Path | None, stage: str | None, resume_ref: Path | None, init_from: Path | None,
          max_steps: int | None, epochs: int | None, seed: int | None, threads: int | None,
          smoke: bool, out: Path | None, progress: bool | None) -> None:
    """Train one stage of CONFIG, or --resume a run where it stopped."""
    from fer_core.config_validation import validate_config
    from fer_core.training import Trainer, format_result, model_weights_from, resume_trainer

    if resume_ref is not None:
        if config_path is not None or init_from is not None or seed is not None:
            raise click.UsageError("--resume continues a run with its own config; to change the "
                                   "config, start a new run with --init RUN_OR_CHECKPOINT")
        trainer = resume_trainer(resume_ref, log=click.echo, progress=progress, threads=threads)
    else:
        if config_path is None:
            raise click.UsageError("give a CONFIG, or --resume RUN_OR_CHECKPOINT")
        cfg = load_config(config_path, smoke=smoke, max_steps=max_steps, epochs=epochs, seed=seed,
                          threads=threads)
        ensure_writable_dir(out if out is not None else cfg.output.dir)
        stages = {s.name: s for s in cfg.resolved_stages()}
        if stage is not None and stage not in stages:
            raise click.BadParameter(f"no stage {stage!r}; stages: {', '.join(stages)}", param_hint="--stage")
        chosen = stages[stage] if stage else next(iter(stages.values()))
        # names and options against the plugins, before the data loads or a folder is made
        validate_config(cfg, stages=[chosen], source=str(config_path), init_from=init_from)
        if init_from is not None:  # read (and check) the weights before the data
            model_weights_from(init_from)
        trainer = Trainer(cfg, stage=chosen, log=click.echo, run_root=out or cfg.output.dir,
                          init_from=init_from, progress=progress)
    trainer.log(f"run folder: {trainer.run.path if trainer.run else '-'}")  # rank 0 only under DDP
    result = trainer.fit()
    trainer.log("")
    trainer.log(format_result(result))
