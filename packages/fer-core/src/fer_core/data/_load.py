"""One entry point for every data source: :func:`load_dataset` (and :func:`load_arrays`, no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fer_core.classes import FERPLUS_CLASSES
from fer_core.data._arrays import DatasetArrays
from fer_core.data._cache import cached
from fer_core.data._fer2013_csv import read_fer2013_arrays
from fer_core.data._folder import read_image_folder_arrays
from fer_core.data._labels import LABEL_SOURCES, label_classes
from fer_core.errors import DataError

if TYPE_CHECKING:
    from fer_core.data._dataset import FerDataset


def load_arrays(path: str | Path, *, resize: bool = False, skip_bad: bool = False,
                cache: bool = True) -> DatasetArrays:
    """A FER2013 CSV file or image folder decoded once (and cached) into numpy arrays, no torch.

    What :func:`load_dataset` starts from, with the dataset's own labels; ``fercli data report``
    uses it directly.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        options = {"form": "folder", "resize": resize, "skip_bad": skip_bad}
        return cached(path, options, lambda: read_image_folder_arrays(path, resize=resize, skip_bad=skip_bad),
                      enabled=cache and not skip_bad)
    return cached(path, {"form": "csv"}, lambda: read_fer2013_arrays(path), enabled=cache)


def load_dataset(
    path: str | Path,
    *,
    ferplus: str | Path | None = None,
    labels: str = "fer2013",
    subset_per_class: int | None = None,
    seed: int = 0,
    resize: bool = False,
    skip_bad: bool = False,
    cache: bool = True,
    teacher: str | Path | None = None,
    teacher_weight: float = 0.5,
) -> FerDataset:
    """Load FER2013 from a CSV file or an image folder, decoded once and cached.

    ``labels`` picks the label source: the dataset's own (``fer2013``) or FER+ votes from
    ``ferplus`` (``ferplus-majority`` / ``ferplus-distribution``; CSV form only), on the 7 classes
    or, with ``ferplus8-``, on FER+'s 8 (contempt kept, :data:`~fer_core.classes.FERPLUS_CLASSES`).
    ``subset_per_class`` keeps a seeded subset of at most that many training images per class.
    ``teacher`` (a file from ``fercli teacher``) sets ``soft_labels`` for distillation:
    ``teacher_weight`` x the teacher's probabilities + the rest on the one-hot label
    (FER2013's own labels only).

    >>> ds = load_dataset("../shared/data/fer2013/fer2013.csv.gz")  # doctest: +SKIP
    >>> len(ds.split("train")), len(ds.split("select")), len(ds.split("report"))  # doctest: +SKIP
    (28709, 3589, 3589)
    """
    from fer_core.data._ferplus import apply_ferplus, read_ferplus_votes

    path = Path(path)
    if labels not in LABEL_SOURCES:
        raise DataError(f"labels must be one of {', '.join(LABEL_SOURCES)}, not {labels!r}")
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if labels != "fer2013" and ferplus is None:
        raise DataError(f"labels = {labels!r} needs the FER+ vote file (ferplus = PATH)")
    if labels != "fer2013" and path.is_dir():
        raise DataError(f"{path}: FER+ labels line up with the CSV form only, not a folder")
    if teacher is not None and labels != "fer2013":
        raise DataError(f"a teacher file mixes the teacher with FER2013's own labels; labels = {labels!r} "
                        "with a teacher is not supported")
    ds = load_arrays(path, resize=resize, skip_bad=skip_bad, cache=cache).to_dataset()
    if teacher is not None:
        from fer_core.data._teacher import apply_teacher, read_teacher

        ds = apply_teacher(ds, read_teacher(teacher), teacher_weight)
    if labels != "fer2013" and ferplus is not None:  # (None raised above)
        ds = apply_ferplus(ds, read_ferplus_votes(ferplus), labels.split("-", 1)[1],
                           contempt=label_classes(labels) == FERPLUS_CLASSES)
    if subset_per_class is not None:
        ds = ds.subset(subset_per_class, seed=seed)
    return ds
