"""``fercli export MODEL OUT.onnx``: a trained model as ONNX, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("model_ref", metavar="MODEL")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--check/--no-check", default=True, show_default=True,
              help="Run both on random faces with ONNX Runtime and report the largest difference.")
def export(model_ref: str, out: Path, check: bool) -> None:
    """Export MODEL (shipped name, run folder, .safetensors or checkpoint) to OUT (.onnx, + .json)."""
    import numpy as np

    from fer_core.errors import ConfigError
    from fer_models import load

    if out.suffix.lower() != ".onnx":
        raise ConfigError(f"{out}: the output name must end in .onnx")
    clf = load(model_ref)
    if not hasattr(clf, "export_onnx"):
        raise ConfigError(f"{model_ref}: an ensemble; export its members one by one")
    clf.export_onnx(out)
    click.echo(f"wrote {out} and {out.with_suffix('.json')}")
    if check:
        faces = np.random.default_rng(0).integers(0, 256, (16, clf.size, clf.size), dtype=np.uint8)
        onnx_clf = load(out)
        diff = float(np.abs(onnx_clf.predict_proba(faces) - clf.predict_proba(faces)).max())
        click.echo(f"ONNX Runtime vs PyTorch on 16 random faces: largest probability difference {diff:.2e}")
