"""Annotated pictures: face boxes, track ids, labels and probabilities drawn on frames.

:func:`draw_rows` is the one drawing, shared by the annotated video (:mod:`fer_temporal._video`)
and the annotated images written here:

* a single image source (``photo.jpg``) gives ``<name>.annotated.jpg``, the size of the photo
  (upright, as the analysis saw it);
* a folder or glob of frames gives a folder ``<name>.annotated/`` with one
  ``<frame file stem>.jpg`` per analyzed frame, each the size of its frame.

Both are written like every output: under a temporary name (``.partial``) and renamed into
place only when the whole analysis succeeded; a failure leaves no annotated file behind.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from fer_core.errors import DataError
from fer_core.files import atomic_write
from fer_temporal._plots import COLORS
from fer_temporal._sources import Frame

#: JPEG quality of annotated images.
JPEG_QUALITY = 90


@lru_cache(maxsize=16)
def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)  # scalable when PIL has FreeType
    except (TypeError, OSError, ImportError):  # an old PIL or no FreeType: the fixed bitmap font
        return ImageFont.load_default()


def draw_rows(image: Image.Image, rows: list[dict[str, Any]], classes: tuple[str, ...]) -> Image.Image:
    """Draw on ``image`` (in place; also returned) a box per detected face in ``rows``, in its
    label's color, with ``#<track id> <label> <probability>`` above it. Line width and text
    size grow with the image (readable on a 4K frame or a 8000-pixel photo)."""
    draw = ImageDraw.Draw(image)
    side = max(image.size)
    width = max(2, side // 300)
    font = _font(max(11, side // 70))
    for row in rows:
        if not row.get("face_detected"):
            continue
        label = row["label"]
        color = COLORS[classes.index(label) % len(COLORS)] if label in classes else "white"
        box = (row["x0"], row["y0"], row["x1"], row["y1"])
        draw.rectangle(box, outline=color, width=width)
        text = f"#{row['track_id']} {label} {row['label_prob']:.2f}"
        _left, top, _right, bottom = draw.textbbox((0, 0), text, font=font)
        y = row["y0"] - (bottom - top) - 2 * width
        y = y if y >= 0 else row["y1"] + width  # no room above: below the box
        draw.text((row["x0"] + width, y), text, fill=color, font=font)
    return image


def _save_jpeg(image: Image.Image, path: Path) -> None:
    image.save(path, format="JPEG", quality=JPEG_QUALITY)


class AnnotatedImageWriter:
    """The annotated copy of a single image: call it with ``(frame, rows)`` (the Analyzer's
    ``on_frame``): written at once to ``<stem>.partial.jpg``, which :meth:`finish` returns (to be
    renamed to ``path`` with the other outputs)."""

    def __init__(self, path: str | Path, classes: tuple[str, ...]) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.stem + ".partial" + self.path.suffix)
        self.classes = classes
        self.frames = 0

    def __call__(self, frame: Frame, rows: list[dict[str, Any]]) -> None:
        image = draw_rows(Image.fromarray(frame.image), rows, self.classes)
        try:
            atomic_write(self.partial, lambda tmp: _save_jpeg(image, tmp), suffix=".jpg")
        except OSError as exc:
            raise DataError(f"{frame.source}: cannot write the annotated image {self.partial}: "
                            f"{exc.strerror or exc}") from None
        self.frames += 1

    def finish(self) -> Path | None:
        return self.partial if self.frames else None

    def abort(self, keep: bool = False) -> Path | None:
        self.partial.unlink(missing_ok=True)
        return None


class AnnotatedFramesWriter:
    """One annotated JPEG per analyzed frame of a folder or glob, in the folder ``path``
    (``<frame file stem>.jpg``; ``-<frame index>`` added when two frames share a stem).
    Frames are written to ``<path>.partial/`` as they come; :meth:`finish` returns that folder."""

    def __init__(self, path: str | Path, classes: tuple[str, ...],
                 stem: Callable[[str], str] = lambda name: Path(name).stem) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.stem = stem  # a frame file's name -> its annotated file's stem
        self.classes = classes
        self.frames = 0
        self._names: set[str] = set()
        self._started = False

    def __call__(self, frame: Frame, rows: list[dict[str, Any]]) -> None:
        if not self._started:
            shutil.rmtree(self.partial, ignore_errors=True)  # a stale one from a killed run
            self.partial.mkdir(parents=True)
            self._started = True
        name = self.stem(Path(frame.source).name)
        if name in self._names:
            name = f"{name}-{frame.index}"
        self._names.add(name)
        image = draw_rows(Image.fromarray(frame.image), rows, self.classes)
        target = self.partial / f"{name}.jpg"
        try:
            atomic_write(target, lambda tmp: _save_jpeg(image, tmp), suffix=".jpg")
        except OSError as exc:
            raise DataError(f"{frame.source} frame {frame.index}: cannot write the annotated image "
                            f"{target}: {exc.strerror or exc}") from None
        self.frames += 1

    def finish(self) -> Path | None:
        return self.partial if self._started else None

    def abort(self, keep: bool = False) -> Path | None:
        if keep and self._started:
            return self.partial
        shutil.rmtree(self.partial, ignore_errors=True)
        return None


def replace_folder(tmp: Path, path: Path) -> Path:
    """Rename the finished folder ``tmp`` to ``path``, replacing an older one of that name."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    tmp.rename(path)
    return path
