"""Detect in full every N frames; in between, look only where the faces of the previous frame were.

Any detector works (``frame -> boxes``). Between full detections, each face of the previous
frame gets a search window: a square ``1 + 2 * context`` times its side around it, cut from the
frame and resized so the face is about ``face_px`` pixels, which is small and has few scales
left to search (a face smaller than that is enlarged, at most ``MAX_ZOOM`` times: a 20-px face
seen at its own size scores too low to be kept). A face not found in its window is gone until
the next full detection; when no face is left, every frame is detected in full. A face entering
the picture is found by the next full detection, at most ``every - 1`` frames late. Past
``max_faces`` faces (by default the detector's ``follow_max_faces``, else no limit) the windows
cost more than one full detection, and every frame is detected in full.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from fer_core.errors import ConfigError
from fer_temporal._boxes import Detection, as_detection
from fer_temporal._crops import square_box
from fer_temporal._tracker import iou_matrix

#: How much a small face's window may be enlarged (a 20-px face: 3.2x, to 64 px).
MAX_ZOOM = 4.0


class FollowingDetector:
    """``detector`` in full on every ``every``-th frame, and near the last faces in between."""

    def __init__(self, detector: Callable[[np.ndarray], list], every: int = 5, *, context: float = 1.0,
                 face_px: int = 64, max_faces: int | None = None) -> None:
        if every < 1 or context <= 0 or face_px < 8:
            raise ConfigError(f"redetect every must be >= 1 (got {every}), context > 0 (got {context}), "
                              f"face_px >= 8 (got {face_px})")
        self.detector, self.every, self.context, self.face_px = detector, every, context, face_px
        self.name = getattr(detector, "name", type(detector).__name__)
        limit = max_faces if max_faces is not None else getattr(detector, "follow_max_faces", None)
        self.max_faces = None if limit is None else int(limit)
        self._frame = 0
        self._last: list[Detection] = []

    def __call__(self, frame: np.ndarray) -> list[Detection]:
        crowded = self.max_faces is not None and len(self._last) > self.max_faces
        if self._frame % self.every == 0 or not self._last or crowded:
            boxes = [as_detection(b) for b in self.detector(frame)]
        else:
            boxes = _dedupe([b for last in self._last for b in self._near(frame, last)])
        self._frame += 1
        self._last = boxes
        return boxes

    def reset(self) -> None:
        """Detect the next frame in full and count the period from it (a new shot)."""
        self._frame, self._last = 0, []

    def _near(self, frame: np.ndarray, box: Detection) -> list[Detection]:
        h, w = frame.shape[:2]
        side = max(box[2] - box[0], box[3] - box[1])
        x0, y0, x1, y1 = square_box(box, 2 * self.context)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return []
        k = min(MAX_ZOOM, self.face_px / max(side, 1.0))
        window = Image.fromarray(frame[y0:y1, x0:x1])
        if k != 1.0:
            window = window.resize((max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k))),
                                   Image.Resampling.BILINEAR)
        sx, sy = (x1 - x0) / window.width, (y1 - y0) / window.height
        return [as_detection(b).mapped(x0, y0, sx, sy) for b in self.detector(np.asarray(window))]


def _dedupe(boxes: list[Detection], threshold: float = 0.5) -> list[Detection]:
    """One box of each group overlapping by IoU >= ``threshold`` (two windows can see one face)."""
    if len(boxes) < 2:
        return boxes
    xy = np.array([b[:4] for b in boxes], dtype=float)
    overlap = iou_matrix(xy, xy)
    kept: list[int] = []
    for i in range(len(boxes)):
        if all(overlap[i, j] < threshold for j in kept):
            kept.append(i)
    return sorted((boxes[i] for i in kept), key=lambda b: (b[0], b[1]))
