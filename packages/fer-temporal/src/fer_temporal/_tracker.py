"""Stable track ids across frames: IoU association, then re-finding faces that were missed.

Each processed frame's detections are matched in two passes, each a one-to-one assignment by
the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``):

1. to the tracks seen in the last ``max_age`` processed frames, on IoU with each track's last
   box; a pair matches when its IoU is at least ``iou_threshold``;
2. what is left, to the tracks missed for longer (up to ``lost_age`` frames) or that moved too
   far for IoU, on the distance between box centres in units of the track's face size: a pair
   matches when the centres are at most ``reid_distance`` face sizes apart and the sizes
   differ by less than 2x. A face the detector missed for a few seconds, or that came back
   after a hand passed in front, keeps its id.

An unmatched detection starts a new track (ids count up from 0 and are never reused).
:meth:`IoUTracker.reset` forgets every track: after a shot cut (:mod:`fer_temporal._cuts`)
the faces get new ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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


def _centre_similarity(a: np.ndarray, b: np.ndarray, max_distance: float) -> np.ndarray:
    """``1 - d / max_distance`` for every pair, ``d`` the distance of the box centres in units of
    ``b``'s size (the mean of its sides); 0 where the sizes differ by 2x or more or ``d`` exceeds
    ``max_distance``."""
    centre_a, centre_b = (a[:, :2] + a[:, 2:4]) / 2, (b[:, :2] + b[:, 2:4]) / 2
    size_a = (a[:, 2] - a[:, 0] + a[:, 3] - a[:, 1]) / 2
    size_b = np.maximum((b[:, 2] - b[:, 0] + b[:, 3] - b[:, 1]) / 2, 1e-6)
    d = np.linalg.norm(centre_a[:, None] - centre_b[None], axis=2) / size_b[None]
    ratio = size_a[:, None] / size_b[None]
    return np.where((ratio > 0.5) & (ratio < 2.0), np.clip(1 - d / max_distance, 0, None), 0.0)


def _assign(iou: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximum-total one-to-one assignment (Hungarian), for a similarity matrix >= 0.

    Two common cases need no solver, so scipy (its import alone costs 0.7 s and 35 MB) is
    imported only for faces that crowd each other: one detection or one track (the best pair
    is the answer), and faces that do not overlap, where each row and each column has at most
    one non-zero entry (those pairs are already a matching, and the largest one possible)."""
    if iou.shape[0] == 1 or iou.shape[1] == 1:
        r, c = np.unravel_index(int(iou.argmax()), iou.shape)
        return np.array([r]), np.array([c])
    touching = iou > 0
    if touching.sum(axis=0).max(initial=0) <= 1 and touching.sum(axis=1).max(initial=0) <= 1:
        rows, cols = np.nonzero(touching)
        return rows, cols
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
    lost_age: int = 300
    reid_distance: float = 1.0
    _tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 0
    _step: int = -1

    def __post_init__(self) -> None:
        if (not 0.0 < self.iou_threshold <= 1.0 or self.max_age < 0 or self.lost_age < self.max_age
                or self.reid_distance < 0):
            raise ConfigError(f"tracker: need 0 < iou_threshold <= 1, 0 <= max_age <= lost_age and "
                              f"reid_distance >= 0 (0: no second pass), got {self.iou_threshold}, "
                              f"{self.max_age}, {self.lost_age}, {self.reid_distance}")

    def update(self, boxes: Sequence[Sequence[float]]) -> list[int]:
        """Track ids for this frame's boxes ``(x0, y0, x1, y1, ...)``, in the boxes' order."""
        self._step += 1
        self._tracks = [t for t in self._tracks if self._step - t.last_seen <= self.lost_age + 1]
        dets = np.asarray([b[:4] for b in boxes], dtype=np.float64).reshape(-1, 4)
        ids = [-1] * len(dets)
        recent = [t for t in self._tracks if self._step - t.last_seen <= self.max_age + 1]
        self._match(dets, ids, recent, iou_matrix, lambda score: score >= self.iou_threshold)
        taken = set(ids)
        if self.reid_distance > 0:
            others = [t for t in self._tracks if t.id not in taken]
            self._match(dets, ids, others, lambda a, b: _centre_similarity(a, b, self.reid_distance),
                        lambda score: score > 0)
        for r, track_id in enumerate(ids):
            if track_id < 0:
                ids[r] = self._next_id
                self._tracks.append(_Track(self._next_id, dets[r], self._step))
                self._next_id += 1
        return ids

    def _match(self, dets: np.ndarray, ids: list[int], tracks: list[_Track], similarity: Any,
               accept: Any) -> None:
        """Assign the detections without an id yet to ``tracks`` (best total similarity)."""
        free = [r for r, track_id in enumerate(ids) if track_id < 0]
        if not free or not tracks:
            return
        sim = similarity(dets[free], np.stack([t.box for t in tracks]))
        rows, cols = _assign(sim)
        for r, c in zip(rows, cols, strict=True):
            if accept(sim[r, c]):
                track = tracks[c]
                track.box, track.last_seen = dets[free[r]], self._step
                ids[free[r]] = track.id

    def reset(self) -> None:
        """Forget every track (a new shot): the next faces get new ids."""
        self._tracks = []

    @property
    def live_tracks(self) -> int:
        """Tracks still held: seen in the last ``lost_age`` frames (those that can be re-found)."""
        return len(self._tracks)
