"""``fercli export MODEL OUT.onnx``: a trained model as ONNX (float, or int8 with ``--int8``),
checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import click

from fer_cli._outputs import ensure_writable_file


@click.command()
@click.argument("model_ref", metavar="MODEL")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--check/--no-check", default=True, show_default=True,
              help="Run both on random faces with ONNX Runtime and report the largest difference.")
@click.option("--int8", "calibration", type=click.Path(path_type=Path), default=None, metavar="DATA",
              help="Quantize to int8, activation ranges calibrated on faces of DATA (a FER2013 CSV or "
                   "image folder; its training split if it has one).")
def export(model_ref: str, out: Path, check: bool, calibration: Path | None) -> None:
    """Export MODEL (shipped name, run folder, .safetensors or checkpoint) to OUT (.onnx, + .json).

    A bare name such as `default` is a shipped model even when a folder of that name is here;
    write `./default` for the folder.
    """
    import numpy as np

    from fer_core.errors import ConfigError
    from fer_models import load

    if out.suffix.lower() != ".onnx":
        raise ConfigError(f"{out}: the output name must end in .onnx")
    ensure_writable_file(out, "OUT")
    clf = load(model_ref, backend="torch")
    if not hasattr(clf, "export_onnx"):
        raise ConfigError(f"{model_ref}: an ensemble; export its members one by one")
    if calibration is None:
        clf.export_onnx(out)
    else:
        faces, source = _calibration_faces(calibration)
        clf.export_onnx(out, int8_calibration=faces, calibration_note={"calibration_source": source})
    click.echo(f"wrote {out} and {out.with_suffix('.json')}")
    if check:
        faces = np.random.default_rng(0).integers(0, 256, (16, clf.size, clf.size), dtype=np.uint8)
        onnx_clf = load(out)
        a, b = onnx_clf.predict_proba(faces), clf.predict_proba(faces)
        diff = float(np.abs(a - b).max())
        click.echo(f"ONNX Runtime vs PyTorch on 16 random faces: largest probability difference {diff:.2e}, "
                   f"same top class on {int((a.argmax(1) == b.argmax(1)).sum())} of 16")


def _calibration_faces(path: Path) -> tuple[object, str]:
    """uint8 faces [N, 1, H, W] of a dataset's training split (all of them if it has no splits)."""
    from fer_core.data import load_dataset
    from fer_models.inference import CALIBRATION_FACES

    ds = load_dataset(path)
    if ds.has_role("train"):
        split = ds.split("train")
        images, where = split.images, f"its {split.name} split"
    else:
        images, where = ds.images, "all of it"
    used = min(len(images), CALIBRATION_FACES)
    return images, f"{used:,} faces of {path.name} ({where}), drawn with seed 0"
