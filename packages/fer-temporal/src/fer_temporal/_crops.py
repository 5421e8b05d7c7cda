"""Face crops for the classifier: squared around the box, padded where they leave the frame, gray;
or, with ``align=True`` and landmarks, aligned to FER2013's framing (:mod:`fer_temporal._align`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from fer_temporal._align import aligned_crop


def square_box(box: Sequence[float], margin: float = 0.1) -> tuple[int, int, int, int]:
    """The square of side ``max(w, h) * (1 + margin)`` centred on ``box``, in whole pixels."""
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    side = max(x1 - x0, y1 - y0) * (1.0 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = round(cx - side / 2), round(cy - side / 2)
    s = max(1, round(side))
    return left, top, left + s, top + s


def face_crops(frame: np.ndarray, boxes: Sequence[Sequence[float]], size: int = 48,
               margin: float = 0.1, align: bool = False) -> np.ndarray:
    """Gray uint8 crops ``[N, size, size]`` of ``boxes`` in the RGB ``frame``.

    Parts of the square outside the frame are black (PIL's crop pads them), so a face at the
    edge keeps its aspect and position in the crop. With ``align``, a box that carries 5
    ``landmarks`` (a :class:`~fer_temporal.Detection`) is cropped by :func:`aligned_crop`
    instead (``margin`` then plays no part); a box without them keeps the square crop.
    """
    out = np.empty((len(boxes), size, size), dtype=np.uint8)
    for i, box in enumerate(boxes):
        marks = getattr(box, "landmarks", None) if align else None
        crop = None if marks is None else _aligned(frame, box, marks, size)
        if crop is None:
            square = Image.fromarray(_padded_crop(frame, square_box(box, margin))).convert("L")
            crop = np.asarray(square.resize((size, size), Image.Resampling.BILINEAR))
        out[i] = crop
    return out


def _aligned(frame: np.ndarray, box: Sequence[float], marks: Sequence[Sequence[float]],
             size: int) -> np.ndarray | None:
    """The aligned crop, warped from the region of twice the box around it (converted to gray
    alone, never the whole frame); ``None`` when the landmarks can't be fitted."""
    x0, y0, x1, y1 = square_box(box, 1.0)
    region = _padded_crop(frame, (x0, y0, x1, y1))
    gray = np.asarray(Image.fromarray(region).convert("L"))
    return aligned_crop(gray, [(x - x0, y - y0) for x, y in marks], size)


def _padded_crop(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``frame[y0:y1, x0:x1]``, black where the box leaves the frame (what PIL's crop gives),
    copying only the crop, never the whole frame."""
    x0, y0, x1, y1 = box
    h, w = frame.shape[:2]
    out = np.zeros((y1 - y0, x1 - x0, *frame.shape[2:]), dtype=frame.dtype)
    ix0, iy0, ix1, iy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if ix0 < ix1 and iy0 < iy1:
        out[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = frame[iy0:iy1, ix0:ix1]
    return out
