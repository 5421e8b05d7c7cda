"""``fercli data report PATH``: counts per split and class, imbalance, exact duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def data() -> None:
    """Inspect datasets."""


@data.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--resize", is_flag=True, help="Resize images of another size to 48x48 (folder form).")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable images with a warning (folder form).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-cache", is_flag=True, help="Decode again even if a cached copy exists.")
def report(path: Path, resize: bool, skip_bad: bool, as_json: bool, no_cache: bool) -> None:
    """Counts per split and class, imbalance ratio and duplicate images of a FER2013 CSV or folder."""
    from fer_core.data import data_report, format_report, load_arrays  # numpy only, no torch

    ds = load_arrays(path, resize=resize, skip_bad=skip_bad, cache=not no_cache)
    rep = data_report(ds)
    click.echo(json.dumps(rep.to_dict(), indent=2) if as_json else format_report(rep))
