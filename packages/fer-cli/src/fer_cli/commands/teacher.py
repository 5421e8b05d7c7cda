"""``fercli teacher MODEL --data DATA --out FILE``: a teacher's soft targets, for distillation."""

from __future__ import annotations

from pathlib import Path

import click

from fer_cli._outputs import ensure_writable_file


@click.command()
@click.argument("model_ref", metavar="MODEL")
@click.option("--data", "data_path", type=click.Path(path_type=Path), required=True,
              help="FER2013 CSV or folder the student will train on.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The teacher file (.npz).")
@click.option("--temperature", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Soften the teacher: softmax(log p / T); 1 keeps its probabilities.")
@click.option("--tta", type=click.Choice(["none", "flip", "tencrop"]), default=None,
              help="Test-time augmentation of the teacher (default: its own; each member's for an ensemble).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
def teacher(model_ref: str, data_path: Path, out: Path, temperature: float, tta: str | None,
            batch_size: int) -> None:
    """Write MODEL's class probabilities for every Training row of DATA, for a student to learn.

    MODEL is anything `fercli predict --model` takes: a shipped name, a run folder, a model
    file, or an ensemble.json (`fercli ensemble`). Train on the file with `[data] teacher =
    "FILE"`, `[data] teacher_weight = W` and `[train] soft_labels = true`: the target is W x the
    teacher's probabilities + (1 - W) x the one-hot label. Only Training rows are scored, so
    the selection and report splits stay unseen.
    """

    from fer_core.data import TeacherTargets, load_dataset, soften
    from fer_models import load

    ensure_writable_file(out, "--out")
    clf = load(model_ref, tta=tta)
    dataset = load_dataset(data_path)
    train = dataset.split("train")
    probs = clf.predict_proba(train.images, batch_size=batch_size)
    targets = TeacherTargets(soften(probs, temperature), train.indices.numpy(), train.labels.numpy(),
                             len(dataset), str(model_ref), temperature)
    targets.save(out)
    agree = float((probs.argmax(1) == train.labels.numpy()).mean())
    click.echo(f"wrote {out}: {len(train):,} Training rows of {data_path}, teacher {model_ref} "
               f"(temperature {temperature:g}); the teacher agrees with the label on {agree:.2%} of them")
