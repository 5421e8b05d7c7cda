"""``fercli run CONFIG.toml``: run an experiment described by a TOML config."""

from __future__ import annotations

from pathlib import Path

import click

from fer_core.config import ExperimentConfig
from fer_core.data import data_report, format_report, load_dataset


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--max-steps", type=click.IntRange(min=1), help="Override [train] max_steps.")
@click.option("--epochs", type=click.IntRange(min=1), help="Override [train] epochs.")
@click.option("--subset-per-class", type=click.IntRange(min=1),
              help="Override [data] subset_per_class (a seeded subset of the training split).")
def run(config_path: Path, max_steps: int | None, epochs: int | None,
        subset_per_class: int | None) -> None:
    """Load the data, print its report, train and evaluate as CONFIG says."""
    from fer_core.training import Trainer, format_result  # torch-heavy: import on use

    cfg = ExperimentConfig.from_toml(config_path)
    if max_steps is not None:
        cfg.train.max_steps = max_steps
    if epochs is not None:
        cfg.train.epochs = epochs
    if subset_per_class is not None:
        cfg.data.subset_per_class = subset_per_class
    d = cfg.data
    dataset = load_dataset(d.path, ferplus=d.ferplus, labels=d.labels,
                           subset_per_class=d.subset_per_class, seed=cfg.seed,
                           resize=d.resize, skip_bad=d.skip_bad, cache=d.cache)
    click.echo(format_report(data_report(dataset)))
    click.echo("")
    trainer = Trainer(cfg, dataset=dataset, log=click.echo)
    click.echo(f"training {cfg.model.backbone} on {trainer.device} "
               f"(strategy {cfg.train.strategy}, loss {cfg.train.loss})")
    result = trainer.fit()
    click.echo("")
    click.echo(format_result(result))
