"""Multi-face video: ids kept through misses, new ids after a shot cut, a cap on faces per frame."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.errors import ConfigError
from fer_temporal import Analyzer, IoUTracker
from fer_temporal._cuts import CUT_THRESHOLD, ShotCuts


def test_a_face_missed_for_seconds_keeps_its_id_where_it_was():
    tracker = IoUTracker(max_age=3, lost_age=100)
    assert tracker.update([[100, 100, 140, 140], [300, 100, 340, 140]]) == [0, 1]
    for _ in range(50):  # the second face unseen for 50 frames (a hand in front, the detector blinks)
        assert tracker.update([[100, 100, 140, 140]]) == [0]
    # back 12 px to the side, a bit larger: no IoU match with a 50-frame-old box needed
    assert tracker.update([[100, 100, 140, 140], [312, 98, 356, 142]]) == [0, 1]
    # a face appearing far from every lost track is new
    assert tracker.update([[100, 100, 140, 140], [500, 200, 540, 240]]) == [0, 2]


def test_refinding_needs_a_similar_size_and_can_be_switched_off():
    tracker = IoUTracker(max_age=0, lost_age=100)
    tracker.update([[100, 100, 140, 140]])
    tracker.update([])
    tracker.update([])
    assert tracker.update([[90, 90, 190, 190]]) == [1]  # 2.5x larger in the same place: someone else
    off = IoUTracker(max_age=0, lost_age=100, reid_distance=0)
    off.update([[100, 100, 140, 140]])
    off.update([])
    off.update([])
    assert off.update([[104, 100, 144, 140]]) == [1]


def test_a_fast_face_keeps_its_id_when_iou_fails():
    tracker = IoUTracker()
    assert tracker.update([[0, 0, 20, 20]]) == [0]
    assert tracker.update([[15, 0, 35, 20]]) == [0]  # IoU 0.14 < 0.3, centres 0.75 face apart


def test_reset_gives_new_ids_never_reused():
    tracker = IoUTracker()
    assert tracker.update([[0, 0, 20, 20], [50, 0, 70, 20]]) == [0, 1]
    tracker.reset()
    assert tracker.update([[0, 0, 20, 20]]) == [2]


def test_tracker_settings_are_checked():
    with pytest.raises(ConfigError, match="lost_age"):
        IoUTracker(max_age=10, lost_age=5)
    with pytest.raises(ConfigError, match="reid_distance"):
        IoUTracker(reid_distance=-1)


def _scene(color: tuple[int, int, int], t: int) -> np.ndarray:
    """A 360x640 frame of one colour with slow noise-free motion (a moving bar)."""
    frame = np.empty((360, 640, 3), np.uint8)
    frame[:] = color
    frame[:, (t * 3) % 600:(t * 3) % 600 + 40] = (color[0] // 2, color[1] // 2, color[2] // 2)
    return frame


def test_shot_cuts_fire_once_at_a_change_of_picture_not_within_a_shot():
    cuts = ShotCuts()
    a = [cuts(_scene((40, 120, 200), t)) for t in range(20)]
    scores_within = cuts.last_score
    b = [cuts(_scene((220, 180, 30), t)) for t in range(20)]
    assert not any(a) and b.index(True) == 0 and sum(b) == 1
    assert scores_within < 5 < CUT_THRESHOLD


def test_a_cut_spread_over_two_frames_counts_once():
    cuts = ShotCuts(min_gap=5)
    frames = [_scene((40, 120, 200), 0)] * 3 + [np.zeros((360, 640, 3), np.uint8)] \
        + [_scene((220, 180, 30), 0)] * 3
    assert [cuts(f) for f in frames] == [False, False, False, True, False, False, False]


def test_shot_cut_settings_are_checked():
    with pytest.raises(ConfigError, match="threshold"):
        ShotCuts(threshold=0)


class _FixedFaces:
    """A detector that finds the same boxes in every frame (the tracker's and the cut's input)."""

    def __init__(self, boxes):
        self.boxes = boxes

    def __call__(self, frame):
        return list(self.boxes)


def _uniform(crops: np.ndarray) -> np.ndarray:
    return np.full((len(crops), 7), 1 / 7)


def test_analyzer_starts_new_ids_after_a_cut_and_records_it():
    frames = [_scene((40, 120, 200), t) for t in range(6)] + [_scene((220, 180, 30), t) for t in range(6)]
    boxes = [(100, 100, 160, 160, 0.9), (300, 100, 340, 140, 0.8)]
    analyzer = Analyzer(_uniform, _FixedFaces(boxes))
    rows = list(analyzer.rows(frames))
    ids = [(r["frame"], r["track_id"]) for r in rows]
    assert {i for f, i in ids if f < 6} == {0, 1} and {i for f, i in ids if f >= 6} == {2, 3}
    assert analyzer.stats.cuts == [6]
    same = Analyzer(_uniform, _FixedFaces(boxes), cut_threshold=None)
    assert {r["track_id"] for r in same.rows(frames)} == {0, 1} and same.stats.cuts == []


def test_max_faces_keeps_the_largest_in_their_order():
    boxes = [(10, 10, 30, 30, 0.99), (100, 100, 200, 200, 0.5), (300, 10, 360, 70, 0.7)]
    analyzer = Analyzer(_uniform, _FixedFaces(boxes), max_faces=2)
    rows = list(analyzer.rows([_scene((40, 120, 200), 0)]))
    assert [(r["x0"], r["y0"]) for r in rows] == [(100, 100), (300, 10)]
    with pytest.raises(ConfigError, match="max_faces"):
        Analyzer(_uniform, _FixedFaces(boxes), max_faces=0)


def test_a_cut_makes_the_following_detector_search_the_whole_frame():
    seen: list[tuple[int, int]] = []

    def detector(frame):
        seen.append(frame.shape[:2])
        return [(100, 100, 160, 160, 0.9)] if frame.shape[0] == 360 else [(40, 40, 100, 100, 0.9)]

    frames = [_scene((40, 120, 200), t) for t in range(3)] + [_scene((220, 180, 30), t) for t in range(3)]
    analyzer = Analyzer(_uniform, detector, redetect_every=10)
    list(analyzer.rows(frames))
    full = [i for i, shape in enumerate(seen) if shape == (360, 640)]
    assert full == [0, 3]  # the first frame, and the first frame of the new shot


def test_the_command_line_default_is_the_library_default():
    from fer_cli.commands.analyze import analyze

    option = next(p for p in analyze.params if p.name == "cut_threshold")
    assert option.default == CUT_THRESHOLD
