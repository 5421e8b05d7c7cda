"""FER2013 in the Kaggle folder form: ``<root>/<split>/<emotion>/*.jpg|png``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from fer_core._images import IMAGE_EXTENSIONS, MAX_PIXELS, open_image
from fer_core.classes import class_index
from fer_core.data._arrays import DatasetArrays
from fer_core.errors import DataError

if TYPE_CHECKING:
    from fer_core.data._dataset import FerDataset

IMAGE_SUFFIXES = set(IMAGE_EXTENSIONS)  # a GIF face is its first frame
__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "load_image", "read_image_folder"]  # MAX_PIXELS: fer_core._images

# split folder name (lower case) -> role
_SPLIT_ROLES = {
    "train": "train", "training": "train",
    "val": "select", "valid": "select", "validation": "select", "publictest": "select",
    "test": "report", "privatetest": "report",
}
# Kaggle's test/ folder mixes both test splits; its file names say which.
_PREFIX_SPLITS = {"publictest_": ("PublicTest", "select"), "privatetest_": ("PrivateTest", "report")}


def load_image(path: Path, size: int = 48, *, resize: bool = False) -> np.ndarray:
    """Decode one image file to a uint8 gray ``[size, size]`` array, or raise DataError.

    Read by :func:`fer_core.open_image`: upright (EXIF orientation applied), any mode (alpha on
    white, 16-bit scaled), an animation's first frame.
    """
    gray = open_image(path, "L")
    try:
        if gray.size != (size, size):
            if not resize:
                w, h = gray.size
                raise DataError(f"{path}: image is {w}x{h}, expected {size}x{size} "
                                "(pass resize=True to resize)")
            gray = gray.resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(gray, dtype=np.uint8)
    finally:
        gray.close()


def _visible_dir(path: Path) -> bool:
    """Folders such as ``.ipynb_checkpoints`` or ``__MACOSX`` are not splits or classes."""
    return path.is_dir() and not path.name.startswith((".", "__"))


def _split_of(split_dir: str, file_name: str) -> tuple[str, str | None]:
    lower = file_name.lower()
    if split_dir.lower() == "test":
        for prefix, (name, role) in _PREFIX_SPLITS.items():
            if lower.startswith(prefix):
                return name, role
    return split_dir, _SPLIT_ROLES.get(split_dir.lower())


def read_image_folder(
    root: str | Path, *, size: int = 48, resize: bool = False, skip_bad: bool = False
) -> FerDataset:
    """Read ``root/<split>/<emotion>/<image>`` into a :class:`FerDataset`.

    The tensors of :func:`read_image_folder_arrays` (which says how folders map to splits).
    """
    return read_image_folder_arrays(root, size=size, resize=resize, skip_bad=skip_bad).to_dataset()


def read_image_folder_arrays(
    root: str | Path, *, size: int = 48, resize: bool = False, skip_bad: bool = False
) -> DatasetArrays:
    """Read ``root/<split>/<emotion>/<image>`` into :class:`DatasetArrays` (numpy, no torch).

    Split folders ``train``/``val``/``test`` (also ``training``, ``validation``,
    ``publictest``, ``privatetest``) get the roles train/select/report; in a Kaggle ``test``
    folder the ``PublicTest_``/``PrivateTest_`` file-name prefixes split it into select and
    report. Emotion folder names map to the canonical order by name (``happy``, ``Happiness``).
    With ``skip_bad``, unreadable or wrong-size images are skipped with one warning that lists
    them; otherwise the first one raises :class:`DataError` naming its path.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    images: list[np.ndarray] = []
    labels: list[int] = []
    split_ids: list[int] = []
    locations: list[str] = []
    split_names: list[str] = []
    roles: dict[str, str] = {}
    skipped: list[str] = []
    for split_dir in sorted(p for p in root.iterdir() if _visible_dir(p)):
        for class_dir in sorted(p for p in split_dir.iterdir() if _visible_dir(p)):
            try:
                label = class_index(class_dir.name)
            except KeyError as exc:
                raise DataError(f"{class_dir}: folder name is not an emotion: {exc.args[0]}") from None
            for file in sorted(class_dir.iterdir()):
                if file.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:
                    pixels = load_image(file, size, resize=resize)
                except DataError as exc:
                    if not skip_bad:
                        raise
                    skipped.append(str(exc))
                    continue
                name, role = _split_of(split_dir.name, file.name)
                if name not in split_names:
                    split_names.append(name)
                if role is not None:
                    roles.setdefault(role, name)
                images.append(pixels)
                labels.append(label)
                split_ids.append(split_names.index(name))
                locations.append(str(file))
    if skipped:
        warnings.warn(
            f"{root}: skipped {len(skipped)} unreadable image(s):\n  " + "\n  ".join(skipped),
            stacklevel=2,
        )
    if not labels:
        raise DataError(f"{root}: no images found under <split>/<emotion>/ folders")
    return DatasetArrays(
        images=np.stack(images)[:, None],
        labels=np.array(labels, dtype=np.int64),
        split_ids=np.array(split_ids, dtype=np.int8),
        split_names=tuple(split_names),
        roles=roles,
        source=str(root),
        locations=locations,
    )
