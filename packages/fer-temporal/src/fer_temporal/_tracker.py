"""Stable track ids across frames: IoU association with a short memory.

Each processed frame's detections are matched to the live tracks by the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) on IoU with each track's last box; a pair matches
when its IoU is at least ``iou_threshold``. An unmatched detection starts a new track (ids
count up from 0, never reused); a track unseen for more than ``max_age`` processed frames is
dropped, so a face lost for a few frames (a blink of the detector, a hand in front) keeps its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fer_core.errors import ConfigError


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` ``[N, 4]`` with every box in ``b`` ``[M, 4]``."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _assign(iou: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximum-IoU one-to-one assignment (Hungarian). With one detection or one track the
    best pair is the answer, found without importing scipy (35 MB) for the common one-face case."""
    if iou.shape[0] == 1 or iou.shape[1] == 1:
        r, c = np.unravel_index(int(iou.argmax()), iou.shape)
        return np.array([r]), np.array([c])
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment(-iou)


@dataclass
class _Track:
    id: int
    box: np.ndarray
    last_seen: int


@dataclass
class IoUTracker:
    """Assigns a track id to each detection of each processed frame (see the module docstring)."""

    iou_threshold: float = 0.3
    max_age: int = 10
    _tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 0
    _step: int = -1

    def __post_init__(self) -> None:
        if not 0.0 < self.iou_threshold <= 1.0 or self.max_age < 0:
            raise ConfigError(f"tracker: need 0 < iou_threshold <= 1 and max_age >= 0, "
                              f"got {self.iou_threshold}, {self.max_age}")

    def update(self, boxes: Sequence[Sequence[float]]) -> list[int]:
        """Track ids for this frame's boxes ``(x0, y0, x1, y1, ...)``, in the boxes' order."""
        self._step += 1
        self._tracks = [t for t in self._tracks if self._step - t.last_seen <= self.max_age + 1]
        dets = np.asarray([b[:4] for b in boxes], dtype=np.float64).reshape(-1, 4)
        ids = [-1] * len(dets)
        if len(dets) and self._tracks:
            iou = iou_matrix(dets, np.stack([t.box for t in self._tracks]))
            rows, cols = _assign(iou)
            for r, c in zip(rows, cols, strict=True):
                if iou[r, c] >= self.iou_threshold:
                    track = self._tracks[c]
                    track.box, track.last_seen = dets[r], self._step
                    ids[r] = track.id
        for r, track_id in enumerate(ids):
            if track_id < 0:
                ids[r] = self._next_id
                self._tracks.append(_Track(self._next_id, dets[r], self._step))
                self._next_id += 1
        return ids

    @property
    def live_tracks(self) -> int:
        return len(self._tracks)
