"""A teacher's soft targets for the Training rows: what knowledge distillation trains a student on.

``fercli teacher MODEL --data fer2013.csv.gz --out teacher.npz`` writes the file (the teacher's
class probabilities for every Training row, its own TTA, an optional temperature);
``[data] teacher = "teacher.npz"`` with ``[train] soft_labels = true`` trains on

    target = teacher_weight * teacher probabilities + (1 - teacher_weight) * one-hot label

(Hinton et al.'s soft and hard targets in one cross-entropy). The targets are computed once on the
unaugmented faces (offline distillation), so the student's crops and flips see the teacher's
answer for the whole face. The file records the dataset's size and each row's label, so it cannot
be applied to another dataset by mistake.

>>> ds = load_dataset("fer2013.csv.gz", teacher="teacher.npz", teacher_weight=0.7)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_core.classes import CLASSES, NUM_CLASSES
from fer_core.errors import DataError
from fer_core.files import atomic_write

if TYPE_CHECKING:
    from fer_core.data._dataset import FerDataset

#: Version of the teacher file's layout.
TEACHER_FORMAT = 1


@dataclass(frozen=True)
class TeacherTargets:
    """Probabilities ``[n, 7]`` for dataset rows ``rows``, whose labels were ``labels``."""

    probs: np.ndarray
    rows: np.ndarray
    labels: np.ndarray
    dataset_rows: int
    model: str
    temperature: float
    source: str = ""

    def save(self, path: str | Path) -> Path:
        """Write the ``.npz`` atomically (a crash leaves the previous file, if any)."""
        path = Path(path)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, probs=self.probs.astype(np.float32), rows=self.rows.astype(np.int64),
                         labels=self.labels.astype(np.int64), dataset_rows=np.int64(self.dataset_rows),
                         classes=np.array(CLASSES), model=np.array(self.model),
                         temperature=np.float64(self.temperature), format=np.int64(TEACHER_FORMAT))

        atomic_write(path, write)
        return path


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / T)``: the teacher's distribution at temperature ``T`` (1 = unchanged)."""
    if temperature <= 0:
        raise DataError(f"teacher temperature must be positive, got {temperature}")
    logits = np.log(np.clip(probs.astype(np.float64), 1e-12, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def read_teacher(path: str | Path) -> TeacherTargets:
    """Read a teacher file written by :meth:`TeacherTargets.save` (``fercli teacher``), checked."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such teacher file (make one with `fercli teacher MODEL --out {path}`)")
    try:
        with np.load(path, allow_pickle=False) as z:
            fields: dict[str, Any] = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a teacher file ({type(exc).__name__}: {exc})") from None
    missing = [k for k in ("probs", "rows", "labels", "dataset_rows", "classes") if k not in fields]
    if missing:
        raise DataError(f"{path}: not a teacher file (missing {', '.join(missing)})")
    if int(fields.get("format", TEACHER_FORMAT)) > TEACHER_FORMAT:
        raise DataError(f"{path}: teacher file format {int(fields['format'])} is newer than this fer-core "
                        f"reads ({TEACHER_FORMAT}); upgrade fer-core")
    if tuple(str(c) for c in fields["classes"]) != CLASSES:
        raise DataError(f"{path}: classes {list(fields['classes'])} are not {list(CLASSES)}")
    probs, rows, labels = fields["probs"], fields["rows"], fields["labels"]
    n = len(probs)
    if probs.ndim != 2 or probs.shape[1] != NUM_CLASSES or len(rows) != n or len(labels) != n:
        raise DataError(f"{path}: probs must be [n, {NUM_CLASSES}] with one row and label per entry, got "
                        f"probs {probs.shape}, rows {rows.shape}, labels {labels.shape}")
    bad = ~np.isfinite(probs).all(axis=1) | (probs < 0).any(axis=1) | (np.abs(probs.sum(axis=1) - 1) > 1e-3)
    if bad.any():
        raise DataError(f"{path}: entry {int(np.flatnonzero(bad)[0])} (dataset row "
                        f"{int(rows[np.flatnonzero(bad)[0]])}) is not a probability distribution")
    return TeacherTargets(probs.astype(np.float32), rows.astype(np.int64), labels.astype(np.int64),
                          int(fields["dataset_rows"]), str(fields.get("model", "")),
                          float(fields.get("temperature", 1.0)), str(path))


def apply_teacher(dataset: FerDataset, teacher: TeacherTargets, weight: float) -> FerDataset:
    """``dataset`` with ``soft_labels``: ``weight`` x teacher + ``(1 - weight)`` x one-hot label.

    Every row of the ``train`` role needs a teacher entry; other rows get their one-hot label.
    ``dataset`` must be the one the teacher file was made from (same size, same labels).
    """
    import torch

    from fer_core.data._dataset import FerDataset

    if not 0.0 <= weight <= 1.0:
        raise DataError(f"teacher_weight must be between 0 and 1, got {weight}")
    if teacher.dataset_rows != len(dataset):
        raise DataError(f"{teacher.source}: made for a dataset of {teacher.dataset_rows:,} rows, but "
                        f"{dataset.source} has {len(dataset):,}")
    labels = dataset.labels.numpy()
    if (teacher.rows < 0).any() or (teacher.rows >= len(dataset)).any():
        raise DataError(f"{teacher.source}: row numbers outside 0..{len(dataset) - 1}")
    differ = np.flatnonzero(labels[teacher.rows] != teacher.labels)
    if len(differ):
        row = int(teacher.rows[differ[0]])
        where = dataset.locations[row] if dataset.locations else f"row {row}"
        said = CLASSES[teacher.labels[differ[0]]]
        raise DataError(f"{teacher.source}: {dataset.source} {where} is labelled {CLASSES[labels[row]]!r}, "
                        f"the teacher file says {said!r} ({len(differ):,} rows differ): the file was "
                        "made from other data")
    soft = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    covered = np.zeros(len(dataset), dtype=bool)
    covered[teacher.rows] = True
    train = dataset.split("train").indices.numpy()
    uncovered = train[~covered[train]]
    if len(uncovered):
        raise DataError(f"{teacher.source}: no teacher target for {len(uncovered):,} Training rows "
                        f"(first: row {int(uncovered[0])}); make the file from this dataset")
    soft[teacher.rows] = weight * teacher.probs + (1.0 - weight) * soft[teacher.rows]
    return FerDataset(dataset.images, dataset.labels, dataset.split_ids, dataset.split_names,
                      dict(dataset.roles), f"{dataset.source} + teacher {teacher.source} (weight {weight})",
                      dataset.locations, torch.from_numpy(soft), dataset.classes)


__all__ = ["TEACHER_FORMAT", "TeacherTargets", "apply_teacher", "read_teacher", "soften"]
