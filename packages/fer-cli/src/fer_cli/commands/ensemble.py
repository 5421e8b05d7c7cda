"""``fercli ensemble MEMBERS... --out DIR``: weights searched on PublicTest, reported on PrivateTest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from fer_cli._outputs import ensure_writable_dir

if TYPE_CHECKING:
    from fer_models.inference import Classifier


@click.command()
@click.argument("members", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for ensemble.json, ensemble-rrf.json, report.md and report.json.")
@click.option("--data", "data_path", type=click.Path(path_type=Path),
              help="FER2013 CSV or folder (default: the data of the first member's run).")
@click.option("--step", default=0.1, show_default=True, type=float,
              help="Grid step of the weight search (weights are multiples of it, summing to 1).")
@click.option("--rrf-k", default=60.0, show_default=True, type=float, help="Reciprocal rank fusion constant.")
@click.option("--tta", type=click.Choice(["none", "flip", "tencrop"]), default=None,
              help="Test-time augmentation of every member (default: each member's own).")
def ensemble(members: tuple[Path, ...], out: Path, data_path: Path | None, step: float, rrf_k: float,
             tta: str | None) -> None:
    """Ensemble MEMBERS (run folders or model files): weighted average and reciprocal rank fusion.

    Weights are chosen by grid search on PublicTest accuracy, each member with its own TTA;
    every figure is then measured on PrivateTest and Public+Private. The cost per face is the
    sum of the members'. ensemble.json (weighted) and ensemble-rrf.json load with
    `fercli predict --model` and fer_models.load.
    """
    from fer_core.data import load_dataset
    from fer_core.errors import FerError
    from fer_core.training import PROTOCOL, atomic_write_text, run_config
    from fer_models import load
    from fer_models.ensemble import Ensemble, compare_ensembles

    if len(members) < 2:
        raise FerError("an ensemble needs at least two members")
    ensure_writable_dir(out)
    classifiers = []
    for member in members:
        clf = load(member, backend="torch", tta=tta)  # members are weighed on the PyTorch path
        if isinstance(clf, Ensemble):
            raise FerError(f"{member}: an ensemble cannot be a member of another ensemble")
        classifiers.append(cast("Classifier", clf))  # backend="torch": never the ONNX runtime
    if data_path is None:
        cfg = run_config(members[0]) if members[0].is_dir() else None
        if cfg is None:
            raise FerError(f"{members[0]}: no run config to take the data from; pass --data PATH")
        data_path = Path(cfg["data"]["path"])
    result = compare_ensembles(classifiers, [str(m) for m in members], load_dataset(data_path),
                               step=step, k=rrf_k)
    out.mkdir(parents=True, exist_ok=True)
    refs = [str(m) for m in members]
    for method, name in (("weighted", "ensemble.json"), ("rrf", "ensemble-rrf.json")):
        Ensemble(classifiers, result.weights[method], method, rrf_k, refs=refs).save(out / name)
    text = result.markdown()
    atomic_write_text(out / "report.md", text)
    atomic_write_text(out / "report.json", json.dumps(
        {"protocol": PROTOCOL, "step": step, "rrf_k": rrf_k, "rows": result.rows,
         "report_metrics": result.report_metrics}, indent=2) + "\n")
    click.echo(text)
    click.echo(f"wrote ensemble.json (weighted), ensemble-rrf.json, report.md, report.json in {out}")
