"""``fercli run CONFIG.toml``: run an experiment (one or more stages) described by a TOML config."""

from __future__ import annotations

from pathlib import Path

import click

from fer_cli._options import load_config, out_option, progress_option, seed_threads_options, smoke_option
from fer_cli._outputs import ensure_writable_dir


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--max-steps", type=click.IntRange(min=1), help="Override [train] max_steps.")
@click.option("--epochs", type=click.IntRange(min=1), help="Override [train] epochs.")
@click.option("--subset-per-class", type=click.IntRange(min=1),
              help="Override [data] subset_per_class (a seeded subset of the training split).")
@click.option("--init", "init_from", type=click.Path(path_type=Path),
              help="Warm start the first stage from a run folder, checkpoint or .safetensors.")
@seed_threads_options
@smoke_option
@out_option
@progress_option
def run(config_path: Path, max_steps: int | None, epochs: int | None, subset_per_class: int | None,
        init_from: Path | None, seed: int | None, threads: int | None, smoke: bool,
        out: Path | None, progress: bool | None) -> None:
    """Load the data, print its report, then train and evaluate every stage of CONFIG."""
    from fer_core.config_validation import validate_config
    from fer_core.data import data_report, format_report
    from fer_core.training import format_result, load_experiment_data, model_weights_from, run_experiment

    cfg = load_config(config_path, smoke=smoke, max_steps=max_steps, epochs=epochs,
                      subset_per_class=subset_per_class, seed=seed, threads=threads)
    ensure_writable_dir(out if out is not None else cfg.output.dir)
    # names and options against the plugins, before the data loads or a folder is made
    validate_config(cfg, source=str(config_path), init_from=init_from)
    if init_from is not None:  # read (and check) the weights before any folder is made
        model_weights_from(init_from)
    dataset = load_experiment_data(cfg)
    click.echo(format_report(data_report(dataset)))
    click.echo("")
    click.echo(f"experiment {cfg.name}: backbone {cfg.model.backbone}, "
               f"{len(cfg.resolved_stages())} stage(s)")
    exp_dir, results = run_experiment(cfg, dataset=dataset, out_root=out, log=click.echo,
                                      progress=progress, init_from=init_from)
    for stage, result in zip(cfg.resolved_stages(), results, strict=True):
        click.echo("")
        click.echo(f"## stage {stage.name} ({result.run_dir})")
        click.echo(format_result(result))
    click.echo(f"\nexperiment folder: {exp_dir}")
