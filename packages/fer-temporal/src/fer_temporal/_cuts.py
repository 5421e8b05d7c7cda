"""Shot cuts: where a video jumps to another picture, so that track ids start afresh.

The score of a frame is PySceneDetect's content score: the mean absolute difference of hue,
saturation and value between this frame and the previous one (each 0-255), here on a 64x36
thumbnail, which costs about a tenth of a millisecond. A score of at least ``threshold`` (27,
ContentDetector's default) is a cut, unless the last cut was fewer than ``min_gap`` frames
ago (a cut often takes two frames: an in-between frame scores high twice). On the media of
``../shared/media`` the frames of one shot score at most 6 (an animated title card) and the
cuts 68 to 138 (``benchmarks/tracking.py``).

Written here rather than taken from PySceneDetect because the toolkit needs one number per
frame as it streams past, inside its own frame loop, and ten lines of OpenCV give it.

>>> import numpy as np
>>> cuts = ShotCuts()
>>> gray, red = np.full((36, 64, 3), 90, np.uint8), np.zeros((36, 64, 3), np.uint8)
>>> red[..., 0] = 200
>>> [cuts(f) for f in (gray, gray, red, red)]
[False, False, True, False]
"""

from __future__ import annotations

import numpy as np

from fer_core.errors import ConfigError

#: PySceneDetect's ContentDetector default
CUT_THRESHOLD = 27.0
THUMBNAIL = (64, 36)


class ShotCuts:
    """``cuts(frame) -> bool``: whether ``frame`` (RGB uint8) starts a new shot."""

    def __init__(self, threshold: float = CUT_THRESHOLD, min_gap: int = 5) -> None:
        if not 0.0 < threshold <= 255.0 or min_gap < 1:
            raise ConfigError(f"shot cuts: need 0 < threshold <= 255 and min_gap >= 1, "
                              f"got {threshold}, {min_gap}")
        self.threshold, self.min_gap = float(threshold), int(min_gap)
        self.last_score = 0.0
        self._previous: np.ndarray | None = None
        self._since_cut = min_gap

    def score(self, frame: np.ndarray) -> float:
        """The content score of ``frame`` against the frame before it (0 for the first)."""
        import cv2

        rgb = frame if frame.ndim == 3 else np.repeat(frame[..., None], 3, axis=2)
        small = cv2.resize(np.ascontiguousarray(rgb[..., :3]), THUMBNAIL, interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.int16)
        previous, self._previous = self._previous, hsv
        return 0.0 if previous is None else float(np.abs(hsv - previous).mean())

    def __call__(self, frame: np.ndarray) -> bool:
        self.last_score = self.score(frame)
        self._since_cut += 1
        if self.last_score >= self.threshold and self._since_cut >= self.min_gap:
            self._since_cut = 0
            return True
        return False
