"""Face detection on a downscaled copy of a large frame; boxes mapped back to the full frame.

A 8000x8000 photo holds 192 MB of RGB pixels; a detector run on it in full makes gray copies,
histograms and an image pyramid of that size, and finds no face a 2048-pixel copy would not
(a face is at least a tenth of the frame's side for the Haar default). So every frame whose
longer side exceeds :data:`DETECT_MAX_SIDE` is shrunk (area interpolation) before detection,
and the boxes are scaled back: crops, annotations and rows stay in the frame's own pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: Frames larger than this (longer side, pixels) are detected on a copy of this size.
DETECT_MAX_SIDE = 2048


def shrink(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` resized to ``size = (width, height)`` (smaller), without a full-size copy."""
    try:
        import cv2

        return np.ascontiguousarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    except ImportError:
        from PIL import Image

        step = max(1, min(frame.shape[1] // size[0], frame.shape[0] // size[1]) // 2)
        coarse = Image.fromarray(np.ascontiguousarray(frame[::step, ::step]))
        return np.asarray(coarse.resize(size, Image.Resampling.BOX))


def _scaled(box: Sequence[float], sx: float, sy: float) -> tuple[float, ...]:
    """A box ``(x0, y0, x1, y1[, score[, x, y, x, y...]])`` from the small copy to the frame:
    coordinates scaled, the score kept, further values (landmarks) scaled as ``x, y`` pairs."""
    values = [float(v) for v in box]
    out = [values[0] * sx, values[1] * sy, values[2] * sx, values[3] * sy, *values[4:5]]
    out += [v * (sx if i % 2 == 0 else sy) for i, v in enumerate(values[5:])]
    return tuple(out)


class DownscaledDetector:
    """``detector`` on frames at most ``max_side`` pixels on their longer side; larger frames
    are shrunk first and the boxes scaled back. Smaller frames go to ``detector`` untouched."""

    def __init__(self, detector: Callable[[np.ndarray], list], max_side: int = DETECT_MAX_SIDE) -> None:
        if max_side < 16:
            raise ValueError(f"max_side must be >= 16, got {max_side}")
        self.detector, self.max_side = detector, max_side
        self.name = getattr(detector, "name", type(detector).__name__)
        # what FollowingDetector asks of the detector it follows with (RetinaFace: 3)
        self.follow_max_faces = getattr(detector, "follow_max_faces", None)

    def __call__(self, frame: np.ndarray) -> list[Any]:
        h, w = frame.shape[:2]
        if max(h, w) <= self.max_side:
            return list(self.detector(frame))
        k = self.max_side / max(h, w)
        size = (max(1, round(w * k)), max(1, round(h * k)))
        small = shrink(frame, size)
        sx, sy = w / size[0], h / size[1]
        return [_scaled(b, sx, sy) for b in self.detector(small)]


def for_large_frames(detector: Callable[[np.ndarray], list],
                     max_side: int | None = DETECT_MAX_SIDE) -> Callable[[np.ndarray], list]:
    """``detector`` wrapped in :class:`DownscaledDetector`, except the full-frame one (nothing to
    detect) and when ``max_side`` is None."""
    from fer_temporal._detectors import FullFrameDetector

    if max_side is None or isinstance(detector, (FullFrameDetector, DownscaledDetector)):
        return detector
    return DownscaledDetector(detector, max_side)
