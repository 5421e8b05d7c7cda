"""FER2013 in its Kaggle CSV form: ``emotion,pixels,Usage`` (plain or gzipped)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fer_core.classes import CLASSES, NUM_CLASSES
from fer_core.data._arrays import DatasetArrays
from fer_core.data._labels import FER2013_ROLES
from fer_core.data._textfile import csv_rows, open_text, read_header
from fer_core.errors import DataError

if TYPE_CHECKING:
    from fer_core.data._dataset import FerDataset

SIDE = 48
PIXELS = SIDE * SIDE
COLUMNS = ("emotion", "pixels", "Usage")
_NOT_PIXELS = re.compile(r"[^0-9 ]")


def _parse_pixels(text: str, where: str) -> np.ndarray:
    text = text.strip()
    bad = _NOT_PIXELS.search(text)
    if bad:
        raise DataError(
            f"{where}: pixels must be integers 0-255 separated by spaces; found {bad.group()!r} "
            f"at character {bad.start()}"
        )
    # int64: an over-long token saturates (never wraps into 0-255) and fails the range check.
    values = np.fromstring(text, dtype=np.int64, sep=" ") if text else np.empty(0, np.int64)
    if values.size != PIXELS:
        raise DataError(f"{where}: pixels has {values.size} values, expected {PIXELS} (48x48)")
    if values.max() > 255:
        raise DataError(f"{where}: pixel value {int(values.max())} is out of range 0-255")
    return values.astype(np.uint8)


def read_fer2013_csv(path: str | Path) -> FerDataset:
    """Read a FER2013 CSV (``.csv`` or ``.csv.gz``) into a :class:`FerDataset`.

    The tensors of :func:`read_fer2013_arrays` (which says what is checked).
    """
    return read_fer2013_arrays(path).to_dataset()


def read_fer2013_arrays(path: str | Path) -> DatasetArrays:
    """Read a FER2013 CSV (``.csv`` or ``.csv.gz``) into :class:`DatasetArrays` (numpy, no torch).

    Splits are the ``Usage`` values, with roles Training=train, PublicTest=select,
    PrivateTest=report. Every bad row raises :class:`DataError` naming the file and the
    0-based data row (and its line number in the file).
    """
    path = Path(path)
    images: list[np.ndarray] = []
    labels: list[int] = []
    usages: list[int] = []
    split_names = list(FER2013_ROLES)
    with open_text(path) as text:
        reader = csv_rows(text)
        cols = read_header(path, reader, COLUMNS)
        width = max(cols.values()) + 1
        for row in reader:
            i = len(labels)
            where = f"{path}: row {i} (line {reader.line_num})"
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) < width:
                raise DataError(f"{where}: has {len(row)} fields, expected {len(COLUMNS)}")
            emotion = row[cols["emotion"]].strip()
            try:
                label = int(emotion)
            except ValueError:
                raise DataError(f"{where}: emotion {emotion!r} is not an integer") from None
            if not 0 <= label < NUM_CLASSES:
                raise DataError(
                    f"{where}: emotion {label} is out of range 0-{NUM_CLASSES - 1} "
                    f"({', '.join(f'{k}={c}' for k, c in enumerate(CLASSES))})"
                )
            usage = row[cols["Usage"]].strip()
            if usage not in split_names:
                raise DataError(
                    f"{where}: Usage {usage!r} is not one of {', '.join(FER2013_ROLES)}"
                )
            images.append(_parse_pixels(row[cols["pixels"]], where))
            labels.append(label)
            usages.append(split_names.index(usage))
    if not labels:
        raise DataError(f"{path}: has a header but no data rows")
    return DatasetArrays(
        images=np.stack(images).reshape(-1, 1, SIDE, SIDE),
        labels=np.array(labels, dtype=np.int64),
        split_ids=np.array(usages, dtype=np.int8),
        split_names=tuple(split_names),
        roles={role: name for name, role in FER2013_ROLES.items()},
        source=str(path),
    )
