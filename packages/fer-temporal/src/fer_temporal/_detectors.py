"""Face detectors: RetinaFace (the default, :mod:`fer_temporal._retinaface`), OpenCV's Haar
cascade (offline, from opencv-python-headless) and full-frame.

A detector is any callable ``detector(frame) -> list of (x0, y0, x1, y1, score)`` for an RGB
uint8 frame ``[H, W, 3]``, boxes in pixels; a box may be a :class:`~fer_temporal.Detection`,
which is such a tuple with 5 landmarks besides. Detectors are registered by name through the
``register_face_detectors`` hook of the ``fer`` entry-point group (this package registers the
three here in :mod:`fer_temporal.plugin`); a third-party detector plugs in the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fer_core.errors import ConfigError
from fer_temporal._retinaface import retinaface

Box = tuple[float, float, float, float, float]


def full_frame(**options: Any) -> FullFrameDetector:
    """The whole frame is the face: for inputs that are already face crops."""
    if options:
        raise ConfigError(f"face detector 'full_frame' takes no options, got {sorted(options)}")
    return FullFrameDetector()


class FullFrameDetector:
    name = "full_frame"

    def __call__(self, frame: np.ndarray) -> list[Box]:
        h, w = frame.shape[:2]
        return [(0.0, 0.0, float(w), float(h), 1.0)]


@dataclass
class HaarDetector:
    """OpenCV's frontal-face Haar cascade (``cv2.CascadeClassifier.detectMultiScale3``).

    ``min_size`` is the smallest face side as a fraction of the frame's shorter side. The score
    is the cascade's level weight ``w`` (about 0 to 15) squashed to [0, 1) as ``1 - exp(-w / 5)``:
    an ordering, not a calibrated probability.
    """

    cascade: str = "haarcascade_frontalface_default.xml"
    # 1.2 and 0.1 run twice as fast as 1.1 and 0.05 and find the same faces in the test media
    # (BENCHMARKS.md, benchmarks/analyze_speed.py); small faces in a large frame need min_size=0.05
    scale_factor: float = 1.2
    min_neighbors: int = 8  # 5 (OpenCV's usual) finds a face in no_face.mp4's title card
    min_size: float = 0.1
    name: str = "haar"

    def __post_init__(self) -> None:
        try:
            import cv2
        except ImportError:
            raise ConfigError("face detector 'haar' needs OpenCV, a dependency of fer-temporal that is "
                              "missing here: pip install 'opencv-python-headless>=4.8,<5' "
                              "(the 5.x wheels ship no cascades)") from None
        path = cv2.data.haarcascades + self.cascade  # type: ignore[attr-defined]  # (not in cv2's stubs)
        from fer_core.threads import set_cv2_threads

        self._cv2 = cv2
        set_cv2_threads(cv2)  # the one inference setting (fer_core.threads)
        self._model = cv2.CascadeClassifier(path)
        if self._model.empty():
            raise ConfigError(f"face detector 'haar': cannot load the cascade {path!r}")
        if self.scale_factor <= 1.0 or self.min_neighbors < 0 or not 0 < self.min_size < 1:
            raise ConfigError("face detector 'haar': need scale_factor > 1, min_neighbors >= 0, "
                              f"0 < min_size < 1; got {self.scale_factor}, {self.min_neighbors}, "
                              f"{self.min_size}")

    def __call__(self, frame: np.ndarray) -> list[Box]:
        gray = self._cv2.cvtColor(frame, self._cv2.COLOR_RGB2GRAY)
        gray = self._cv2.equalizeHist(gray)
        side = max(8, int(self.min_size * min(gray.shape)))
        boxes, _levels, weights = self._model.detectMultiScale3(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(side, side),
            outputRejectLevels=True)
        out = []
        for (x, y, w, h), weight in zip(np.asarray(boxes).reshape(-1, 4), np.asarray(weights).reshape(-1),
                                        strict=True):
            score = float(1.0 - np.exp(-max(float(weight), 0.0) / 5.0))
            out.append((float(x), float(y), float(x + w), float(y + h), score))
        return sorted(out, key=lambda b: (b[0], b[1]))


def haar(**options: Any) -> HaarDetector:
    """OpenCV Haar cascade, offline (options: cascade, scale_factor, min_neighbors, min_size)."""
    try:
        return HaarDetector(**options)
    except TypeError as exc:
        raise ConfigError(f"face detector 'haar': {exc}") from None


DETECTORS: dict[str, Callable[..., Any]] = {"retinaface": retinaface, "haar": haar, "full_frame": full_frame}
DEFAULT_DETECTOR = "retinaface"
