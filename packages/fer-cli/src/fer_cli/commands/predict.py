"""``fercli predict IMAGES...``: emotion probabilities of face images, as a table, CSV or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fer_cli._options import inference_options
from fer_cli._outputs import ensure_writable_file


def image_files(refs: tuple[Path, ...]) -> list[Path]:
    """Files as given, and the image files inside folders (sorted), in order.

    Both take the extensions of :data:`fer_core.IMAGE_EXTENSIONS`, as ``fercli analyze`` does; a
    GIF is one face, its first frame.
    """
    from fer_core import IMAGE_EXTENSIONS
    from fer_core.errors import DataError

    suffixes = ", ".join(IMAGE_EXTENSIONS)
    files: list[Path] = []
    for ref in refs:
        if ref.is_dir():
            inside = sorted(p for p in ref.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
            if not inside:
                raise DataError(f"{ref}: no image files ({suffixes}) in this folder")
            files += inside
        elif ref.is_file():
            if ref.suffix.lower() not in IMAGE_EXTENSIONS:
                raise DataError(f"{ref}: not an image file ({suffixes}); for a video use fercli analyze")
            files.append(ref)
        else:
            raise DataError(f"{ref}: no such file or folder")
    return files


@click.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", "model_ref", default="default", show_default=True,
              help="A shipped model's name, a run folder, model.safetensors, .onnx or ensemble.json. "
                   "A bare name is a shipped model even if a folder of that name is here: write "
                   "./NAME for the folder.")
@click.option("--tta", type=click.Choice(["none", "flip", "tencrop"]), default=None,
              help="Test-time augmentation (default: what the model was selected with).")
@inference_options
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the table to this .csv or .json instead of printing it.")
def predict(images: tuple[Path, ...], model_ref: str, tta: str | None, backend: str,
            threads: int | None, out: Path | None) -> None:
    """Classify face IMAGES (files or folders of face crops, any size, gray or color).

    Each image is taken as one face: crop faces first, or use `fercli analyze` for photos and videos.
    Images are .bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff or .webp, as for `fercli analyze` (which
    reads a GIF alone as a video; here it is its first frame). Each is read upright, as viewers
    show it (EXIF orientation), in any mode (gray, palette, CMYK, alpha, 16-bit).
    """
    import numpy as np

    from fer_core.data import load_image
    from fer_core.errors import ConfigError, NonFiniteOutputError
    from fer_core.threads import apply_threads
    from fer_models import load

    if out is not None:
        if out.suffix.lower() not in (".csv", ".json"):
            raise ConfigError(f"--out {out}: expected a .csv or .json file name")
        ensure_writable_file(out, "--out")
    files = image_files(images)
    clf = load(model_ref, backend=backend, tta=tta, threads=apply_threads(threads))
    faces = np.stack([load_image(f, clf.size, resize=True) for f in files])
    try:
        probs = clf.predict_proba(faces)
    except NonFiniteOutputError as exc:  # name the file, not the row
        bad = [files[i] for i in exc.rows if i < len(files)]
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        where = f"{bad[0]}{more}" if bad else ", ".join(map(str, files))
        raise NonFiniteOutputError(f"model {model_ref} gave NaN or infinite probabilities, not a label "
                                   f"({where})", exc.rows) from None
    classes = list(clf.classes)
    rows = [{"file": str(f), "label": classes[int(p.argmax())], "probability": float(p.max()),
             **dict(zip(classes, map(float, p), strict=True))} for f, p in zip(files, probs, strict=True)]
    if out is None:
        click.echo("| file | label | p | " + " | ".join(classes) + " |")
        click.echo("|---|---|---|" + "---|" * len(classes))
        for r in rows:
            click.echo(f"| {r['file']} | {r['label']} | {r['probability']:.3f} | "
                       + " | ".join(f"{r[c]:.3f}" for c in classes) + " |")
        return
    from fer_core.files import atomic_write_text

    if out.suffix.lower() == ".json":
        text = json.dumps({"model": model_ref, "classes": classes, "rows": rows}, indent=2) + "\n"
    elif out.suffix.lower() == ".csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["file", "label", "probability", *classes])
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    else:
        raise ConfigError(f"--out {out}: expected a .csv or .json file name")
    atomic_write_text(out, text)
    click.echo(f"{len(rows)} face(s) -> {out}")
